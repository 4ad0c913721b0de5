"""The delivery note's checks and tally (``fmd_core.receiving``): the portable table, also replayed under
MicroPython."""

import datetime

import pytest
from table_loader import load_table

from fmd_core.receiving import day_number

TABLE = load_table("receiving")


@pytest.mark.parametrize("case", TABLE.CASES, ids=[case["id"] for case in TABLE.CASES])
def test_table(case):
    """Matching to a line, the six differences, counting, decommission only when clean, the tally."""
    assert TABLE.check(case) is None


@pytest.mark.parametrize("iso", ["2000-02-29", "2026-12-03", "2027-01-01", "2100-03-01", "1999-12-31"])
def test_day_number_counts_days_like_datetime(iso):
    assert day_number(iso) - day_number("2026-01-01") == (
        datetime.date.fromisoformat(iso) - datetime.date(2026, 1, 1)).days
