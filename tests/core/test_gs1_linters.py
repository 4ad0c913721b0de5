"""The Syntax Dictionary's linters (table ``tables/gs1_linters.py``, also replayed on MicroPython)."""

from __future__ import annotations

import pytest
from table_loader import load_table

TABLE = load_table("gs1_linters")


@pytest.mark.parametrize("case", TABLE.CASES, ids=[case["id"] for case in TABLE.CASES])
def test_case(case):
    assert TABLE.check(case) is None


def test_check_reports_a_wrong_expectation():
    case = dict(TABLE.CASES[0], reason="invalid_value")
    assert "expected invalid_value" in TABLE.check(case)
