"""The operation state machine and the answer classifier (OFFLINE-QUEUE.md section 4).

Pure and portable (CPython and MicroPython). The outbox (``fmd_terminal.outbox.sqlite``) applies
what these functions decide inside the transaction that stores the answer; the sync worker decides
what to send next from the same states. Return codes are compared without their ``NMVS_`` prefix.
"""

from fmd_core.service import ANSWERED, NOT_SENT

# States (section 4.1)
QUEUED = "queued"
IN_FLIGHT = "in_flight"
UNCERTAIN = "uncertain"
DONE = "done"
REJECTED = "rejected"
NEEDS_ATTENTION = "needs_attention"
CANCELLED = "cancelled"
STATES = (QUEUED, IN_FLIGHT, UNCERTAIN, DONE, REJECTED, NEEDS_ATTENTION, CANCELLED)
FINAL = (DONE, REJECTED, CANCELLED)
TO_SEND = (QUEUED, IN_FLIGHT, UNCERTAIN)  # what the backlog alarms count (section 6.4)
BLOCKING = (UNCERTAIN, NEEDS_ATTENTION)  # a pack with such an op sends nothing new (P4)

# Answer classes (section 4.1)
SUCCESS = "success"
REFUSED = "refused"
INVALID = "invalid"
NOT_SENT_CLASS = "not_sent"
RETRY_LATER = "retry_later"
UNKNOWN = "unknown"
DUPLICATE_ID = "duplicate_id"
PAUSE_AUTH = "pause_auth"
PAUSE_CERT = "pause_cert"
PAUSE_CLOCK = "pause_clock"
PAUSE_SOFTWARE = "pause_software"
PAUSES = (PAUSE_AUTH, PAUSE_CERT, PAUSE_CLOCK, PAUSE_SOFTWARE)
LINK_FAILURES = (NOT_SENT_CLASS, RETRY_LATER, UNKNOWN)  # feed backoff and the breaker (section 6.2)
# Not an answer class: what a reconciling verify that shows the state before the op (#12, #13) leaves as
# the op's last error. The service answered with success, but it has not applied the op, which is sent
# again; the verify's own answer stays in its attempt row.
NOT_APPLIED = "not_applied"

# Codes whose meaning the classifier needs (VERIFICATION-SERVICE.md section 5)
_RETRY_CODES = ("FI_SE_CLI_01", "TI_AU_01")
_UNKNOWN_CODES = ("ERROR", "TI_TO_01", "TI_RT_02")
_INVALID_PREFIXES = ("TE_XM_", "TE_JS_", "FE_GR_")
_INVALID_CODES = ("FE_LOT_07", "NC_PC_11")
ALREADY_SET_BY_THIS_CLIENT = ("NC_PCK_23",)  # transition #16
UNKNOWN_PRODUCT = "NC_PC_01"  # bulk calls do no intermarket lookup (section 6.3)
_CLOCK_TLS = ("tls_server_cert_not_yet_valid", "tls_server_cert_expired")

# What each state-changing kind asks for, and what the pack showed before it (section 4.2, #11-#13)
TARGET_STATE = {"dispense": "Supplied", "undo_dispense": "Active", "destroy": "Destroyed"}
BEFORE_STATE = {"dispense": "Active", "undo_dispense": "Supplied", "destroy": "Active"}


def code_of(answer):
    """The return code without its ``NMVS_`` prefix ("" when there is none)."""
    code = answer.operation_code or ""
    if code.startswith("NMVS_"):
        return code[5:]
    return code


def classify(answer, clock_synced=True):
    """The class of one answer (section 4.1 table; pauses of 4.3).

    ``clock_synced`` decides a server certificate validity failure: with an unsynchronised clock it
    is ``pause_clock`` (the clock is wrong, not the link); with a synchronised one ``not_sent``.
    """
    if answer.transport == NOT_SENT:
        if answer.transport_error == "tls_client_cert":
            return PAUSE_CERT
        if answer.transport_error in _CLOCK_TLS:
            return NOT_SENT_CLASS if clock_synced else PAUSE_CLOCK
        return NOT_SENT_CLASS
    if answer.transport != ANSWERED:
        return UNKNOWN
    status = answer.http_status or 0
    code = code_of(answer)
    if status in (429, 503) or code in _RETRY_CODES:
        return RETRY_LATER
    if code.startswith("FE_PKI_"):
        return PAUSE_CERT
    if status in (401, 403) or code.startswith("FE_AU_"):
        return PAUSE_AUTH
    if status in (404, 422):
        return PAUSE_SOFTWARE
    if status == 400 or code in _INVALID_CODES:
        return INVALID
    for prefix in _INVALID_PREFIXES:
        if code.startswith(prefix):
            return INVALID
    if code == "TE_TX_01":
        return DUPLICATE_ID
    if status >= 500 or code in _UNKNOWN_CODES or not code:
        return UNKNOWN
    if code == "SUCCESS" and status == 200:
        return SUCCESS
    if status in (200, 409):
        return REFUSED
    return UNKNOWN


class Outcome:
    """What to do with an op after an answer: its new state, how it was settled, side effects.

    ``new_trx_id``: give the op a fresh ``client_trx_id`` (#13). ``pause``: the pause class to set
    on the whole queue (#8). ``link_failure``: count a link failure (backoff, breaker).
    ``admin_alarm``: a short reason for an admin alarm (an ``invalid`` answer, #4/#5).
    """

    __slots__ = ("state", "reconciled", "new_trx_id", "pause", "link_failure", "admin_alarm")

    def __init__(self, state, reconciled=None, new_trx_id=False, pause=None, link_failure=False,
                 admin_alarm=None):
        self.state = state
        self.reconciled = reconciled
        self.new_trx_id = new_trx_id
        self.pause = pause
        self.link_failure = link_failure
        self.admin_alarm = admin_alarm

    def __repr__(self):
        return "Outcome(%r, reconciled=%r, new_trx_id=%r, pause=%r)" % (
            self.state, self.reconciled, self.new_trx_id, self.pause)


def after_send(kind, origin, klass, code, after_uncertain):
    """Transitions #3-#8 and #16: the op was ``in_flight`` and its request got an answer of ``klass``.

    ``after_uncertain``: the op was ``uncertain`` before (a resend after a reconciling verify).
    """
    if klass == SUCCESS:
        return Outcome(DONE)
    if klass in (REFUSED, INVALID):
        if klass == REFUSED and after_uncertain and code in ALREADY_SET_BY_THIS_CLIENT:
            return Outcome(DONE, reconciled="duplicate_answer")  # 16
        alarm = "invalid answer %s" % code if klass == INVALID else None
        if origin == "live":
            return Outcome(REJECTED, admin_alarm=alarm)  # 4
        return Outcome(NEEDS_ATTENTION, admin_alarm=alarm)  # 5
    if klass in (NOT_SENT_CLASS, RETRY_LATER):
        return Outcome(QUEUED, link_failure=True)  # 6
    if klass in PAUSES:
        return Outcome(QUEUED, pause=klass)  # 8
    # unknown, duplicate_id: 7 (a verify is read-only, so it is simply resent)
    return Outcome(QUEUED if kind == "verify" else UNCERTAIN, link_failure=klass == UNKNOWN)


def shows_state(answer, state):
    """Whether a verify answer shows the pack in REST ``state`` (pack-level reason or ``Active``)."""
    if state == "Active":
        return answer.state == "Active" and not _pack_reasons(answer)
    return answer.state == state or state.upper() in answer.reasons


def _pack_reasons(answer):
    return [r for r in answer.reasons if r not in ("EXPIRED", "RECALLED", "WITHDRAWN")]


def after_reconcile(kind, answer, klass, duplicate_seen, renewals):
    """Transitions #11-#15: a reconciling verify of an ``uncertain`` op answered.

    ``duplicate_seen``: the op's history has a ``duplicate_id`` answer since its id was last
    renewed; ``renewals``: how many times #13 already gave it a new id.
    """
    if klass in PAUSES:
        return Outcome(UNCERTAIN, pause=klass)
    if klass != SUCCESS and klass != REFUSED:
        return Outcome(UNCERTAIN, link_failure=klass in LINK_FAILURES)  # 15
    if answer.has_alert:
        return Outcome(NEEDS_ATTENTION)  # 14: a data alert
    target = TARGET_STATE.get(kind)
    before = BEFORE_STATE.get(kind)
    if target is not None and shows_state(answer, target):
        return Outcome(DONE, reconciled="verify")  # 11
    if before is not None and shows_state(answer, before):
        if not duplicate_seen:
            return Outcome(QUEUED)  # 12: resend with the same id
        if renewals < 1:
            return Outcome(QUEUED, new_trx_id=True)  # 13, once
        return Outcome(NEEDS_ATTENTION)  # 13, the second time
    return Outcome(NEEDS_ATTENTION)  # 14


def after_restart(state, kind, has_results_ref):
    """Transition #9: an op found ``in_flight`` at start-up (a kill during a send)."""
    if state != IN_FLIGHT or has_results_ref:
        return state
    return QUEUED if kind == "verify" else UNCERTAIN


def after_restore(state, kind):
    """Transition #10: first start after a salvage or a restore; ops may have been sent since."""
    if state in (QUEUED, IN_FLIGHT) and kind != "verify":
        return UNCERTAIN
    return state


# Person actions (section 8, transition #17)
RETRY = "retry"
ACCEPT = "accept"
CANCEL = "cancel"
CANCEL_REASONS = ("scanned_by_mistake", "never_left_pharmacy", "handled_on_portal", "other")


def after_person(state, action, reason=None, note=None):
    """Transition #17: the new state, or None when the action does not apply (with why)."""
    if state != NEEDS_ATTENTION:
        return None, "only an op that needs attention can be resolved (state %r)" % (state,)
    if action == RETRY:
        return Outcome(QUEUED, new_trx_id=True), None
    if action == ACCEPT:
        return Outcome(REJECTED), None
    if action == CANCEL:
        if reason not in CANCEL_REASONS:
            return None, "a cancel needs one of %s, got %r" % (", ".join(CANCEL_REASONS), reason)
        if reason == "other" and not note:
            return None, "a cancel for another reason needs a note"
        return Outcome(CANCELLED), None
    return None, "unknown action %r: expected retry, accept or cancel" % (action,)


def undo_must_stop(dispense_state, time_left_ns):
    """Transition #18: a queued undo whose dispense ended refused/cancelled, or with <= 1 h left."""
    if dispense_state in (REJECTED, CANCELLED):
        return True
    return time_left_ns is not None and time_left_ns <= 0


# Backlog alarms (section 6.4)
AMBER_AGE_NS = 15 * 60 * 1000000000
RED_AGE_NS = 4 * 3600 * 1000000000

PAUSE_TEXT = {
    PAUSE_AUTH: "login refused",
    PAUSE_CERT: "certificate",
    PAUSE_CLOCK: "waiting for correct time",
    PAUSE_SOFTWARE: "interface mismatch",
}


def backlog_alarm(oldest_age_ns, waiting, attention, paused):
    """The signal for the queue: ``(level, text)`` with level None, "amber" or "red" (section 6.4).

    ``oldest_age_ns`` is the age of the oldest op still to send (None: nothing waiting); a pause
    and the attention badge are reported even without a backlog.
    """
    parts = []
    level = None
    if oldest_age_ns is not None and oldest_age_ns >= RED_AGE_NS:
        level = "red"
        parts.append("Not sent for 4 h - contact support")
    elif oldest_age_ns is not None and oldest_age_ns >= AMBER_AGE_NS:
        level = "amber"
        parts.append("%d waiting" % waiting)
    if attention:
        parts.append("%d to resolve" % attention)
    if paused:
        if level is None:
            level = "amber"
        parts.append("paused: " + PAUSE_TEXT.get(paused, paused))
    return level, "; ".join(parts)
