"""Replays core test tables under MicroPython (run by ``micropython_run.py``; see tables/__init__.py).

Usage: ``micropython mp_replay.py <compiled core dir> <dir holding tables/> <outcomes.json> <table> ...``.
``outcomes.json`` holds CPython's ``outcome(case)`` per table and case id: a case whose outcome here
differs fails as well. Prints ``FAIL <table> <id>: <problem>`` per failing case, ``TABLE <table> <passed> <failed>`` per
table and ``TOTAL <passed> <failed>`` at the end. Written for MicroPython and CPython alike.
"""

import json
import sys


def replay(name, expected):
    passed = failed = 0
    try:
        __import__("tables." + name)
        module = sys.modules["tables." + name]
    except Exception as error:  # a table that cannot even be imported is one failure
        print(f"FAIL {name} <import>: {error!r}")
        return 0, 1
    for case in module.CASES:
        try:
            problem = module.check(case)
            if problem is None and expected is not None:
                mine = module.outcome(case)
                theirs = expected.get(case["id"])
                if mine != theirs:
                    problem = f"differs from CPython: here {mine!r}, CPython {theirs!r}"
        except Exception as error:
            problem = f"check raised {error!r}"
        if problem is None:
            passed += 1
        else:
            failed += 1
            print("FAIL {} {}: {}".format(name, case.get("id"), problem))
    return passed, failed


def main():
    core_dir, tables_parent, outcomes_path = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, tables_parent)
    sys.path.insert(0, core_dir)
    with open(outcomes_path) as stream:
        outcomes = json.load(stream)
    total_passed = total_failed = 0
    for name in sys.argv[4:]:
        passed, failed = replay(name, outcomes.get(name))
        print(f"TABLE {name} {passed} {failed}")
        total_passed += passed
        total_failed += failed
    print(f"TOTAL {total_passed} {total_failed}")


main()
