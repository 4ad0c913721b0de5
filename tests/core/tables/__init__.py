"""Core test tables: plain data that pytest parametrizes and MicroPython replays.

The convention (ARCHITECTURE.md, "Tests": tables over prose), one module per table in this folder:

- ``CASES``: a list (or tuple) of cases. A case is a plain dict of str/int/None/bool/list/dict with at
  least an ``"id"`` (unique within the table, used as the pytest id).
- ``check(case)``: runs the code under test on one case and returns ``None`` when it behaves as the
  case says, or a one-line string saying what differed. It never raises for a failing case.

The module must import on CPython and on the MicroPython unix port: import only ``fmd_core`` and
other modules of this folder, no pytest, no ``typing``/``re``/``dataclasses`` (the portable core's
rules). ``tests/core/micropython_run.py`` discovers every ``tests/core/tables/*.py`` (except this
file) and runs ``check`` over ``CASES`` under ``micropython`` against the ``mpy-cross``-compiled core
(``make test`` runs it first). Under CPython each table has a pytest file that loads it by path and
parametrizes ``check`` over ``CASES``, one item per case (e.g. ``tests/core/test_pack_codes.py``).
Adding a table is adding a module here: the MicroPython run picks it up without further change.
"""
