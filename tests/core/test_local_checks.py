"""Local checks that prevent alerts (OFFLINE-QUEUE.md section 5.2) and the pack view they read."""

import pytest

from fmd_core.local_checks import (
    ALREADY_DISPENSED_HERE,
    DISPENSE_PENDING,
    NO_DISPENSE_HERE,
    PACK_BLOCKED,
    UNDO_LIMIT_NS,
    UNDO_PERIOD_OVER,
    UNDO_TIME_UNKNOWN,
    OpFacts,
    PackView,
    check,
    view_from_ops,
)
from fmd_core.timekeeping import DAY_NS, HOUR_NS, ClockReading

T = 1_780_000_000 * 10**9
NOW = ClockReading(T, "b1", 100 * 10**9, True)
KEY = "GTIN:03400930000014:S1"

DONE_TRUSTED = PackView(
    KEY,
    "dispensed_here",
    dispense_seq=4,
    dispense_done=True,
    dispense_time_ns=T - DAY_NS,
    dispense_time_trusted=True,
    dispense_boot_id="b0",
    dispense_boottime_ns=1,
)

CASES = [
    # (kind, view, now, expected reason)
    ("verify", DONE_TRUSTED, NOW, None),
    ("dispense", None, NOW, None),
    ("dispense", PackView(KEY, dispense_seq=3), NOW, DISPENSE_PENDING),  # never "dispensed" before the answer
    ("dispense", PackView(KEY, dispense_seq=3, dispense_done=True), NOW, ALREADY_DISPENSED_HERE),
    ("dispense", PackView(KEY, blocked_seq=2), NOW, PACK_BLOCKED),
    ("verify", PackView(KEY, blocked_seq=2), NOW, None),
    ("undo_dispense", None, NOW, NO_DISPENSE_HERE),
    ("undo_dispense", PackView(KEY, local_state="active"), NOW, NO_DISPENSE_HERE),
    ("undo_dispense", PackView(KEY, dispense_seq=3, dispense_done=False), NOW, None),  # pending dispense
    ("undo_dispense", DONE_TRUSTED, NOW, None),
    ("undo_dispense", DONE_TRUSTED, ClockReading(T + 9 * DAY_NS - 2 * HOUR_NS, "b1", 0, True), None),
    ("undo_dispense", DONE_TRUSTED, ClockReading(T + 9 * DAY_NS - HOUR_NS, "b1", 0, True), UNDO_PERIOD_OVER),
    ("undo_dispense", DONE_TRUSTED, ClockReading(T + 12 * DAY_NS, "b1", 0, True), UNDO_PERIOD_OVER),
    # unsynchronised clock, dispense answered in an earlier boot: cannot bound the gap
    ("undo_dispense", DONE_TRUSTED, ClockReading(T, "b1", 0, False), UNDO_TIME_UNKNOWN),
    # unsynchronised, but answered in this boot: boottime bounds it
    (
        "undo_dispense",
        PackView(
            KEY,
            dispense_seq=3,
            dispense_done=True,
            dispense_time_ns=T,
            dispense_time_trusted=True,
            dispense_boot_id="b1",
            dispense_boottime_ns=10**9,
        ),
        ClockReading(0, "b1", 10**9 + UNDO_LIMIT_NS - 1, False),
        None,
    ),
    (
        "undo_dispense",
        PackView(
            KEY,
            dispense_seq=3,
            dispense_done=True,
            dispense_time_ns=T,
            dispense_time_trusted=True,
            dispense_boot_id="b1",
            dispense_boottime_ns=10**9,
        ),
        ClockReading(0, "b1", 10**9 + UNDO_LIMIT_NS, False),
        UNDO_PERIOD_OVER,
    ),
    ("undo_dispense", PackView(KEY, dispense_seq=3, blocked_seq=5), NOW, PACK_BLOCKED),
]


@pytest.mark.parametrize(("kind", "view", "now", "expected"), CASES)
def test_local_check(kind, view, now, expected):
    refusal = check(kind, view, now)
    assert (refusal.reason if refusal else None) == expected


def test_refusal_points_at_the_earlier_dispense():
    refusal = check("dispense", DONE_TRUSTED, NOW)
    assert (refusal.seq, refusal.since_wall_ns) == (4, T - DAY_NS)


def test_a_pending_dispense_is_awaiting_answer_with_its_age():
    """Issue 11, item 4: the age counts from when the pending dispense was recorded (boottime in its
    boot, else the synchronised wall clock); None when neither can tell."""
    view = view_from_ops(KEY, [OpFacts(3, "dispense", "queued", wall_corrected_ns=T - 90 * 10**9, boot_id="b1",
                                       boottime_ns=40 * 10**9)])
    refusal = check("dispense", view, NOW)
    assert (refusal.reason, refusal.seq, refusal.age_ns) == (DISPENSE_PENDING, 3, 60 * 10**9)
    other_boot = ClockReading(T, "b2", 10**9, True)
    assert check("dispense", view, other_boot).age_ns == 90 * 10**9
    assert check("dispense", view, ClockReading(T, "b2", 10**9, False)).age_ns is None


VIEW_CASES = [
    # ops (seq, kind, state, ref_seq) -> (dispense_seq, dispense_done, blocked_seq, local_state)
    ([], (None, False, None, "unknown")),
    ([(1, "dispense", "queued", None)], (1, False, None, "dispensed_here")),
    ([(1, "dispense", "done", None)], (1, True, None, "dispensed_here")),
    ([(1, "dispense", "rejected", None)], (None, False, None, "unknown")),
    ([(1, "dispense", "done", None), (2, "undo_dispense", "queued", 1)], (None, False, None, "unknown")),
    (
        [(1, "dispense", "done", None), (2, "undo_dispense", "cancelled", 1)],
        (1, True, None, "dispensed_here"),
    ),
    ([(1, "dispense", "uncertain", None)], (1, False, 1, "dispensed_here")),
    (
        [
            (1, "verify", "done", None),
            (2, "dispense", "needs_attention", None),
            (3, "verify", "queued", None),
        ],
        (2, False, 2, "dispensed_here"),
    ),
    (
        [(1, "dispense", "done", None), (2, "undo_dispense", "done", 1), (3, "dispense", "queued", None)],
        (3, False, None, "dispensed_here"),
    ),
]


@pytest.mark.parametrize(("ops", "expected"), VIEW_CASES)
def test_view_from_ops(ops, expected):
    facts = [OpFacts(seq, kind, state, ref) for seq, kind, state, ref in ops]
    view = view_from_ops(KEY, facts)
    assert (view.dispense_seq, view.dispense_done, view.blocked_seq, view.local_state) == expected
    assert view.last_seq == (ops[-1][0] if ops else None)


def test_view_prefers_the_service_time():
    facts = [OpFacts(1, "dispense", "done", svc_time_ns=5, wall_corrected_ns=9, pack_state_after="Supplied")]
    view = view_from_ops(KEY, facts)
    assert (view.dispense_time_ns, view.dispense_time_trusted) == (5, True)
    facts = [OpFacts(1, "dispense", "queued", wall_corrected_ns=9)]
    view = view_from_ops(KEY, facts)
    assert (view.dispense_time_ns, view.dispense_time_trusted) == (9, False)


def test_view_remembers_the_last_known_state():
    view = view_from_ops(KEY, [OpFacts(1, "verify", "done", pack_state_after="Destroyed")])
    assert view.local_state == "inactive_other"
    view = view_from_ops(KEY, [OpFacts(1, "verify", "done", pack_state_after="Active")])
    assert view.local_state == "active"
