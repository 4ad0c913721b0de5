"""The outbox decisions table (``tables/outbox_decisions.py``), parametrized for pytest; the same
cases are replayed under MicroPython by ``micropython_run.py``."""


import pytest
from table_loader import load_table


def _load_table():
    return load_table("outbox_decisions")


TABLE = _load_table()


@pytest.mark.parametrize("case", TABLE.CASES, ids=[c["id"] for c in TABLE.CASES])
def test_outbox_decision(case):
    assert TABLE.check(case) is None


def test_ids_are_unique():
    ids = [c["id"] for c in TABLE.CASES]
    assert len(ids) == len(set(ids))
