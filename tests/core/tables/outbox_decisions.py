"""The outbox's pure decisions as a table (OFFLINE-QUEUE.md sections 4.1, 4.2, 5.2, 6.2), replayed on
CPython (tests/core/test_outbox_tables.py) and on MicroPython (micropython_run.py).

Each case names a ``fn`` and its arguments as plain data:

- ``classify``: ``answer`` (ServiceAnswer fields), ``synced`` -> ``expect`` (the answer class);
- ``after_send``: ``kind``, ``origin``, ``klass``, ``code``, ``after_uncertain`` -> ``expect`` [state, reconciled];
- ``after_reconcile``: ``kind``, ``answer``, ``klass``, ``duplicate_seen``, ``renewals`` ->
  ``expect`` [state, new_trx_id];
- ``local_check``: ``kind``, ``view`` (PackView fields or None), ``now`` [wall_ns, boot_id, boottime_ns,
  synced] -> ``expect`` (refusal reason or None);
- ``backoff``: ``failures``, ``draw``, ``retry_after_s`` -> ``expect`` (wait in ns).
"""

from fmd_core import link, local_checks, op_states
from fmd_core.service import ServiceAnswer
from fmd_core.timekeeping import ClockReading

S = 1000000000
DAY = 86400 * S
T = 1780000000 * S


def _answer(fields):
    return ServiceAnswer(**fields)


def _c(id_, answer, expect, synced=True):
    return {"id": id_, "fn": "classify", "answer": answer, "synced": synced, "expect": expect}


def _s(id_, kind, origin, klass, code, after_uncertain, state, reconciled=None):
    return {"id": id_, "fn": "after_send", "kind": kind, "origin": origin, "klass": klass, "code": code,
            "after_uncertain": after_uncertain, "expect": [state, reconciled]}


def _r(id_, kind, answer, klass, dup, renewals, state, new_id=False):
    return {"id": id_, "fn": "after_reconcile", "kind": kind, "answer": answer, "klass": klass,
            "duplicate_seen": dup, "renewals": renewals, "expect": [state, new_id]}


def _l(id_, kind, view, now, expect):
    return {"id": id_, "fn": "local_check", "kind": kind, "view": view, "now": now, "expect": expect}


SUPPLIED = {"http_status": 200, "operation_code": "NMVS_SUCCESS", "state": "Supplied", "reasons": ["SUPPLIED"]}
ACTIVE = {"http_status": 200, "operation_code": "NMVS_SUCCESS", "state": "Active", "reasons": []}
DONE_VIEW = {"pack_key": "k", "dispense_seq": 3, "dispense_done": True, "dispense_time_ns": T,
             "dispense_time_trusted": True, "dispense_boot_id": "b0", "dispense_boottime_ns": 1}

CASES = [
    _c("success", {"http_status": 200, "operation_code": "NMVS_SUCCESS"}, "success"),
    _c("refused-409", {"http_status": 409, "operation_code": "NMVS_NC_PCK_22"}, "refused"),
    _c("refused-verify-alert", {"http_status": 200, "operation_code": "NMVS_NC_PC_02"}, "refused"),
    _c("invalid-400", {"http_status": 400, "operation_code": "NMVS_TE_JS_01"}, "invalid"),
    _c("not-sent", {"transport": "not_sent", "transport_error": "refused"}, "not_sent"),
    _c("retry-429", {"http_status": 429, "operation_code": "NMVS_FI_SE_CLI_01"}, "retry_later"),
    _c("retry-503", {"http_status": 503, "operation_code": "NMVS_ERROR"}, "retry_later"),
    _c("unknown-500", {"http_status": 500, "operation_code": "NMVS_ERROR"}, "unknown"),
    _c("unknown-timeout", {"transport": "no_answer", "transport_error": "read_timeout"}, "unknown"),
    _c("unknown-bad-body", {"transport": "no_answer", "transport_error": "bad_body", "http_status": 200}, "unknown"),
    _c("duplicate-id", {"http_status": 409, "operation_code": "NMVS_TE_TX_01"}, "duplicate_id"),
    _c("pause-auth", {"http_status": 401, "operation_code": "NMVS_FE_AU_01"}, "pause_auth"),
    _c("pause-cert", {"http_status": 401, "operation_code": "NMVS_FE_PKI_01"}, "pause_cert"),
    _c("pause-software", {"http_status": 404}, "pause_software"),
    _c("pause-clock", {"transport": "not_sent", "transport_error": "tls_server_cert_expired"}, "pause_clock",
       synced=False),
    _c("cert-expired-synced", {"transport": "not_sent", "transport_error": "tls_server_cert_expired"}, "not_sent"),
    _s("t3-done", "dispense", "live", "success", "SUCCESS", False, "done"),
    _s("t4-rejected", "dispense", "live", "refused", "NC_PCK_22", False, "rejected"),
    _s("t5-attention", "dispense", "deferred", "refused", "NC_PCK_22", False, "needs_attention"),
    _s("t6-queued", "dispense", "deferred", "not_sent", "", False, "queued"),
    _s("t7-uncertain", "dispense", "deferred", "unknown", "ERROR", False, "uncertain"),
    _s("t7-verify-resent", "verify", "deferred", "unknown", "", False, "queued"),
    _s("t8-pause", "dispense", "live", "pause_auth", "FE_AU_01", False, "queued"),
    _s("t16-duplicate-answer", "dispense", "deferred", "refused", "NC_PCK_23", True, "done", "duplicate_answer"),
    _s("t16-not-after-19", "dispense", "deferred", "refused", "NC_PCK_19", True, "needs_attention"),
    _r("t11-confirmed", "dispense", SUPPLIED, "success", False, 0, "done"),
    _r("t11-undo-confirmed", "undo_dispense", ACTIVE, "success", False, 0, "done"),
    _r("t12-resend-same-id", "dispense", ACTIVE, "success", False, 0, "queued"),
    _r("t13-new-id-once", "dispense", ACTIVE, "success", True, 0, "queued", True),
    _r("t13-second-time", "dispense", ACTIVE, "success", True, 1, "needs_attention"),
    _r("t14-other-state", "dispense", {"http_status": 200, "operation_code": "NMVS_SUCCESS", "state": "Destroyed",
                                       "reasons": ["DESTROYED"]}, "success", False, 0, "needs_attention"),
    _r("t15-verify-failed", "dispense", {"http_status": 503}, "retry_later", False, 0, "uncertain"),
    _l("verify-always", "verify", DONE_VIEW, [T, "b1", 0, True], None),
    _l("second-dispense-pending", "dispense", {"pack_key": "k", "dispense_seq": 2}, [T, "b1", 0, True],
       "dispense_pending"),
    _l("second-dispense-answered", "dispense", {"pack_key": "k", "dispense_seq": 2, "dispense_done": True},
       [T, "b1", 0, True], "already_dispensed_here"),
    _l("blocked", "dispense", {"pack_key": "k", "blocked_seq": 2}, [T, "b1", 0, True], "pack_blocked"),
    _l("undo-without-dispense", "undo_dispense", None, [T, "b1", 0, True], "no_dispense_here"),
    _l("undo-in-time", "undo_dispense", DONE_VIEW, [T + 9 * DAY, "b1", 0, True], None),
    _l("undo-too-late", "undo_dispense", DONE_VIEW, [T + 10 * DAY - 3600 * S, "b1", 0, True], "undo_period_over"),
    _l("undo-time-unknown", "undo_dispense", DONE_VIEW, [T, "b1", 0, False], "undo_time_unknown"),
    {"id": "backoff-jitter", "fn": "backoff", "failures": 3, "draw": 0.5, "retry_after_s": None, "expect": 4 * S},
    {"id": "backoff-cap", "fn": "backoff", "failures": 30, "draw": 1.0, "retry_after_s": None, "expect": 300 * S},
    {"id": "retry-after-wins", "fn": "backoff", "failures": 1, "draw": 0.0, "retry_after_s": 30, "expect": 30 * S},
    {"id": "retry-after-capped", "fn": "backoff", "failures": 1, "draw": 0.0, "retry_after_s": 7200,
     "expect": 3600 * S},
]


def _got(case):
    fn = case["fn"]
    if fn == "classify":
        return op_states.classify(_answer(case["answer"]), case["synced"])
    if fn == "after_send":
        o = op_states.after_send(case["kind"], case["origin"], case["klass"], case["code"], case["after_uncertain"])
        return [o.state, o.reconciled]
    if fn == "after_reconcile":
        o = op_states.after_reconcile(case["kind"], _answer(case["answer"]), case["klass"], case["duplicate_seen"],
                                      case["renewals"])
        return [o.state, o.new_trx_id]
    if fn == "local_check":
        view = None if case["view"] is None else local_checks.PackView(**case["view"])
        refusal = local_checks.check(case["kind"], view, ClockReading(*case["now"]))
        return None if refusal is None else refusal.reason
    if fn == "backoff":
        return link.wait_ns(case["failures"], case["draw"], case["retry_after_s"])
    return "unknown fn " + fn


def check(case):
    got = _got(case)
    if got != case["expect"]:
        return "expected {!r}, got {!r}".format(case["expect"], got)
    return None
