"""The answer classifier and the transitions of OFFLINE-QUEUE.md section 4 (tables), pacing (6.2), time (7)."""

import random

import pytest

from fmd_core import link, op_states
from fmd_core.op_states import (
    DONE,
    NEEDS_ATTENTION,
    QUEUED,
    REJECTED,
    UNCERTAIN,
    after_person,
    after_reconcile,
    after_restart,
    after_restore,
    after_send,
    backlog_alarm,
    classify,
)
from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, ServiceAnswer
from fmd_core.timekeeping import SECOND_NS, Anchor, ClockReading, correct_time, wall_quality


def A(status=200, code=None, transport=ANSWERED, error=None, **kw):
    return ServiceAnswer(
        transport=transport,
        transport_error=error,
        http_status=status,
        operation_code=None if code is None else "NMVS_" + code,
        **kw,
    )


CLASSES = [
    (A(200, "SUCCESS"), "success"),
    (A(409, "NC_PCK_22"), "refused"),
    (A(200, "NC_PC_02"), "refused"),
    (A(409, "FE_LOT_01"), "refused"),
    (A(409, "NC_PCK_20"), "refused"),
    (A(400, "TE_JS_01"), "invalid"),
    (A(400, "FE_GR_01"), "invalid"),
    (A(None, transport=NOT_SENT, error="refused"), "not_sent"),
    (A(None, transport=NOT_SENT, error="dns"), "not_sent"),
    (A(None, transport=NOT_SENT, error="tls_handshake"), "not_sent"),
    (A(429, "FI_SE_CLI_01"), "retry_later"),
    (A(503, "ERROR"), "retry_later"),
    (A(500, "ERROR"), "unknown"),
    (A(500, "TI_TO_01"), "unknown"),
    (A(502), "unknown"),
    (A(None, transport=NO_ANSWER, error="read_timeout"), "unknown"),
    (A(200, transport=NO_ANSWER, error="bad_body"), "unknown"),
    (A(409, "TE_TX_01"), "duplicate_id"),
    (A(401, "FE_AU_01"), "pause_auth"),
    (A(403, "FE_BR_01"), "pause_auth"),
    (A(401, "FE_PKI_01"), "pause_cert"),
    (A(None, transport=NOT_SENT, error="tls_client_cert"), "pause_cert"),
    (A(404), "pause_software"),
    (A(422), "pause_software"),
]


@pytest.mark.parametrize(("answer", "expected"), CLASSES)
def test_classify(answer, expected):
    assert classify(answer) == expected


@pytest.mark.parametrize("error", ["tls_server_cert_not_yet_valid", "tls_server_cert_expired"])
def test_certificate_validity_pauses_only_with_an_unsynchronised_clock(error):
    answer = A(None, transport=NOT_SENT, error=error)
    assert classify(answer, clock_synced=False) == "pause_clock"
    assert classify(answer, clock_synced=True) == "not_sent"


SENDS = [
    # (kind, origin, class, code, after_uncertain) -> (state, reconciled, pause)   transition
    ("dispense", "live", "success", "SUCCESS", False, (DONE, None, None)),  # 3
    ("dispense", "live", "refused", "NC_PCK_22", False, (REJECTED, None, None)),  # 4
    ("dispense", "live", "invalid", "TE_JS_01", False, (REJECTED, None, None)),  # 4
    ("dispense", "deferred", "refused", "NC_PCK_22", False, (NEEDS_ATTENTION, None, None)),  # 5
    ("dispense", "deferred", "not_sent", "", False, (QUEUED, None, None)),  # 6
    ("dispense", "deferred", "retry_later", "FI_SE_CLI_01", False, (QUEUED, None, None)),  # 6
    ("dispense", "deferred", "unknown", "ERROR", False, (UNCERTAIN, None, None)),  # 7
    ("dispense", "deferred", "duplicate_id", "TE_TX_01", False, (UNCERTAIN, None, None)),  # 7
    ("verify", "deferred", "unknown", "", False, (QUEUED, None, None)),  # 7, verify
    ("dispense", "deferred", "pause_auth", "FE_AU_01", False, (QUEUED, None, "pause_auth")),  # 8
    ("dispense", "deferred", "refused", "NC_PCK_23", True, (DONE, "duplicate_answer", None)),  # 16
    ("dispense", "deferred", "refused", "NC_PCK_23", False, (NEEDS_ATTENTION, None, None)),  # not 16
    ("dispense", "deferred", "refused", "NC_PCK_19", True, (NEEDS_ATTENTION, None, None)),  # 16 excludes 19
]


@pytest.mark.parametrize(("kind", "origin", "klass", "code", "after_uncertain", "expected"), SENDS)
def test_after_send(kind, origin, klass, code, after_uncertain, expected):
    outcome = after_send(kind, origin, klass, code, after_uncertain)
    assert (outcome.state, outcome.reconciled, outcome.pause) == expected


def V(state, reasons=(), alert=None):
    return ServiceAnswer(
        http_status=200,
        operation_code="NMVS_SUCCESS",
        state=state,
        reasons=reasons,
        alert_id=alert,
        alert_code="A3" if alert else None,
    )


RECONCILES = [
    # (kind, verify answer, class, duplicate_seen, renewals) -> (state, reconciled, new_trx_id)
    ("dispense", V("Supplied", ("SUPPLIED",)), "success", False, 0, (DONE, "verify", False)),  # 11
    ("undo_dispense", V("Active"), "success", False, 0, (DONE, "verify", False)),  # 11
    ("dispense", V("Active"), "success", False, 0, (QUEUED, None, False)),  # 12
    ("undo_dispense", V("Supplied", ("SUPPLIED",)), "success", False, 0, (QUEUED, None, False)),  # 12
    ("dispense", V("Active"), "success", True, 0, (QUEUED, None, True)),  # 13, once
    ("dispense", V("Active"), "success", True, 1, (NEEDS_ATTENTION, None, False)),  # 13, second time
    ("dispense", V("Destroyed", ("DESTROYED",)), "success", False, 0, (NEEDS_ATTENTION, None, False)),  # 14
    ("dispense", V("NotFound", alert="X1"), "refused", False, 0, (NEEDS_ATTENTION, None, False)),  # 14
    ("dispense", V("Active", ("EXPIRED",)), "success", False, 0, (QUEUED, None, False)),  # overlay only: 12
    ("dispense", A(503, "ERROR"), "retry_later", False, 0, (UNCERTAIN, None, False)),  # 15
    ("dispense", A(None, transport=NO_ANSWER), "unknown", False, 0, (UNCERTAIN, None, False)),  # 15
]


@pytest.mark.parametrize(("kind", "answer", "klass", "dup", "renewals", "expected"), RECONCILES)
def test_after_reconcile(kind, answer, klass, dup, renewals, expected):
    outcome = after_reconcile(kind, answer, klass, dup, renewals)
    assert (outcome.state, outcome.reconciled, outcome.new_trx_id) == expected


def test_restart_and_restore():
    assert after_restart("in_flight", "dispense", False) == UNCERTAIN  # 9
    assert after_restart("in_flight", "verify", False) == QUEUED  # 9
    assert after_restart("in_flight", "dispense", True) == "in_flight"  # 9, results_ref stored
    assert after_restart("queued", "dispense", False) == QUEUED
    assert after_restore("queued", "dispense") == UNCERTAIN  # 10
    assert after_restore("queued", "verify") == QUEUED
    assert after_restore("done", "dispense") == DONE


def test_person_actions():
    assert after_person(NEEDS_ATTENTION, "retry")[0].state == QUEUED
    assert after_person(NEEDS_ATTENTION, "retry")[0].new_trx_id
    assert after_person(NEEDS_ATTENTION, "accept")[0].state == REJECTED
    assert after_person(NEEDS_ATTENTION, "cancel", "scanned_by_mistake")[0].state == "cancelled"
    assert after_person(NEEDS_ATTENTION, "cancel")[0] is None
    assert after_person(NEEDS_ATTENTION, "cancel", "other")[0] is None
    assert after_person(NEEDS_ATTENTION, "cancel", "other", "lost at the counter")[0].state == "cancelled"
    assert after_person(DONE, "accept")[0] is None


def test_undo_guard():
    assert op_states.undo_must_stop(REJECTED, None)
    assert op_states.undo_must_stop("cancelled", 5)
    assert op_states.undo_must_stop(DONE, 0)
    assert not op_states.undo_must_stop(DONE, 1)
    assert not op_states.undo_must_stop(QUEUED, None)


@pytest.mark.parametrize(
    ("age_s", "attention", "paused", "level"),
    [
        (None, 0, None, None),
        (60, 0, None, None),
        (15 * 60, 0, None, "amber"),
        (4 * 3600, 0, None, "red"),
        (None, 2, None, None),
        (None, 0, "pause_clock", "amber"),
        (5 * 3600, 0, "pause_auth", "red"),
    ],
)
def test_backlog_alarm(age_s, attention, paused, level):
    got_level, text = backlog_alarm(None if age_s is None else age_s * SECOND_NS, 7, attention, paused)
    assert got_level == level
    if level == "amber" and not paused:
        assert text.startswith("7 waiting")
    if attention:
        assert "2 to resolve" in text


# -- pacing (section 6.2) ---------------------------------------------------------------------------


def test_backoff_full_jitter_bounds():
    assert link.backoff_ns(0, 0.9) == 0
    assert link.backoff_ns(1, 1.0) == 2 * SECOND_NS
    assert link.backoff_ns(3, 0.5) == 4 * SECOND_NS
    assert link.backoff_ns(30, 1.0) == 300 * SECOND_NS
    rng = random.Random(1)
    draws = [link.backoff_ns(4, rng.random()) for _ in range(200)]
    assert min(draws) < 2 * SECOND_NS and max(draws) > 14 * SECOND_NS and max(draws) <= 16 * SECOND_NS


def test_retry_after_wins_and_is_capped():
    assert link.wait_ns(1, 0.0, retry_after_s=30) == 30 * SECOND_NS
    assert link.wait_ns(8, 1.0, retry_after_s=1) == 256 * SECOND_NS
    assert link.wait_ns(1, 0.0, retry_after_s=7200) == 3600 * SECOND_NS


def test_breaker_is_closed_at_start_and_one_probe_closes_it():
    """OFFLINE-QUEUE.md 6.2 (corrected): closed at process start; one successful probe closes it."""
    b = link.Breaker()
    t = 0
    assert b.state == link.CLOSED and b.allows_send(t) and not b.known_down(t) and not b.probe_due(t)
    for _ in range(4):
        assert not b.on_failure(t, 0.5)
    assert b.on_failure(t, 0.5) and b.state == link.OPEN
    assert not b.probe_due(t + 29 * SECOND_NS)
    assert b.probe_due(t + 30 * SECOND_NS) and b.state == link.HALF_OPEN
    b.probed(t + 30 * SECOND_NS)
    b.on_failure(t + 30 * SECOND_NS, 0.5)  # a failed probe reopens, doubling the wait
    assert b.state == link.OPEN and b.reopen_at_ns == t + 30 * SECOND_NS + 60 * SECOND_NS
    t = b.reopen_at_ns
    assert b.probe_due(t)
    b.probed(t)
    assert b.on_success(t) and b.state == link.CLOSED and b.allows_send(t) and not b.known_down(t)


def test_a_refused_connection_opens_at_once():
    b = link.Breaker()
    assert b.on_failure(0, 0.5, at_once=True) and b.state == link.OPEN


def test_a_live_scan_asks_for_a_probe_at_once_at_most_one_per_gap():
    """A live scan is a reason to probe now, while the link is known down (open, or a link failure in
    the past 10 s), at most one probe every 2 s; a healthy link is never probed."""
    b = link.Breaker()
    assert b.want_probe(0) == 0 and not b.probe_due(0)  # healthy: the scan is sent, not probed
    t = 5 * SECOND_NS
    b.on_failure(t, 0.5)  # one 503: still closed, but known down for 10 s
    assert b.state == link.CLOSED and b.known_down(t + 9 * SECOND_NS) and not b.known_down(t + 10 * SECOND_NS)
    assert not b.probe_due(t)  # nobody asked
    assert b.want_probe(t) == t and b.probe_due(t)
    b.probed(t)
    b.on_failure(t, 0.5)
    assert b.want_probe(t + SECOND_NS) == t + 2 * SECOND_NS  # the gap
    assert not b.probe_due(t + SECOND_NS) and b.probe_due(t + 2 * SECOND_NS)
    assert b.next_event_ns(t + SECOND_NS) == t + 2 * SECOND_NS
    b.probed(t + 2 * SECOND_NS)
    assert b.on_success(t + 2 * SECOND_NS) is False  # it was closed: nothing to close
    assert not b.known_down(t + 2 * SECOND_NS) and not b.probe_due(t + 10 * SECOND_NS)


def test_while_open_a_live_scan_probes_before_the_timer():
    b = link.Breaker()
    b.on_failure(0, 0.5, at_once=True)
    t = SECOND_NS
    assert not b.probe_due(t)  # the 30 s timer alone would wait
    b.want_probe(t)
    assert b.probe_due(t)
    b.probed(t)
    assert b.on_success(t) and b.state == link.CLOSED


def test_breaker_wait_doubles_up_to_the_cap():
    b = link.Breaker()
    t = 0
    b.on_failure(t, 0.5, at_once=True)
    for _ in range(10):
        t = b.reopen_at_ns
        assert b.probe_due(t)
        b.probed(t)
        b.on_failure(t, 0.5)
    assert b.reopen_at_ns - t == 600 * SECOND_NS


def _sends_within(bucket, t, seconds):
    """How many requests the bucket lets through in ``seconds`` from ``t``; returns (sent, end)."""
    sent, end = 0, t + seconds * SECOND_NS
    while t <= end:
        wait = bucket.delay_ns(t)
        if wait:
            t += wait
            continue
        bucket.take(t)
        sent += 1
    return sent, t


def test_token_bucket_caps_the_rate_and_halves_after_429():
    bucket = link.TokenBucket(5, 5)
    sent, t = _sends_within(bucket, 0, 10)
    assert 54 <= sent <= 56  # 5 burst + 5/s over 10 s
    bucket.throttled(t)
    sent, t = _sends_within(bucket, t, 10)
    assert 24 <= sent <= 27


# -- time (section 7) -------------------------------------------------------------------------------


def test_wall_quality():
    assert wall_quality(ClockReading(10, "b", 0, True), 0) == "synced"
    assert wall_quality(ClockReading(10, "b", 0, False), 10) == "plausible"
    assert wall_quality(ClockReading(9, "b", 0, False), 10) == "stale"
    assert wall_quality(ClockReading(9, "b", 0, True), 0, build_time_ns=10) == "stale"


def test_correct_time_cases():
    anchors = [Anchor("b1", 100, 1000), Anchor("b1", 500, 1450), Anchor("b2", 50, 5000)]
    boots = ["b1", "b2", "b3"]
    assert correct_time(7, "b1", 80, "synced", anchors, boots) == (7, "exact")
    assert correct_time(7, "b1", 80, "plausible", anchors, boots) == (980, "corrected")  # nearest: first
    assert correct_time(7, "b1", 400, "stale", anchors, boots) == (1350, "corrected")  # nearest: second
    assert correct_time(7, "b3", 30, "stale", anchors, boots) == (5030, "bounded")  # b2's last + boottime
    assert correct_time(7, "b0", 30, "stale", anchors, boots) == (7, "unknown")
