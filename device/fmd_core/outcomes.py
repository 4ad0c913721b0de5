"""What a scan came to: outcome code, light and message id (VERIFICATION-SERVICE.md section 10).

Every result the terminal shows goes through this module, so the red/amber/green mapping lives in
one place. Two rules are never broken:

- any ``alertId`` means red, whatever else the answer says (section 10; Reg. 2016/161 Art. 30, 36);
- green only for what the service accepted (``NMVS_SUCCESS`` on an ACTIVE pack for a verify, or an
  applied change): a pack recorded offline, a pending answer or a local check is never green.

Outcome codes (the ``outcome`` field of the events journal) and their lights:

  authentic           green  verify: ACTIVE, no overlay
  decommissioned      green  dispense, destroy or receive applied
  undone              green  undo applied
  recorded_offline    amber  recorded, the service was not reached or asked to wait (Art. 29)
  pending             amber  sent, outcome not known yet (verify before any resend)
  duplicate_scan      as the earlier result: the same pack again within the window; nothing sent
  already_done_here   amber  this terminal already dispensed the pack (local check or NC_PCK_23)
  not_a_pack          amber  a linear code or a code that is not a pack identifier
  not_serialised      amber  a Data Matrix without serial (France: pre-2019 packs; section 9)
  unknown_product     amber  NC_PC_01 without alert, NC_PC_06
  unreadable          amber  malformed or incomplete scan, or a 400 from the service: scan again
                      red    after ``UNREADABLE_LIMIT`` failed scans in a row (section 10, last row)
  refused             amber  undo refused without alert, local refusals, role refusals
  account_problem     amber  FE_AU_*, or the queue paused for the login: operator notice, scans keep being recorded
  certificate_problem amber  FE_PKI_*, a TLS refusal of the client certificate, or the queue paused for it:
                             the certificate must be renewed (section 8, "Certificate expiry"); scans keep
                             being recorded
  alert               red    any alertId
  inactive_elsewhere  red    NC_PCK_19/22/27, or a verify shows inactive without an entry here
  expired             red    NC_PCK_02, reason EXPIRED, or expired by the pack's own date
  recalled            red    FE_LOT_01, reason RECALLED
  withdrawn           red    FE_LOT_08, reason WITHDRAWN
  stolen              red    reason STOLEN
  destroyed           red    reason DESTROYED
  not_recorded        red    the outbox could not record the scan: keep the pack aside (OFFLINE-QUEUE 5.1)
  at_site             amber  the site ledger shows the pack decommissioned, or being decommissioned, at
                             another counter of the site: nothing sent (the op is cancelled here), or an
                             NMVS_NC_PCK_22 explained by the site's own decommission (README, "Site ledger")
  scanner_settings    amber  the scan guard held the scan, nothing sent (issue 8; SCANNERS-AND-HARDWARE.md
                             3.2): the scanner's settings changed, it drops GS, it failed or lacks calibration

A queue paused for the clock (OFFLINE-QUEUE.md 4.3, ``pause_clock``) is ``recorded_offline`` with the
message id ``waiting_for_time``: the scan is recorded and is sent by itself once the clock is right.

The message id is the key of the headline in the terminal's gettext catalogues; the core has no
gettext (ARCHITECTURE.md: the core is portable).
"""

from fmd_core.op_states import AMBER_AGE_NS, PAUSE_AUTH, PAUSE_CERT, PAUSE_CLOCK, RED_AGE_NS
from fmd_core.service import ANSWERED, NOT_SENT

GREEN = "green"
AMBER = "amber"
RED = "red"

UNREADABLE_LIMIT = 3

# outcome -> default light
LIGHT = {
    "authentic": GREEN,
    "decommissioned": GREEN,
    "undone": GREEN,
    "recorded_offline": AMBER,
    "pending": AMBER,
    "already_done_here": AMBER,
    "at_site": AMBER,
    "not_a_pack": AMBER,
    "not_serialised": AMBER,
    "unknown_product": AMBER,
    "unreadable": AMBER,
    "refused": AMBER,
    "account_problem": AMBER,
    "certificate_problem": AMBER,
    "alert": RED,
    "inactive_elsewhere": RED,
    "expired": RED,
    "recalled": RED,
    "withdrawn": RED,
    "stolen": RED,
    "destroyed": RED,
    "not_recorded": RED,
    "scanner_settings": AMBER,
}

# Service codes (section 5) that name a finer outcome when no alert is present.
_CODE_OUTCOME = {
    "NMVS_NC_PCK_19": "inactive_elsewhere",
    "NMVS_NC_PCK_22": "inactive_elsewhere",
    "NMVS_NC_PCK_27": "inactive_elsewhere",
    "NMVS_NC_PCK_02": "expired",
    "NMVS_FE_LOT_01": "recalled",
    "NMVS_FE_LOT_08": "withdrawn",
    "NMVS_NC_PC_01": "unknown_product",
    "NMVS_NC_PC_06": "unknown_product",
    "NMVS_NC_PCK_23": "already_done_here",
    "NMVS_FE_BR_01": "refused",
    # undo refused without alert; PCK_04/05/07/13/14 are treated like PCK_06/20 (section 5)
    "NMVS_FE_TX_01": "refused",
    "NMVS_FE_TX_05": "refused",
    "NMVS_NC_PCK_04": "refused",
    "NMVS_NC_PCK_05": "refused",
    "NMVS_NC_PCK_06": "refused",
    "NMVS_NC_PCK_07": "refused",
    "NMVS_NC_PCK_13": "refused",
    "NMVS_NC_PCK_14": "refused",
    "NMVS_NC_PCK_20": "refused",
    "NMVS_NC_PCK_21": "refused",
    # malformed field the local parser let through: scan again (logged as a client bug)
    "NMVS_FE_LOT_07": "unreadable",
    "NMVS_NC_PC_11": "unreadable",
    "NMVS_FE_GR_01": "unreadable",
    "NMVS_FE_GR_02": "unreadable",
    "NMVS_TE_JS_01": "unreadable",
    "NMVS_TE_JS_02": "unreadable",
    "NMVS_TE_XM_01": "unreadable",
    "NMVS_TE_XM_02": "unreadable",
    # not executed, or outcome unknown: the op stays in the outbox
    "NMVS_TE_TX_01": "pending",
    "NMVS_TI_TO_01": "pending",
    "NMVS_ERROR": "pending",
    "NMVS_FI_SE_CLI_01": "recorded_offline",
}

# Pack state (REST ``state``, section 3) read by a verify -> outcome. Supplied is decided apart.
_STATE_OUTCOME = {
    "Active": "authentic",
    "Expired": "expired",
    "Recalled": "recalled",
    "Withdrawn": "withdrawn",
    "Stolen": "stolen",
    "Destroyed": "destroyed",
    "NotFound": "unknown_product",
}

# Local refusals of the outbox (OFFLINE-QUEUE.md section 5.2) -> (outcome, message id)
_REFUSAL = {
    "already_dispensed_here": ("already_done_here", "already_dispensed_here"),
    "dispense_pending": ("pending", "pending"),  # the earlier dispense awaits its answer: never "done"
    "no_dispense_here": ("refused", "no_dispense_here"),
    "undo_period_over": ("refused", "undo_period_over"),
    "undo_time_unknown": ("refused", "undo_time_unknown"),
    "pack_blocked": ("refused", "pack_blocked"),
}

# Decoder reason codes (PACK-CODES.md) with their own outcome; every other one is "unreadable".
_DECODE_OUTCOME = {
    "missing_serial": "not_serialised",
    "not_a_pack_code": "not_a_pack",
}

_CHANGE_SUCCESS = {"dispense": "decommissioned", "destroy": "decommissioned", "undo_dispense": "undone"}

# outcome -> message id, where a kind of operation does not give a finer one
_SUCCESS_MESSAGE = {"dispense": "dispensed", "destroy": "destroyed_ok", "undo_dispense": "undone"}


# Why the scan guard held a scan (``fmd_core.calibration.guard``, or no profile yet) -> message id
_SCANNER_HOLD = {
    "settings_changed": "scanner_settings_changed",
    "gs_dropped": "scanner_gs_dropped",
    "calibration_failed": "scanner_calibration_failed",
    "not_calibrated": "scanner_not_calibrated",
}

# Every message id this module can give (the terminal's catalogues must hold each one).
MESSAGE_IDS = tuple(sorted(set(LIGHT) | set(_SUCCESS_MESSAGE.values()) | set(m for _c, m in _REFUSAL.values()) | {
    "scan_data_matrix", "unreadable_repeated", "undo_refused", "not_permitted", "service_refused",
    "duplicate_scan", "recorded_awaiting", "expired_by_date", "waiting_for_time", "late_alert",
    "receive_already_scanned"}
    | set(_SCANNER_HOLD.values())))


class Outcome:
    """An outcome code with its light and message id. Treated as immutable."""

    __slots__ = ("code", "light", "message_id")

    def __init__(self, code, light=None, message_id=None):
        self.code = code
        self.light = LIGHT.get(code) if light is None else light
        self.message_id = code if message_id is None else message_id

    def __eq__(self, other):
        return isinstance(other, Outcome) and (self.code, self.light, self.message_id) == (
            other.code, other.light, other.message_id)

    def __repr__(self):
        return "Outcome(%r, %r, %r)" % (self.code, self.light, self.message_id)


def _is_account_code(code):
    return code.startswith("NMVS_FE_AU_") or code.startswith("NMVS_FE_PKI_")


def _account_outcome(code):
    """FE_PKI_* is the client certificate (renew it); any other account code is the login."""
    if code.startswith("NMVS_FE_PKI_"):
        return Outcome("certificate_problem")
    return Outcome("account_problem")


def of_pause(paused):
    """What a scan shows when no answer came because the queue is paused (OFFLINE-QUEUE.md 4.3), or None.

    ``pause_auth``: "check the account"; ``pause_cert``: "renew the certificate"; ``pause_clock``:
    recorded, "waiting for the correct time". Any other pause (``pause_software``) has no screen of its
    own: the scan is shown as recorded (an administrator's alarm names the cause).
    """
    if paused == PAUSE_AUTH:
        return Outcome("account_problem")
    if paused == PAUSE_CERT:
        return Outcome("certificate_problem")
    if paused == PAUSE_CLOCK:
        return Outcome("recorded_offline", AMBER, "waiting_for_time")
    return None


def of_decode_error(reason, failures_in_row=1):
    """A decoder failure (PACK-CODES.md reason code): amber, red once it keeps failing."""
    code = _DECODE_OUTCOME.get(reason, "unreadable")
    if code == "unreadable" and failures_in_row >= UNREADABLE_LIMIT:
        return Outcome("unreadable", RED, "unreadable_repeated")
    return Outcome(code)


def of_linear_code():
    """A linear code decodes but carries no serial: ask for the Data Matrix (Reg. 2016/161 Art. 5)."""
    return Outcome("not_a_pack", AMBER, "scan_data_matrix")


def of_site(reason):
    """The site ledger's word (``fmd_core.site_ledger``): the message id is its reason
    (site_dispensed, site_destroyed, site_in_progress); amber, never sent by this terminal."""
    return Outcome("at_site", AMBER, reason)


def of_scanner_hold(reason):
    """A scan the scan guard held (issue 8, item 3): amber, never sent, so never green."""
    return Outcome("scanner_settings", AMBER, _SCANNER_HOLD.get(reason, "scanner_settings"))


def of_refusal(reason):
    """A local refusal of the outbox: nothing recorded, nothing sent."""
    code, message = _REFUSAL.get(reason, ("refused", "refused"))
    return Outcome(code, None, message)


def of_verify_state(state, dispensed_here):
    """A verify answered NMVS_SUCCESS: the pack's state says it (section 3 and 10)."""
    if state == "Supplied":
        if dispensed_here:
            return Outcome("already_done_here", AMBER, "already_dispensed_here")
        return Outcome("inactive_elsewhere")
    code = _STATE_OUTCOME.get(state)
    if code is None:  # Exported, Sample, FreeSample, Locked, CheckedOut: inactive, not by us
        return Outcome("inactive_elsewhere")
    return Outcome(code)


def of_answer(kind, answer, dispensed_here=False):
    """The outcome of one service answer to an operation of ``kind`` (outbox op kinds).

    ``dispensed_here``: this terminal's journal shows a dispense of the pack (a verify that reads
    SUPPLIED is then amber "already dispensed here", not red).
    """
    if answer is None:
        return Outcome("recorded_offline")
    if answer.has_alert:
        return Outcome("alert")
    if answer.transport != ANSWERED:
        return Outcome("recorded_offline" if answer.transport == NOT_SENT else "pending")
    code = answer.operation_code or ""
    status = answer.http_status or 0
    if code == "NMVS_SUCCESS" and (status == 0 or 200 <= status < 300):
        if kind == "verify":
            return of_verify_state(answer.state, dispensed_here)
        return Outcome(_CHANGE_SUCCESS.get(kind, "decommissioned"), None, _SUCCESS_MESSAGE.get(kind))
    if _is_account_code(code) or status == 401:
        return _account_outcome(code)
    if code == "NMVS_NC_PCK_22" and not _has_pack_level_reason(answer.reasons):
        # inactive only by overlays (section 5, PCK_22 row): read the overlay
        return of_verify_state(answer.state, dispensed_here)
    if code == "NMVS_NC_PCK_23":
        return Outcome("already_done_here", AMBER, "already_dispensed_here")
    found = _CODE_OUTCOME.get(code)
    if found == "refused" and kind == "undo_dispense":
        return Outcome("refused", AMBER, "undo_refused")
    if found == "refused" and code == "NMVS_FE_BR_01":
        return Outcome("refused", AMBER, "not_permitted")
    if found is not None:
        return Outcome(found)
    if status in (429, 503):
        return Outcome("recorded_offline")
    if status == 400:
        return Outcome("unreadable")
    if status == 403:
        return Outcome("refused", AMBER, "not_permitted")
    if status >= 500 or status == 0:
        return Outcome("pending")
    return Outcome("refused", AMBER, "service_refused")


_OVERLAYS = ("EXPIRED", "RECALLED", "WITHDRAWN")


def _has_pack_level_reason(reasons):
    for reason in reasons:
        if reason not in _OVERLAYS:
            return True
    return False


def of_settlement(kind, state, answer, dispensed_here=False):
    """The outcome of an op as the outbox settled it (OFFLINE-QUEUE.md section 4).

    ``state`` is the op state: ``done``, ``rejected``, ``needs_attention``, ``cancelled``,
    ``queued``, ``uncertain``, ``in_flight``. A ``done`` change is green (it was applied, possibly
    confirmed by a verify or by NC_PCK_23 on a resend of our own request); a refused op is never green.
    """
    if answer is not None and answer.has_alert:
        return Outcome("alert")
    if state == "queued":
        if answer is not None and answer.transport == ANSWERED and _is_account_code(answer.operation_code or ""):
            return _account_outcome(answer.operation_code)
        if answer is not None and answer.transport_error == "tls_client_cert":
            return Outcome("certificate_problem")
        return Outcome("recorded_offline")
    if state in ("uncertain", "in_flight"):
        return Outcome("pending")
    if state == "done" and kind != "verify":
        return Outcome(_CHANGE_SUCCESS.get(kind, "decommissioned"), None, _SUCCESS_MESSAGE.get(kind))
    outcome = of_answer(kind, answer, dispensed_here)
    if state != "done" and outcome.light == GREEN:
        return Outcome("refused", AMBER, "service_refused")
    return outcome


def expired_on(expiry_iso, today_iso):
    """Whether a pack whose expiry is ``expiry_iso`` (YYYY-MM-DD, day 00 already the month's last day,
    PACK-CODES.md) is expired on ``today_iso``: the pack is usable through its expiry day."""
    if not expiry_iso or not today_iso:
        return False
    return today_iso > expiry_iso


# -- the queue on the screen (OFFLINE-QUEUE.md 2.3, 4.3, 6.4, 8) ------------------------------------

# What the badge and the idle screen say about the queue, most urgent first (issue 5, item 3).
STORAGE_FAULT = "storage_fault"  # 2.3: a failed integrity check or a salvaged database: red
BACKLOG_RED = "backlog_red"  # 6.4: the oldest op still to send is older than 4 h: red
QUEUE_PAUSED = "paused"  # 4.3: the badge names the pause's cause
NEEDS_ATTENTION = "attention"  # 6.4, 8: a badge with the count until the list is empty
BACKLOG_AMBER = "backlog_amber"  # 6.4: the oldest op still to send is older than 15 min: amber
STORAGE_SPACE = "storage_space"  # 2.3, 6.4: free space below 30 days of ops: amber admin alarm
STORAGE_WAL = "storage_wal"  # 2.3: the WAL passed 64 MiB: admin alarm, badge only, no light
PENDING = "pending"  # the pending count, no alarm
QUEUE_NOTICE_KINDS = (STORAGE_FAULT, BACKLOG_RED, QUEUE_PAUSED, NEEDS_ATTENTION, BACKLOG_AMBER, STORAGE_SPACE,
                      STORAGE_WAL, PENDING)

_LEVEL_RANK = {None: 0, AMBER: 1, RED: 2}


class QueueNotice:
    """What the queue asks of the screen: ``kind`` (one of ``QUEUE_NOTICE_KINDS``, or None when there
    is nothing to say), the alarm ``level`` (None, "amber" or "red"; never green) and the counts.
    Treated as immutable."""

    __slots__ = ("kind", "level", "pending", "attention", "paused")

    def __init__(self, kind, level, pending=0, attention=0, paused=None):
        self.kind = kind
        self.level = level
        self.pending = pending
        self.attention = attention
        self.paused = paused

    def as_tuple(self):
        return (self.kind, self.level, self.pending, self.attention, self.paused)

    def __eq__(self, other):
        return isinstance(other, QueueNotice) and self.as_tuple() == other.as_tuple()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "QueueNotice(%r, %r, pending=%r, attention=%r, paused=%r)" % self.as_tuple()


def queue_notice(status):
    """The queue's notice from the sync worker's ``status`` (a dict; missing keys mean "nothing").

    Keys: ``pending``, ``attention`` (counts), ``oldest_age_s`` (age of the oldest op still to send,
    ``queued``/``in_flight``/``uncertain``, or None), ``paused`` (the pause class or None) and
    ``storage`` (truthy after a storage fault), ``space`` and ``wal`` (truthy while the outbox's
    ``alarm_space`` / ``alarm_wal`` is raised). The alarm level follows OFFLINE-QUEUE.md 6.4 (amber
    after 15 min, red after 4 h) and 2.3 (a storage fault is red; free space below 30 days of ops is
    amber); a pause, ops needing a person or a WAL past 64 MiB (an admin alarm) only change the badge.
    When several apply the most urgent is named: storage fault, 4 h, pause, attention, 15 min, low
    space, WAL, pending count.
    """
    pending = status.get("pending") or 0
    attention = status.get("attention") or 0
    paused = status.get("paused") or None
    age_s = status.get("oldest_age_s")
    red_age = age_s is not None and age_s * 1000000000 >= RED_AGE_NS
    amber_age = age_s is not None and age_s * 1000000000 >= AMBER_AGE_NS
    if status.get("storage"):
        kind, level = STORAGE_FAULT, RED
    elif red_age:
        kind, level = BACKLOG_RED, RED
    else:
        space = status.get("space")
        level = AMBER if amber_age or space else None
        if paused:
            kind = QUEUE_PAUSED
        elif attention:
            kind = NEEDS_ATTENTION
        elif amber_age:
            kind = BACKLOG_AMBER
        elif space:
            kind = STORAGE_SPACE
        elif status.get("wal"):
            kind = STORAGE_WAL
        elif pending:
            kind = PENDING
        else:
            kind = None
    return QueueNotice(kind, level, pending, attention, paused)


def alarm_rise(previous, level):
    """The light to signal once when the alarm ``level`` rises above ``previous`` (None -> amber ->
    red), else None: an alarm that stays, or falls, is not signalled again (issue 5, item 3)."""
    if _LEVEL_RANK.get(level, 0) > _LEVEL_RANK.get(previous, 0):
        return level
    return None
