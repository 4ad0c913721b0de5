"""The terminal's flow: events in, effects out, driven with ``now_ms`` (ARCHITECTURE.md, principle 1).

Pure and portable (CPython and MicroPython): no I/O, no clock. The application (``fmd_terminal.app``)
feeds events and carries out the effects, in order:

  events                                   effects
  scan(text, now_ms, today)                RECORD (kind, PackRef, raw) | SHOW verdict | SCREEN notice
  recorded(op_seq, refusal_reason, ...)    SCREEN "checking" + SEND | SHOW verdict
  record_failed(now_ms)                    SHOW red "not recorded" (OFFLINE-QUEUE.md 5.1, step 5)
  settled(state, answer, now_ms)           SHOW verdict (None: no answer within the deadline)
  resolved(seq, kind, state, answer, ...)  LATE verdict (event "resolved": journal, queue badge; never drawn
                                           over the pack in hand); for a red one also ALERT, its own red
                                           notice naming the pack, once the screen is free; else, once
                                           the screen is free, SCREEN idle saying how many came
  switch_mode(mode, now_ms)                SCREEN idle in the new mode
  scan of the report code                  SCREEN "quarter_report" (issue 14, item 6), idle after the hold
  scan of the admin code                   SCREEN "console_address" (issue 15: the web console's address as
                                           a QR code), idle after the hold or at the next scan; mode kept
  fault(text, now_ms)                      SCREEN neutral fault notice (scanner gone ...)
  calibrated(problems, now_ms)             SCREEN "Scanner OK" or "change scanner settings" notice
  held(raw, reason, problems, now_ms)      SHOW amber ``scanner_settings`` verdict: never sent (issue 8)
  yielded(op_seq, reason, where, now_ms)   SHOW amber ``at_site``: another counter has the pack (site ledger)
  tick(now_ms)                             ALERT of a late red result waiting, else SCREEN idle (with the
                                           count of late results not yet told), once a result has been
                                           shown long enough

The scan path (OFFLINE-QUEUE.md section 5.1; Reg. 2016/161 Art. 10, 11, 25):
1. a mode barcode (``fmd_core.modes``) switches mode;
2. decode; a failure is amber "scan again" (red after repeated failures), a linear code asks for the
   Data Matrix, a code without serial is "not serialised" (VERIFICATION-SERVICE.md section 9);
3. the same pack in the same mode within ``duplicate_window_ms``: the earlier result again, nothing
   sent (outcome ``duplicate_scan``); a pack this terminal decommissioned is never green again: a
   dispense shown green or pending goes to the local check ("already dispensed here" with the time it
   was done, or "awaiting answer" with its age), any other change is the earlier result in amber
   (issue 11, items 4 and 6);
4. expired by its own date: red, no decommission (France MVO: never decommission an expired pack);
   a verify is still sent but can never be green;
5. RECORD: the outbox runs the local checks of section 5.2 and records the op; a refusal is shown,
   nothing is sent; then SEND: the answer within the deadline is shown, else amber "recorded".

Outcomes, lights and message ids come from ``fmd_core.outcomes``; texts are translated by the
terminal's presenter (the core has no gettext).
"""

from fmd_core import outcomes
from fmd_core.modes import (
    DEFAULT_MODE,
    MODES,
    RECEIVE,
    is_admin_scan,
    is_report_scan,
    mode_of_scan,
    modes_of,
    op_kind,
)
from fmd_core.service import PackRef

# Effect kinds
SHOW = "show"  # payload: Verdict (screen + light + journal)
SCREEN = "screen"  # payload: Notice (screen only; lights off)
RECORD = "record"  # payload: RecordRequest
SEND = "send"  # payload: the op seq to send live
LATE = "late"  # payload: Verdict (event "resolved"): journal and queue badge only, the screen stays
ALERT = "alert"  # payload: Verdict of a late red result: drawn with its light as its own notice, not journaled

# Service codes "already inactive" that the site ledger can explain (README, "Site ledger")
_SITE_EXPLAINS = ("NMVS_NC_PCK_19", "NMVS_NC_PCK_22", "NMVS_NC_PCK_23", "NMVS_NC_PCK_27")

# Message ids of the notices (non-verdict screens) the flow shows.
NOTICE_IDS = (
    "ready",
    "checking",
    "mode_switched",
    "unknown_mode",
    "scanner_fault",
    "restart_list",
    "scanner_ok",
    "scanner_adjust",
    "quarter_report",
    "console_address",
    "mode_not_in_role",
)

# A scan longer than this is keystroke garbage: not even decoded (a Data Matrix holds < 2,400 chars).
MAX_SCAN_CHARS = 2400

# The decoder's fields that make the journal's "pack" object (PACK-CODES.md, result contract).
_RAW_SHOWN = 64


class Effect:
    __slots__ = ("kind", "payload")

    def __init__(self, kind, payload):
        self.kind = kind
        self.payload = payload

    def __repr__(self):
        return "Effect(%r, %r)" % (self.kind, self.payload)


class RecordRequest:
    """Ask the outbox to check and record an op (kind as in OFFLINE-QUEUE.md section 3); ``mode`` is
    the terminal's mode at the scan (a receive-mode scan is a dispense op, or a verify at a reception: ``fmd_core.modes.op_kind``)."""

    __slots__ = ("kind", "pack", "raw", "mode")

    def __init__(self, kind, pack, raw, mode=None):
        self.kind = kind
        self.pack = pack
        self.raw = raw
        self.mode = mode

    def __repr__(self):
        return "RecordRequest(%r, %r)" % (self.kind, self.pack.pack_key)


class Notice:
    """A screen that is not a verdict: idle, checking, mode switched, fault, calibration result.
    ``message_id`` is translated. ``received``: on the idle screen, the late results that came since
    it last said so (issue 11, item 5: "3 answers received"), 0 for none.

    ``signal`` is the neutral feedback event for the indicators (``fmd_core.feedback``: "ready",
    "working", "mode_changed", "fault") or None (all off); never a verdict light. ``problems``: a
    calibration's ``(problem id, parameters)`` items (``fmd_core.calibration.problems``), translated
    by the presenter into what to change.
    """

    __slots__ = ("message_id", "mode", "busy", "detail", "signal", "items", "problems", "received")

    def __init__(self, message_id, mode, busy=False, detail="", signal=None, items=(), problems=(), received=0):
        self.message_id = message_id
        self.mode = mode
        self.busy = busy
        self.detail = detail
        self.signal = signal
        self.items = tuple(items)  # restart list: (kind, product_code, serial, state, wall_ns) per op
        self.problems = tuple(problems)
        self.received = received

    def __repr__(self):
        return "Notice(%r, mode=%r, busy=%r, received=%r)" % (self.message_id, self.mode, self.busy, self.received)


class Verdict:
    """A result to show, signal and journal. Treated as immutable.

    event:   "scan" or "resolved" (a later settlement of a scan that was shown as pending)
    seq:     the outbox op's seq when the scan was recorded, else the flow's own scan counter
    pack:    the decoder's ``as_dict()`` or None; decode_error: its reason code or None
    details: for the presenter: "earlier" (message id of the earlier result, duplicates),
             "since_wall_ns" (local refusals), "description", "product_name", "alert_id", "kind"
    """

    __slots__ = (
        "event",
        "seq",
        "mode",
        "raw",
        "pack",
        "decode_error",
        "outcome",
        "light",
        "message_id",
        "service_code",
        "alert_code",
        "details",
        "recorded",
    )

    def __init__(
        self,
        event,
        seq,
        mode,
        raw,
        pack,
        decode_error,
        outcome,
        service_code=None,
        alert_code=None,
        details=None,
        recorded=False,
    ):
        self.event = event
        self.seq = seq
        self.mode = mode
        self.raw = raw
        self.pack = pack
        self.decode_error = decode_error
        self.outcome = outcome.code
        self.light = outcome.light
        self.message_id = outcome.message_id
        self.service_code = service_code
        self.alert_code = alert_code
        self.details = details or {}
        self.recorded = recorded

    def __repr__(self):
        return "Verdict(%r, seq=%r, %r, %r, %r)" % (
            self.event,
            self.seq,
            self.outcome,
            self.light,
            self.message_id,
        )


class _Scan:
    """The scan being handled, between RECORD and its SHOW."""

    __slots__ = ("seq", "mode", "kind", "raw", "pack", "ref", "expired", "receiving")

    def __init__(self, seq, mode, kind, raw, pack, ref, expired, receiving=None):
        self.receiving = receiving  # the delivery note's Check (fmd_core.receiving), in a receiving session
        self.seq = seq
        self.mode = mode
        self.kind = kind
        self.raw = raw
        self.pack = pack
        self.ref = ref
        self.expired = expired


def _default_decode():
    from fmd_core import decode_scan

    return decode_scan


def pack_ref_of(result, entry_mode="non-manual"):
    """The service's view of a decoded pack identifier (raw YYMMDD expiry: PACK-CODES.md)."""
    nhrn = result.nhrn
    return PackRef(
        result.product_code_scheme,
        result.product_code,
        result.serial,
        result.batch,
        result.expiry_raw,
        nhrn["value"] if nhrn else None,
        entry_mode,
    )


class Flow:
    """The terminal's state between events. One scan at a time (the scanner is read in one loop).

    ``role`` (``fmd_core.modes.ROLES``, issue 17) limits the modes: a mode barcode, the button or the
    console never takes the device out of them (notice ``mode_not_in_role``); a start mode outside them
    gives way to the role's first. ``receipt``: the receiving session's tally (``fmd_core.receiving``),
    set while a delivery is received: each receive-mode scan is checked against the note (issue 17).
    """

    def __init__(
        self,
        mode=DEFAULT_MODE,
        decode=None,
        substitutes=None,
        duplicate_window_ms=10000,
        result_hold_ms=15000,
        role=None,
    ):
        if mode not in MODES:
            raise ValueError("unknown mode %r: expected one of %s" % (mode, ", ".join(MODES)))
        self.role = role
        self.modes = modes_of(role)
        self.mode = mode if mode in self.modes else self.modes[0]
        self.receipt = None
        self._decode = decode or _default_decode()
        self._substitutes = substitutes
        self.duplicate_window_ms = duplicate_window_ms
        self.result_hold_ms = result_hold_ms
        self._counter = 0
        self._failures = 0
        self._current = None
        self._recent = {}  # (mode, pack_key) -> (verdict, at_ms)
        self._pending = {}  # op seq -> _Scan shown as pending, for "resolved" events
        self._dispensed = set()  # pack keys this terminal dispensed during this run
        self._shown_at = None
        self._late_alerts = []  # late red results waiting for the screen (ALERT), oldest first
        self._received = 0  # late results since the idle screen last said how many came (issue 11, item 5)
        self._told = False  # the idle screen has said so: the count starts again once the screen is taken

    # -- events --------------------------------------------------------------------------------

    def start(self, now_ms, recent=()):
        """Start-up. ``recent``: the last ops recorded before a restart, newest first, as
        (kind, product_code, serial, state, wall_ns); shown until the next scan or the hold time ends, since a
        kill during COMMIT can leave an op recorded whose result was never shown (OFFLINE-QUEUE.md 5.3).
        """
        if recent:
            self._shown_at = now_ms
            return [Effect(SCREEN, Notice("restart_list", self.mode, signal="ready", items=recent))]
        return [Effect(SCREEN, Notice("ready", self.mode, signal="ready"))]

    def switch_mode(self, mode, now_ms):
        if mode not in MODES:
            return [
                Effect(
                    SCREEN, Notice("unknown_mode", self.mode, detail=str(mode)[:_RAW_SHOWN], signal="fault")
                )
            ]
        if mode not in self.modes:  # the role's word (issue 17): the mode stays, the screen says why
            self._shown_at = now_ms
            self._screen_taken()
            return [Effect(SCREEN, Notice("mode_not_in_role", self.mode, signal="fault", items=(self.role, mode)))]
        self.mode = mode
        self._shown_at = None
        self._screen_taken()
        return [Effect(SCREEN, Notice("mode_switched", mode, signal="mode_changed"))]

    def next_mode(self, now_ms):
        """The mode button: the role's next mode (``MODES`` order without a role), round."""
        modes = self.modes
        following = modes[(modes.index(self.mode) + 1) % len(modes)] if self.mode in modes else modes[0]
        return self.switch_mode(following, now_ms)

    def fault(self, text, now_ms):
        self._shown_at = now_ms
        self._screen_taken()
        return [Effect(SCREEN, Notice("scanner_fault", self.mode, detail=text[:_RAW_SHOWN], signal="fault"))]

    def calibrated(self, problems, now_ms):
        """A calibration code was read (issue 8, item 2; SCANNERS-AND-HARDWARE.md 3.2): "Scanner OK"
        with a ready chirp when only advice remains (``fmd_core.calibration.ADVICE``), else "change
        the scanner's settings" with the fault beeps; ``problems`` become the detail lines. Never a
        verdict light: a calibration code is not a pack and never reaches the service."""
        from fmd_core.calibration import ADVICE, PROBLEMS

        self._shown_at = now_ms
        self._screen_taken()
        if all(PROBLEMS.get(problem, ("",))[0] == ADVICE for problem, _parameters in problems):
            return [Effect(SCREEN, Notice("scanner_ok", self.mode, signal="ready", problems=problems))]
        return [Effect(SCREEN, Notice("scanner_adjust", self.mode, signal="fault", problems=problems))]

    def held(self, raw, reason, problems, now_ms):
        """A scan the scan guard held (issue 8, item 3): amber ``scanner_settings``, nothing recorded or
        sent. ``reason`` names the headline (``outcomes.of_scanner_hold``); ``problems`` what to change
        or what seems changed, for the detail lines (``details["scanner"]``)."""
        self._counter += 1
        self._screen_taken()
        outcome = outcomes.of_scanner_hold(reason)
        details = {"scanner": tuple(problems)}
        return self._show(
            Verdict("scan", self._counter, self.mode, raw, None, None, outcome, details=details), now_ms
        )

    def tick(self, now_ms):
        """Once a result has been shown for ``result_hold_ms``: the next late red result waiting, else
        the idle screen (issue 11, item 5: a late alert never takes over a verdict before its hold ends)."""
        if self._shown_at is not None and now_ms - self._shown_at >= self.result_hold_ms:
            self._shown_at = None
            return self._next_late_alert(now_ms) or [self._idle()]
        return self._next_late_alert(now_ms)

    def scan(self, text, now_ms, today=None):
        """A scan's text, exactly as the scanner delivered it; ``today`` is YYYY-MM-DD when trusted."""
        mode = mode_of_scan(text)
        if mode is not None:
            return self.switch_mode(mode, now_ms)
        if is_report_scan(text):  # the quarter's figure, filled in by the shell from its outbox
            self._shown_at = now_ms
            return [Effect(SCREEN, Notice("quarter_report", self.mode))]
        if is_admin_scan(text):  # the web console's address, filled in by the shell (off: how to turn it on)
            self._shown_at = now_ms
            return [Effect(SCREEN, Notice("console_address", self.mode))]
        self._counter += 1
        self._screen_taken()
        seq = self._counter
        if len(text) > MAX_SCAN_CHARS:
            return self._decode_failed(seq, text, "too_long", now_ms)
        # The GS1 sliding century window needs the current year (GenSpecs 7.12); the core has no clock,
        # so it comes from ``today`` when the shell trusts its clock, else the decoder's default.
        year = int(today[:4]) if today else None
        result = self._decode(text, substitutes=self._substitutes, current_year=year)
        if not result.ok:
            return self._decode_failed(seq, text, result.error, now_ms)
        pack = result.as_dict()
        if not result.is_pack_identifier:
            self._failures = 0
            outcome = (
                outcomes.of_linear_code() if result.scheme == "linear" else outcomes.Outcome("not_a_pack")
            )
            return self._show(Verdict("scan", seq, self.mode, text, pack, None, outcome), now_ms)
        self._failures = 0
        ref = pack_ref_of(result)
        kind = op_kind(self.mode, self.role)
        check = None
        if self.receipt is not None and self.mode == RECEIVE:  # the delivery note's word first (issue 17)
            check = self.receipt.check(ref.product_code, ref.pack_key, result.batch, result.expiry, today)
            if not check.sent:  # scanned earlier in this session: not counted, nothing sent again
                outcome = outcomes.Outcome("already_scanned", outcomes.AMBER, "receive_already_scanned")
                return self._show(Verdict("scan", seq, self.mode, text, pack, None, outcome,
                                          details={"receiving": check}), now_ms)
            if not check.decommission:
                kind = "verify"  # an unexpected, extra or different pack can still go back: verify only
        earlier = self._recent.get((self.mode, ref.pack_key))
        if earlier is not None and now_ms - earlier[1] < self.duplicate_window_ms:
            if not (kind == "dispense" and _dispensed_or_pending(earlier[0])):
                return self._show_duplicate(seq, text, pack, earlier[0], now_ms)
            # a pack dispensed here moments ago, or awaiting the answer: the outbox's check says which,
            # with the time it was done or how long it has waited (one rule, inside the window too)
        expired = outcomes.expired_on(result.expiry, today)
        scan = _Scan(seq, self.mode, kind, text, pack, ref, expired, check)
        if expired and kind != "verify":
            return self._finish(scan, outcomes.Outcome("expired", None, "expired_by_date"), now_ms)
        self._current = scan
        return [Effect(RECORD, RecordRequest(kind, ref, text, self.mode))]

    def recorded(self, op_seq, refusal, now_ms, since_wall_ns=None, age_ns=None):
        """The outbox's answer to RECORD: the op's seq, or the reason of a local refusal (with the
        earlier op's time, and for a pending one how long it has waited: ``age_ns``)."""
        scan = self._take_current()
        if scan is None:
            return []
        if refusal is not None:
            if refusal == "already_dispensed_here":
                self._dispensed.add(scan.ref.pack_key)
            details = {}
            if age_ns is not None:
                details["age_ns"] = age_ns
            elif since_wall_ns is not None:
                details["since_wall_ns"] = since_wall_ns
            return self._finish(scan, outcomes.of_refusal(refusal), now_ms, details=details)
        scan.seq = op_seq
        if scan.kind == "dispense":
            self._dispensed.add(scan.ref.pack_key)
        elif scan.kind == "undo_dispense":
            self._dispensed.discard(scan.ref.pack_key)
        self._current = scan
        return [
            Effect(SCREEN, Notice("checking", scan.mode, busy=True, signal="working")),
            Effect(SEND, op_seq),
        ]

    def yielded(self, op_seq, reason, where, now_ms):
        """The site ledger (``fmd_core.site_ledger``): another counter of the site decommissioned, or is
        decommissioning, this pack; the op ``op_seq`` was recorded and cancelled here, nothing sent.
        ``where``: {"counter", "at"} for the headline ("already dispensed at counter 2 at 10:42")."""
        scan = self._take_current()
        if scan is None:
            return []
        scan.seq = op_seq
        return self._finish(scan, outcomes.of_site(reason), now_ms, details={"site": where}, recorded=True)

    def record_failed(self, now_ms):
        scan = self._take_current()
        if scan is None:
            return []
        return self._finish(scan, outcomes.Outcome("not_recorded"), now_ms)

    def settled(self, state, answer, now_ms, dispensed_here=None, offline=False, paused=None, site=None):
        """The live send's end: the op state and its answer, or state None when no answer came in time.

        ``dispensed_here``: whether the outbox shows this terminal's dispense of the pack; None lets the
        flow answer from what it saw during this run. ``offline`` (with state None): the request never
        reached the service, so the op is "recorded, verification deferred" rather than "awaiting answer".
        ``paused``: the outbox's queue pause (OFFLINE-QUEUE.md 4.3) when no answer came: a login pause is
        "check the account" (VERIFICATION-SERVICE.md section 10), a certificate pause "renew the
        certificate" (section 8), a clock pause "waiting for the correct time" (4.3); the scan stays
        recorded, and its later settlement is shown as "resolved".
        """
        scan = self._take_current()
        if scan is None:
            return []
        if dispensed_here is None:
            dispensed_here = scan.ref.pack_key in self._dispensed
        by_pause = outcomes.of_pause(paused) if state is None else None
        if by_pause is not None:
            outcome = by_pause
        elif state is None and offline:
            outcome = outcomes.Outcome("recorded_offline")
        elif state is None:
            outcome = outcomes.Outcome("pending", None, "recorded_awaiting")
        else:
            outcome = outcomes.of_settlement(scan.kind, state, answer, dispensed_here)
        if scan.expired and outcome.light == outcomes.GREEN:
            outcome = outcomes.Outcome("expired", None, "expired_by_date")
        outcome, details = _site_explained(outcome, answer, site)
        if state is None or outcome.code in ("pending", "recorded_offline"):
            self._pending[scan.seq] = scan
        return self._finish(scan, outcome, now_ms, answer=answer, details=details, recorded=True)

    def resolved(self, seq, kind, state, answer, now_ms, dispensed_here=None, pack=None, site=None):
        """A later settlement of an op that was shown as pending (this run or an earlier one).

        Issue 11, item 5: a late result never replaces the verdict of the pack in hand. It is
        journaled and counted on the queue badge (LATE); a red one also becomes its own red notice
        naming its pack (ALERT, message ``late_alert``), shown once no scan is in progress and the
        current verdict's hold time has ended, one after another. Every late result is counted for the
        idle screen's queue notice ("3 answers received", ``Notice.received``), shown once the screen is
        free: at once when it is, else when the verdict in hand's hold ends (``tick``), after the alerts.
        ``pack``: the op's pack (decoder fields) when the scan is not from this run. ``site``: the site
        ledger's explanation of an already-inactive answer (``fmd_core.site_ledger.explains_already_inactive``),
        applied as to a live answer (``settled``).
        """
        scan = self._pending.pop(seq, None)
        key = scan.ref.pack_key if scan is not None else None
        if dispensed_here is None:
            dispensed_here = key in self._dispensed
        outcome = outcomes.of_settlement(kind, state, answer, dispensed_here)
        if outcome.code in ("pending", "recorded_offline"):
            if scan is not None:
                self._pending[seq] = scan
            return []
        if scan is not None and scan.expired and outcome.light == outcomes.GREEN:
            outcome = outcomes.Outcome("expired", None, "expired_by_date")
        mode = scan.mode if scan else self.mode
        raw = scan.raw if scan else None
        pack = scan.pack if scan else pack
        outcome, explained = _site_explained(outcome, answer, site)
        details = _answer_details(answer, kind)
        details.update(explained or {})
        if scan is not None and scan.receiving is not None:  # as ``_finish``: the note's check goes with it
            details["receiving"] = scan.receiving
            details["service_light"] = outcome.light
            if scan.receiving.problems and outcome.light == outcomes.GREEN:
                outcome = outcomes.Outcome(outcome.code, outcomes.AMBER, outcome.message_id)
        verdict = Verdict("resolved", seq, mode, raw, pack, None, outcome, *_codes(answer), details=details,
                          recorded=True)
        if scan is not None:
            self._recent[(scan.mode, key)] = (verdict, now_ms)
        self._received += 1
        effects = [Effect(LATE, verdict)]
        if outcome.light == outcomes.RED:
            late = dict(details)
            late["late"] = True
            notice = outcomes.Outcome(outcome.code, outcomes.RED, "late_alert")
            self._late_alerts.append(
                Verdict("resolved", seq, mode, raw, pack, None, notice, *_codes(answer), details=late, recorded=True))
            effects.extend(self._next_late_alert(now_ms))
        elif self._screen_free():
            effects.append(self._idle())  # "n answers received" on the idle screen, never over a verdict
        return effects

    def _screen_free(self):
        """No scan in progress and no verdict or notice within its hold time (issue 11, item 5)."""
        return self._current is None and self._shown_at is None

    def _screen_taken(self):
        """A scan or another screen took the idle screen: late results counted from now on are new."""
        if self._told:
            self._received = 0
            self._told = False

    def _next_late_alert(self, now_ms):
        """The oldest late red result waiting, if the screen is free: no scan in progress and no
        verdict within its hold time."""
        if not self._late_alerts or not self._screen_free():
            return []
        self._shown_at = now_ms
        return [Effect(ALERT, self._late_alerts.pop(0))]

    # -- helpers -------------------------------------------------------------------------------

    @property
    def pending_seqs(self):
        return sorted(self._pending)

    def _take_current(self):
        scan = self._current
        self._current = None
        return scan

    def _idle(self):
        """The idle screen, saying how many late results came since it last did (the queue notice)."""
        if self._received:
            self._told = True
        return Effect(SCREEN, Notice("ready", self.mode, received=self._received))

    def _decode_failed(self, seq, text, reason, now_ms):
        self._failures += 1
        outcome = outcomes.of_decode_error(reason, self._failures)
        return self._show(Verdict("scan", seq, self.mode, text, None, reason, outcome), now_ms)

    def _show_duplicate(self, seq, text, pack, earlier, now_ms):
        light = earlier.light
        if light == outcomes.GREEN and earlier.details.get("kind", "verify") != "verify":
            light = outcomes.AMBER  # a change done here is never shown green a second time (issue 11, item 6)
        outcome = outcomes.Outcome("duplicate_scan", light, "duplicate_scan")
        details = dict(earlier.details)
        details["earlier"] = earlier.message_id
        verdict = Verdict(
            "scan",
            earlier.seq if earlier.recorded else seq,
            self.mode,
            text,
            pack,
            None,
            outcome,
            earlier.service_code,
            earlier.alert_code,
            details,
            earlier.recorded,
        )
        return self._show(verdict, now_ms)

    def _finish(self, scan, outcome, now_ms, answer=None, details=None, recorded=False):
        merged = _answer_details(answer, scan.kind)
        if details:
            merged.update(details)
        if scan.receiving is not None:  # the note's check goes with the verdict; a difference is never green
            merged["receiving"] = scan.receiving
            if scan.kind == "verify" and op_kind(scan.mode, self.role) != "verify":
                merged["verify_only"] = True  # a pack a pui_dock did not decommission: it can go back
            merged["service_light"] = outcome.light  # the service's own word, for the session's tally
            if scan.receiving.problems and outcome.light == outcomes.GREEN:
                outcome = outcomes.Outcome(outcome.code, outcomes.AMBER, outcome.message_id)
        verdict = Verdict(
            "scan",
            scan.seq,
            scan.mode,
            scan.raw,
            scan.pack,
            None,
            outcome,
            *_codes(answer),
            details=merged,
            recorded=recorded,
        )
        self._recent[(scan.mode, scan.ref.pack_key)] = (verdict, now_ms)
        return self._show(verdict, now_ms)

    def _show(self, verdict, now_ms):
        self._shown_at = now_ms
        self._forget_old(now_ms)
        return [Effect(SHOW, verdict)]

    def _forget_old(self, now_ms):
        old = [key for key, (_v, at) in self._recent.items() if now_ms - at >= self.duplicate_window_ms]
        for key in old:
            del self._recent[key]


def _dispensed_or_pending(verdict):
    """A recorded dispense shown green, or as recorded without an answer yet."""
    return verdict.recorded and (verdict.light == outcomes.GREEN or verdict.outcome in ("pending", "recorded_offline"))


def _codes(answer):
    if answer is None:
        return (None, None)
    return (answer.operation_code, answer.alert_code)


def _site_explained(outcome, answer, site):
    """(outcome, details) once the site ledger's word ``site`` ((reason, where) or None) is applied to
    an answer (README, "Site ledger"): an already-inactive answer for a pack the site decommissioned is
    that site decommission (amber, where and when), and so is NMVS_NC_PCK_23 (the same pharmacy account
    already set that state: at another counter of the site); an alert with such a code stays red,
    explained."""
    if site is not None and outcome.code in ("inactive_elsewhere", "already_done_here"):
        return outcomes.of_site(site[0]), {"site": site[1]}
    if site is not None and outcome.code == "alert" and _codes(answer)[0] in _SITE_EXPLAINS:
        return outcome, {"site": site[1], "explained": site[0]}  # red stays red: the alert was raised
    return outcome, None


def _answer_details(answer, kind):
    details = {"kind": kind}
    if answer is not None:
        if answer.alert_id:
            details["alert_id"] = answer.alert_id
        if answer.product_name:
            details["product_name"] = answer.product_name
        if answer.description:
            details["description"] = answer.description
    return details
