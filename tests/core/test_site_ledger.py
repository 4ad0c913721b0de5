"""The site ledger's rules (``fmd_core.site_ledger``): the portable table, also replayed under MicroPython."""

import pytest
from table_loader import load_table

TABLE = load_table("site_ledger")


@pytest.mark.parametrize("case", TABLE.CASES, ids=[case["id"] for case in TABLE.CASES])
def test_table(case):
    """Claims, ledger blocks, the NC_PCK_22 explanation and the merge of entries."""
    assert TABLE.check(case) is None
