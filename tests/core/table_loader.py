"""Load one table of ``tests/core/tables/`` for pytest (CPython only).

Each table is a plain module with ``CASES`` and ``check(case)`` that MicroPython also replays
(``tests/core/micropython_run.py``); pytest loads it from its file under a private module name, so
that every test module gets its own fresh copy.
"""

import importlib.util
import pathlib

TABLES = pathlib.Path(__file__).resolve().parent / "tables"


def load_table(name: str):
    """The module ``tests/core/tables/<name>.py``, freshly executed."""
    spec = importlib.util.spec_from_file_location("_fmd_tables_" + name, TABLES / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
