"""The queue on the screen (issue 5, item 3): ``outcomes.queue_notice`` and ``outcomes.alarm_rise``.

OFFLINE-QUEUE.md 6.4: amber after 15 min, red after 4 h (age of the oldest op still to send); 2.3: a
storage fault is red; 4.3 and 8: a pause and the ops needing a person change the badge only. Priority:
storage fault > 4 h > pause > attention > 15 min > pending count; never green.
"""

import itertools

import pytest
from table_loader import load_table

from fmd_core import outcomes as O

MIN = 60.0
HOUR = 3600.0


def _table():
    return load_table("queue_notices")


TABLE = _table()


@pytest.mark.parametrize("case", TABLE.CASES, ids=[case["id"] for case in TABLE.CASES])
def test_table(case):
    """Each level, the priority and the rising signal (the same table runs under MicroPython)."""
    assert TABLE.check(case) is None


def test_the_table_catches_a_wrong_answer():
    case = dict(TABLE.CASES[3], level=None)  # 15 min but no light: the check must say so
    assert TABLE.check(case) is not None


def test_never_green_and_counts_are_kept():
    ages = (None, 0.0, 15 * MIN, 4 * HOUR)
    for age, paused, attention, storage in itertools.product(ages, (None, "pause_clock"), (0, 3), (None, "x")):
        q = O.queue_notice({"pending": 7, "attention": attention, "oldest_age_s": age, "paused": paused,
                            "storage": storage})
        assert q.level in (None, O.AMBER, O.RED) and q.kind in O.QUEUE_NOTICE_KINDS
        assert (q.pending, q.attention, q.paused) == (7, attention, paused)


def test_notices_compare_by_value():
    a = O.queue_notice({"pending": 2, "oldest_age_s": 20 * MIN})
    assert a == O.queue_notice({"pending": 2, "oldest_age_s": 30 * MIN})
    assert a != O.queue_notice({"pending": 3, "oldest_age_s": 20 * MIN})
