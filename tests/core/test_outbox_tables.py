"""The outbox decisions table (``tables/outbox_decisions.py``), parametrized for pytest; the same
cases are replayed under MicroPython by ``micropython_run.py``."""

import importlib.util
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def _load_table():
    spec = importlib.util.spec_from_file_location("_fmd_tables_outbox", HERE / "tables" / "outbox_decisions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLE = _load_table()


@pytest.mark.parametrize("case", TABLE.CASES, ids=[c["id"] for c in TABLE.CASES])
def test_outbox_decision(case):
    assert TABLE.check(case) is None


def test_ids_are_unique():
    ids = [c["id"] for c in TABLE.CASES]
    assert len(ids) == len(set(ids))
