"""The one composition root (ARCHITECTURE.md, principle 4): builds the adapters, runs the main loop.

``build(config)`` opens every adapter from its URL inside an ``ExitStack`` and hands them to a
``Terminal``; ``Terminal.run()`` reads the scanner, feeds the pure flow (``fmd_core.flow``) and carries
out its effects: record in the outbox, send live, draw, signal, journal, tell systemd.

The main loop never dies on a bad code, an unreachable service or a refused pack (principle 5):
those are outcomes. Anything unexpected is caught once, at the top of the loop, logged, and shown as
a neutral fault screen (no light, never green), and the loop goes on.

The queue on the screen (issue 5, item 3; OFFLINE-QUEUE.md 2.3, 6.4, 8): the worker's status, the pause
and the outbox's storage alarms (fault, low space, WAL) are read at most once per ``QUEUE_REFRESH_MS`` while the loop turns (and
afresh for each screen drawn), and become a ``QueueNotice`` (``fmd_core.outcomes.queue_notice``). The
idle screen is redrawn only when its model changes; the LEDs and buzzer play the alarm's light once when
its level rises (15 min or low space amber, 4 h or storage fault red), only on the idle screen, so a verdict's own
light is never overwritten.

The live path never holds the counter (issue 11; OFFLINE-QUEUE.md 5.1 step 6, 6.2): a recorded scan is
handed to the worker (``submit_live``) and the loop goes on reading the scanner while it waits; the
answer, or the end of the ticket's wait (3 s on a healthy link, about 300 ms on a link known down), is
shown for the pack it names. The next scan ends the wait of the one before ("recorded, awaiting answer",
amber), at most half a second after that one was sent (``HANDOVER_MS``), so input is never held behind a
pending request; a scripted scanner, and lines queued together with the waiting scan (a paste, a pipe),
are replayed as a person who waits for each verdict. Late results of earlier scans (``LATE``) are
journaled and refresh the badge of whatever is on screen without replacing it; a late red one comes as
its own red notice (``ALERT``) once the screen is free, and then the idle screen says how many came
("3 réponses reçues": the queue notice, ``Notice.received``), never before the verdict in hand has had
its hold time.

Receiving a delivery (issue 17; ``fmd_terminal.receiving``): ``start_receiving(note)`` (the ``receive``
command, a scanned ``FMD-NOTE-<reference>`` found in the notes folder, or ``request_receiving`` from
another thread such as a USB watcher) puts the note's tally on the flow and switches to receive mode;
every verdict, shown or late, goes to the session; ``close_receiving()`` (the close code
``FMD-RECEIVE-END``, ``request_close``, or the end of the ``receive`` command) shows the tally and keeps
it in the outbox and as files. A session left open by a power cut or a killed process is taken up again
at ``start`` ("Réception reprise", its count so far); one that can no longer be read is closed as
interrupted, and the screen says so.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fmd_core.flow import ALERT, LATE, RECORD, SCREEN, SEND, SHOW, Effect, Flow, Notice, Verdict
from fmd_core.modes import RECEIVE, is_close_scan, note_reference_of_scan
from fmd_core.outcomes import STORAGE_FAULT, QueueNotice, alarm_rise, queue_notice
from fmd_terminal.config import Config
from fmd_terminal.errors import StorageError, TerminalError
from fmd_terminal.i18n import Translator
from fmd_terminal.journal import Journal
from fmd_terminal.outbox import RECEIVING_MODES, OpRequest, RecordedOp
from fmd_terminal.presenter import LINE_CHARS, Presenter, quarter_lines
from fmd_terminal.scanners import CALIBRATED, END, FAULT, MODE, SCAN, ScannerCheck

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.2
LIVE_POLL_S = 0.005  # while a live scan waits for its answer, the scanner is looked at this often
HANDOVER_MS = 500  # a next scan this soon after a live one was sent waits this long for that one's answer
QUEUE_REFRESH_MS = 1000  # the idle screen's queue notice is re-read at most this often
END_WAIT_S = 30.0  # at a script's end, how long this run's receiving ops may wait for their bulk's results


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def trusted_today() -> str | None:
    """Today's date for the expiry check, or None while the clock is clearly unset (before 2025)."""
    today = time.strftime("%Y-%m-%d")
    return today if today >= "2025-01-01" else None


class _Silent:
    """Stands in for the systemd notifier when none is given."""

    def ready(self) -> None: ...

    def status(self, text: str) -> None: ...

    def watchdog(self) -> None: ...

    def stopping(self) -> None: ...


def _pack_fields(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The product code and serial of an op's row, as the decoder names them (a late result's pack)."""
    if not row:
        return None
    return {"product_code_scheme": row["scheme"], "product_code": row["product_code"], "serial": row["serial"]}


def _short(pack: dict[str, Any] | None) -> str:
    """A pack for the log: product code and the serial's last four characters only."""
    if not pack:
        return "-"
    return f"{pack.get('product_code')}/…{(pack.get('serial') or '')[-4:]}"


class Terminal:
    """The main loop over injected adapters. ``clock`` gives monotonic ms, ``today`` a trusted date."""

    def __init__(self, *, flow: Flow, scanner: Any, screen: Any, indicators: Any, outbox: Any, worker: Any,
                 presenter: Presenter, journal: Journal, notifier: Any = None, live_deadline_s: float = 3.0, clock: Callable[[], int] = monotonic_ms,
                 today: Callable[[], str | None] = trusted_today, site: Any = None, desk: Any = None) -> None:
        self.flow = flow
        self.scanner = scanner
        self.screen = screen
        self.indicators = indicators
        self.outbox = outbox
        self.worker = worker
        self.presenter = presenter
        self.journal = journal
        self.notifier = notifier or _Silent()
        self.live_deadline_s = live_deadline_s
        self.clock = clock
        self.today = today
        self.site = site  # the site ledger's hook (fmd_terminal.ledger.mqtt.SiteLedger) or None
        self.desk = desk  # the receiving settings (fmd_terminal.receiving.desk.Desk) or None: defaults
        self.session: Any = None  # the receiving session (fmd_terminal.receiving.session) or None
        self.summaries: list[tuple[Any, list[Any]]] = []  # (Summary, files written) per session closed
        self._asked_note: Any = None  # a note another thread asked to receive (request_receiving)
        self._asked_close = False
        self._asked_problem: Any = None  # a note problem another thread asked to show (request_note_problem)
        self.stick: Any = None  # the USB stick watcher (receiving.usb.StickWatcher) or None (receiving.stick_dock)
        self._restart_items: tuple = ()  # the restart list at start, kept on a resumed session's screen
        self.shown: list[Verdict] = []  # every verdict shown, in order (tests, the demo)
        self._ops: dict[int, RecordedOp] = {}
        self._presses = 0
        self._asked_mode: str | None = None  # a mode the web console asked for (issue 15)
        self._asked_lang: str | None = None  # a language the web console asked for (issue 15)
        self._lock = threading.Lock()
        self.ended = False
        self._queue: QueueNotice | None = None  # the queue notice last read
        self._queue_read_ms: int | None = None
        self._alarm: str | None = None  # the alarm level last signalled (or seen) on the idle screen
        self._idle: Notice | None = None  # the idle notice while it is on screen, else None
        self._model: Any = None  # the model on screen
        self._on_screen: Verdict | Notice | None = None  # what the model shows, redrawn when a late result comes
        self._live: tuple[Any, RecordedOp] | None = None  # (ticket, op) of the live scan waiting for its answer
        self._live_since_ms = 0  # time.monotonic in ms when it was handed to the worker
        self._held: Any = None  # an event read while it waits, replayed after its verdict (or ``_held_until``)
        self._held_until: int | None = None  # time.monotonic in ms when a held next scan ends the wait
        self._end_seen = False  # the scanner ended while a live scan was waiting
        self._gathered: set[int] = set()  # receiving ops of this run handed to the worker's bulks (issue 17)
        self._end_wait_until: float | None = None  # time.monotonic: the script ended, bulk results awaited until
        self._scanner_missing: str | None = None  # why the scanner is absent, while the idle screen says so
        self._scanner_read_ms: int | None = None

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        recent = self._recent_ops()
        self.apply(self.flow.start(self.clock(), recent))
        self._resume_receiving(recent)
        self.notifier.ready()
        missing = self._scanner_absent()
        if missing is not None:
            self.notifier.status(f"waiting for the scanner ({missing}), mode {self.flow.mode}")
        else:
            self.notifier.status(f"ready, mode {self.flow.mode}, {self._pending()} pending")

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Run until the scanner ends (a script, closed stdin) or ``should_stop()``; returns 0."""
        self.start()
        while not self.ended and not should_stop():
            self.step()
        self.notifier.stopping()
        return 0

    def step(self, timeout_s: float = READ_TIMEOUT_S) -> None:
        """One turn: read one scanner event, apply what follows, collect late settlements."""
        try:
            self._turn(timeout_s)
        except Exception:  # the top-level loop: log, show a neutral screen, go on (ARCHITECTURE.md)
            log.exception("unexpected error in the main loop; the terminal carries on")
            self._show_fault()
        self.notifier.watchdog()

    def _turn(self, timeout_s: float) -> None:
        self._button_turn()
        if self._live is not None:
            mono_ms = time.monotonic_ns() // 1_000_000
            self._live_turn(give_up=self._held_until is not None and mono_ms >= self._held_until)
        event = self._read(timeout_s)
        if event is not None and event.kind == SCAN:
            self._button_turn()  # asked while the read waited (a note from the console): before this scan
        if event is not None and self._live is not None and event.kind != END:
            mono_ms = time.monotonic_ns() // 1_000_000
            if 0 < event.received_ms < self._live_since_ms:
                self._held, event = event, None  # pasted or piped with it: replayed in order, after its verdict
            elif mono_ms - self._live_since_ms < HANDOVER_MS:
                self._held, event = event, None  # half a second at most for the earlier answer, then it ends
                self._held_until = self._live_since_ms + HANDOVER_MS
            else:
                self._live_turn(give_up=True)  # the next scan came: the earlier one is "awaiting answer"
        now = self.clock()
        if event is None and self._live is not None:
            effects = []  # "checking" stays until the answer or the end of the wait
        elif event is None:
            effects = self.flow.tick(now)
        elif event.kind == SCAN and self._receiving_scan(event.text):
            effects = []  # a delivery note's barcode or the close code: handled, its screen drawn
        elif event.kind == SCAN:
            effects = self.flow.scan(event.text, now, self.today())
        elif event.kind == MODE:
            effects = self.flow.switch_mode(event.text, now)
        elif event.kind == FAULT and event.check is not None:
            effects = self._scanner_check(event.check, event.text, now)
        elif event.kind == FAULT:
            log.warning("scanner: %s", event.text)
            effects = self.flow.fault(event.text, now)
        elif event.kind == END:
            self._end_seen = True
            effects = []
        else:
            log.warning("scanner reported an unknown event %r", event)
            effects = []
        self.apply(effects)
        if self._end_seen and self._live is None and not self._bulk_awaited():
            self.ended = True
        self.collect_resolutions()
        self.refresh_idle(self.clock())
        self._watch_scanner(self.clock())

    def _bulk_awaited(self) -> bool:
        """At a script's end, this run's receiving ops still waiting for their bulk (issue 17) keep the loop
        and the worker going, at most ``END_WAIT_S``, so a scripted delivery ends with its results shown."""
        self._gathered = {seq for seq in self._gathered if self._op_state(seq) in ("queued", "in_flight")}
        if not self._gathered:
            return False
        now = time.monotonic()
        if self._end_wait_until is None:
            self._end_wait_until = now + END_WAIT_S
        if now >= self._end_wait_until:
            log.warning("the script ended; %d receiving op(s) still wait for their bulk and stay queued",
                        len(self._gathered))
            return False
        time.sleep(LIVE_POLL_S * 10)
        return True

    def _read(self, timeout_s: float) -> Any:
        """The next scanner event; while a live scan waits, only a short look (none for a scripted
        scanner, which waits for each verdict as a person would), so its answer is shown at once."""
        if self._live is None:
            held, self._held, self._held_until = self._held, None, None
            if held is not None or self._end_seen:
                return held
            return self.scanner.read(timeout_s)
        self.worker.wait_live(self._live[0], LIVE_POLL_S)  # wakes as soon as the answer is there
        if self._end_seen or self._held is not None or getattr(self.scanner, "waits_for_verdict", False):
            return None
        return self.scanner.read(0)

    def _live_turn(self, give_up: bool = False) -> None:
        """Show the live scan's answer once it came, or "recorded" once its wait ended (or ``give_up``)."""
        assert self._live is not None
        ticket, op = self._live
        done, settlement = self.worker.live_result(ticket, give_up=give_up)
        if done:
            self._live = None
            gathered = getattr(ticket, "gathered", False)
            if gathered:
                self._gathered.add(op.seq)
            self.apply(self._settled(op, settlement, gathered=gathered))

    def _scanner_check(self, check: ScannerCheck, text: str, now: int) -> list[Effect]:
        """The scan guard's word (issue 8): a calibration result, or a held scan (amber, never sent)."""
        if check.reason == CALIBRATED:
            log.info("scanner calibration: %s", text)
            return self.flow.calibrated(check.problems, now)
        log.warning("scan held, not sent (%s): %s", check.reason, text)
        return self.flow.held(check.raw, check.reason, check.problems, now)

    def press_mode_button(self) -> None:
        """Called from the button's thread: only counted here, handled by the loop's thread."""
        with self._lock:
            self._presses += 1

    def request_mode(self, mode: str) -> None:
        """Called from the web console's thread: switch to ``mode`` at the loop's next turn."""
        with self._lock:
            self._asked_mode = mode

    def request_language(self, lang: str) -> None:
        """Called from the web console's thread: the screen speaks ``lang`` from the loop's next turn."""
        with self._lock:
            self._asked_lang = lang

    def request_receiving(self, note: Any) -> None:
        """Called from another thread (a USB watcher, the web console): receive ``note`` (a
        ``DeliveryNote``) at the loop's next turn."""
        with self._lock:
            self._asked_note = note

    def request_close(self) -> None:
        """Called from another thread: close the receiving session at the loop's next turn."""
        with self._lock:
            self._asked_close = True

    def request_note_problem(self, problem: Any, name: str = "") -> None:
        """Called from another thread (the USB stick watcher): show ``problem`` (a ``NoteError``; ``name``
        the note's file as the person knows it, when the error names a copy) at the
        loop's next turn (the latest one, if several came meanwhile: each is logged here); the session, if
        one is open, goes on."""
        for each in problem.problems:
            log.warning("%s", each)
        with self._lock:
            self._asked_problem = (problem, name)

    def _button_turn(self) -> None:
        with self._lock:
            presses, self._presses = self._presses, 0
            asked, self._asked_mode = self._asked_mode, None
            lang, self._asked_lang = self._asked_lang, None
            note, self._asked_note = self._asked_note, None
            close, self._asked_close = self._asked_close, False
            problem, self._asked_problem = self._asked_problem, None
        if lang is not None and lang != self.presenter.t.lang:
            self.presenter.t.switch(lang)
            forget = getattr(self.presenter.health, "forget", None)
            if forget is not None:
                forget()  # the credential lines are read again, in the new language
            if isinstance(self._on_screen, Notice) and asked is None:  # redrawn in the new language,
                self._model = self.presenter.notice(self._on_screen, queue=self._read_queue(self.clock()))
                self.screen.show(self._model)  # lights and sound unchanged (a verdict keeps its hold)
        if close:
            self.close_receiving()
        if problem is not None:
            error, name = problem
            self._show_note_problem(error, name, logged=True)
        if note is not None:
            self.start_receiving(note)
        if asked is not None:
            self.apply(self.flow.switch_mode(asked, self.clock()))
        for _ in range(presses):
            self.apply(self.flow.next_mode(self.clock()))

    # -- receiving a delivery (issue 17) ---------------------------------------------------------------

    def start_receiving(self, note: Any) -> Any:
        """Receive ``note``: a session whose tally the flow checks each receive scan against, in receive
        mode; an open session is closed first. None, with the screen saying so, where the role has no
        receive mode."""
        from fmd_terminal.receiving.session import ReceivingSession

        if RECEIVE not in self.flow.modes:
            self._draw(self.presenter.receiving(self.presenter.t("receive_not_in_role"), [
                self.presenter.t("line.role", role=self.presenter.t("role." + str(self.flow.role))),
                self.presenter.t("line.role_fix")], self.flow.mode), "fault")
            self._idle = None
            return None
        resumed = self.session
        if resumed is not None and resumed.resumed and (resumed.note.reference, resumed.note.lines) == (
                note.reference, note.lines):  # the same delivery, resumed after a restart: it goes on
            self._show_resumed()
            return resumed
        if self.session is not None:
            self.close_receiving()
        short = self.desk.short_expiry_days if self.desk else 0
        try:
            session = ReceivingSession(note, short_expiry_days=short, role=self.flow.role, outbox=self.outbox)
        except StorageError as error:  # the ops are still recorded one by one; only the session's copy is lost
            log.error("receiving session not kept in the outbox: %s", error)
            session = ReceivingSession(note, short_expiry_days=short, role=self.flow.role)
        self._take_session(session)
        log.info("receiving %s from %s: %d lines", note.reference, note.source, len(note.lines))
        t = self.presenter.t
        self._draw(self.presenter.receiving(t("receive_started", reference=note.reference), [
            t("line.receive_lines", lines=len(note.lines)),
            t("line.receive_packs", packs=sum(line.quantity for line in note.lines))], RECEIVE,
            queue=self._read_queue(self.clock())), "mode_changed")
        self._idle = None
        return self.session

    def _take_session(self, session: Any) -> None:
        """``session`` becomes the one open: the flow checks receive scans against its tally."""
        self.session = session
        self.flow.receipt = session.receipt
        self.presenter.session = self._session_lines  # type: ignore[method-assign]
        self.flow.switch_mode(RECEIVE, self.clock())

    def _resume_receiving(self, recent: list[tuple] | None = None) -> None:
        """At start: a session the outbox holds open (a power cut, a killed process) is taken up again,
        the newest one; any older one, and one that no longer reads (``SessionDamaged``) or that the
        role cannot receive in, is closed (as interrupted when it does not read); nothing is deleted.
        ``recent``: the restart list (the last op before the restart), kept on the resumed screen."""
        from fmd_terminal.outbox import receipts
        from fmd_terminal.receiving.session import ReceivingSession, SessionDamaged, interrupt

        if not hasattr(self.outbox, "transaction"):
            return  # an outbox that cannot be opened keeps nothing to resume
        short = self.desk.short_expiry_days if self.desk else 0
        try:
            stored = receipts.open_receipts(self.outbox)
            for n, record in enumerate(stored, 1):
                try:
                    session = ReceivingSession.resume(self.outbox, record, short_expiry_days=short)
                except SessionDamaged as error:
                    log.error("%s", error)
                    summary = interrupt(self.outbox, record, time.time_ns())
                    t = self.presenter.t
                    self._draw(self.presenter.receiving(t("receive_interrupted"), [
                        summary.reference, t("line.receive_interrupted"), t("line.receive_scan_note")],
                        self.flow.mode), "fault")
                    self._idle = None
                    continue
                if n < len(stored) or RECEIVE not in self.flow.modes:
                    log.warning("receipt %s left open before the restart: closed", record["reference"])
                    session.close()
                    continue
                self._take_session(session)
                log.info("receiving %s resumed after a restart: %d pack(s) noted", record["reference"],
                         len(session.packs))
                self._restart_items = tuple(recent or ())
                self._show_resumed()
        except StorageError as error:  # the ops are in the outbox; the session's copy stays open for later
            log.error("receiving session not resumed: %s", error)

    def _show_resumed(self) -> None:
        """"Réception reprise : <reference>", the packs counted on the note of those ordered, and below
        them the restart list's last op (OFFLINE-QUEUE.md 5.3: its result may not have been shown)."""
        lines = self._session_lines() + self.presenter.restart_lines(self._restart_items)
        self._draw(self.presenter.receiving(self.presenter.t("receive_resumed", reference=self.session.note.reference),
                                            lines, RECEIVE, queue=self._read_queue(self.clock())), "mode_changed")
        self._idle = None

    def close_receiving(self) -> Any:
        """Close the session: its tally on screen, in the outbox and as files (``desk.receipts_dir``);
        returns the ``Summary`` (None when no session was open)."""
        session, self.session = self.session, None
        if session is None:
            return None
        self.flow.receipt = None
        self.presenter.session = lambda: []  # type: ignore[method-assign]
        summary = session.close()
        files: list[Any] = []
        try:
            files = self.desk.write(summary) if self.desk is not None else []
        except TerminalError as error:  # the tally stays in the outbox: export writes the files later
            log.error("receipt summary not written: %s", error)
        self.summaries.append((summary, files))
        log.info("receipt %s closed: %s; files %s", summary.reference, summary.totals, [str(f) for f in files])
        totals, t = summary.totals, self.presenter.t
        self._draw(self.presenter.receiving(t("receive_closed"), [
            t("line.receive_received", n=totals["accepted"], ordered=totals["ordered"]),
            t("line.receive_missing", n=totals["missing"], extra=totals["extra"]),
            t("line.receive_refused", n=totals["refused"], alerts=totals["alerts"])], self.flow.mode,
            light="red" if totals["alerts"] else None, queue=self._read_queue(self.clock())), None)
        self._idle = None
        return summary

    def _session_lines(self) -> list[str]:
        """The idle screen's word during a session: the note and the packs scanned on it of those ordered."""
        receipt = self.session.receipt if self.session is not None else None
        if receipt is None:
            return []
        counted, ordered = sum(receipt.counted), sum(entry.quantity for entry in receipt.entries)
        return [self.presenter.t("line.receive_progress", name=self.session.note.reference, counted=counted,
                                 quantity=ordered)]

    def settle_receiving(self, wait_s: float, poll_s: float = 0.05) -> int:
        """Turn the loop without reading scans until every pack of the session has its answer, or
        ``wait_s`` passed; returns the packs still pending (the outbox keeps sending them)."""
        deadline = time.monotonic() + wait_s
        while self.session is not None and self.session.pending() and time.monotonic() < deadline:
            time.sleep(poll_s)  # the worker sends on its own thread; its results are collected here
            self.collect_resolutions()
            self.session.catch_up()  # ops from before a restart: their state in the outbox
        return self.session.pending() if self.session is not None else 0

    def _receiving_scan(self, text: str) -> bool:
        """A delivery note's barcode or the close code (issue 17), handled here: True; else False."""
        if is_close_scan(text):
            self.close_receiving()
            return True
        reference = note_reference_of_scan(text)
        if reference is None:
            return False
        from fmd_terminal.receiving.desk import Desk, NoteNotFound
        from fmd_terminal.receiving.note import NoteError

        t = self.presenter.t
        try:
            note = (self.desk or Desk()).find_note(reference)
        except NoteNotFound as error:
            log.warning("%s", error)
            if self.stick is not None:
                self.stick.want(reference)  # a stick holding it hands it over (now or when it comes)
            self._draw(self.presenter.receiving(t("receive_no_note"), [
                reference, t("line.receive_place_note", reference=reference)], self.flow.mode), "fault")
        except NoteError as error:
            self._show_note_problem(error, reference)
            return True
        else:
            self.start_receiving(note)
            return True
        self._idle = None
        return True

    def _show_note_problem(self, error: Any, name: str = "", logged: bool = False) -> None:
        """A note that cannot be received (``NoteError``): a stick's own problem in its one screen line
        (``receiving.usb.screen_line``), else "delivery note refused" with the first line to correct;
        every problem goes to the log."""
        from fmd_terminal.receiving.usb import screen_line

        for problem in () if logged else error.problems:
            log.warning("%s", problem)
        t = self.presenter.t
        stick_line = screen_line(error, t)
        if stick_line is not None:  # one sentence, over the screen's rows
            title, lines = t("receive_usb_problem"), textwrap.wrap(stick_line, LINE_CHARS)
        else:
            source = name or Path(str(error.fields.get("path") or "-")).name
            title, lines = t("receive_bad_note"), [source, t("line.receive_bad_note", line=error.fields.get("line") or "-")]
        self._draw(self.presenter.receiving(title, lines, self.flow.mode), "fault")
        self._idle = None

    def _to_session(self, verdict: Verdict) -> None:
        if self.session is None or not self.session.owns(verdict):
            return
        try:
            self.session.on_verdict(verdict)
        except StorageError as error:  # the op itself is in the outbox; only the session's copy is late
            log.error("receiving session: pack not noted: %s", error)

    def collect_resolutions(self) -> None:
        for settlement in self.worker.take_resolutions():
            now = self.clock()
            row = self._op_row(settlement.seq)
            self.apply(self.flow.resolved(settlement.seq, settlement.kind, settlement.state, settlement.answer,
                                          now, dispensed_here=self._dispensed_here(settlement.seq, (row or {}).get("pack_key")),
                                          pack=_pack_fields(row), site=self._site_word(settlement.kind, row)))

    def _op_row(self, seq: int) -> dict[str, Any] | None:
        """The op's outbox row (for a late result, maybe of a scan from an earlier run), or None."""
        read = getattr(self.outbox, "op", None)
        try:
            return read(seq) if read is not None else None
        except (StorageError, LookupError):
            return None

    def _site_word(self, kind: str, row: dict[str, Any] | None) -> tuple[str, dict] | None:
        """The site ledger's explanation of an already-inactive answer for this op's pack (issue 16)."""
        if self.site is None or not row:
            return None
        from fmd_terminal.outbox.sqlite import pack_of

        return self.site.explain(kind, pack_of(row))

    # -- effects -------------------------------------------------------------------------------

    def apply(self, effects: list[Effect]) -> None:
        queue = list(effects)
        while queue:
            effect = queue.pop(0)
            if effect.kind == SHOW:
                self._show(effect.payload)
            elif effect.kind == SCREEN:
                self._notice(effect.payload)
            elif effect.kind == RECORD:
                queue.extend(self._record(effect.payload))
            elif effect.kind == SEND:
                self._send(effect.payload)
            elif effect.kind == LATE:
                self._late(effect.payload)
            elif effect.kind == ALERT:
                self._draw_verdict(effect.payload)

    # -- the queue on the screen (issue 5, item 3) ---------------------------------------------------

    # -- no "ready" without a scanner (issue 12) ------------------------------------------------------

    def _scanner_absent(self) -> str | None:
        """Why the scanner is not there (its adapter's ``missing()``), else None."""
        self._scanner_read_ms = self.clock()
        missing = getattr(self.scanner, "missing", None)
        return missing() if missing is not None else None

    def _instead_of_ready(self, notice: Notice) -> Notice:
        """The idle screen while the scanner is absent: what is missing (fault beeps once), never "ready"."""
        missing = self._scanner_absent()
        first = self._scanner_missing is None
        self._scanner_missing = missing
        if missing is None:
            return notice
        if first:
            log.warning("no scanner: %s; the idle screen says so until it is there", missing)
        return Notice("scanner_fault", notice.mode, detail=self.presenter.t("line.plug_scanner"),
                      signal="fault" if first else None)

    def _watch_scanner(self, now_ms: int) -> None:
        """While the scanner is absent, look again at most once per ``QUEUE_REFRESH_MS``; "ready" when back."""
        if self._scanner_missing is None or (self._scanner_read_ms is not None
                                             and now_ms - self._scanner_read_ms < QUEUE_REFRESH_MS):
            return
        if self._scanner_absent() is None:
            self._scanner_missing = None
            log.info("scanner present: ready")
            self.apply([Effect(SCREEN, Notice("ready", self.flow.mode, signal="ready"))])

    def _notice(self, notice: Notice) -> None:
        if notice.message_id == "ready":
            notice = self._instead_of_ready(notice)
        queue = self._read_queue(self.clock())
        signal = notice.signal
        if notice.message_id == "ready":
            signal = alarm_rise(self._alarm, queue.level) or signal
            self._alarm = queue.level
        self._draw(self.presenter.notice(notice, queue=queue), signal)
        self._on_screen = notice
        self._idle = notice if notice.message_id == "ready" else None

    def refresh_idle(self, now_ms: int) -> None:
        """Re-read the queue (at most once per ``QUEUE_REFRESH_MS``) and, while the idle screen is up,
        redraw it if its model changed; signal the alarm's light once if its level rose, and put the
        lights out (no sound) if it fell."""
        if self._queue_read_ms is not None and now_ms - self._queue_read_ms < QUEUE_REFRESH_MS:
            return
        queue = self._read_queue(now_ms)
        if self._idle is None:
            return
        model = self.presenter.notice(self._idle, queue=queue)
        previous, self._alarm = self._alarm, queue.level
        rise = alarm_rise(previous, queue.level)
        if model != self._model:
            self.screen.show(model)
            self._model = model
            self._on_screen = self._idle
        if rise:
            self.indicators.signal(rise)
        elif alarm_rise(queue.level, previous):  # the alarm fell: its held red LED goes off, silently
            self.indicators.signal(None)

    def _read_queue(self, now_ms: int) -> QueueNotice:
        """The worker's status (counts, oldest age), the pause and the storage alarms, as a notice."""
        self._queue_read_ms = now_ms
        try:
            status_of = getattr(self.worker, "status", None)
            status = dict(status_of()) if status_of is not None else {"pending": self._pending()}
            status["paused"] = self._paused()
            status["storage"] = self._storage_alarm()
            admin = self._admin_alarms(status)
            status["space"], status["wal"] = admin.get("alarm_space"), admin.get("alarm_wal")
            self._queue = queue_notice(status)
        except StorageError as error:  # the outbox cannot be read: record packs by hand (OFFLINE-QUEUE.md 2.3)
            last = self._queue
            if last is None or last.kind != STORAGE_FAULT:  # once, not at every refresh
                log.error("cannot read the queue's status: %s", error)
            fault: dict[str, Any] = {"storage": True}
            if last is not None:
                fault.update(pending=last.pending, attention=last.attention, paused=last.paused)
            self._queue = queue_notice(fault)
        return self._queue

    def _admin_alarms(self, status: dict[str, Any]) -> dict[str, str]:
        """The storage admin alarms by ``meta`` key (OFFLINE-QUEUE.md 2.3: ``alarm_space``, ``alarm_wal``):
        the worker's, else the outbox's own, else none."""
        alarms = status.get("storage_alarms")
        if alarms is None:
            read = getattr(self.outbox, "storage_alarms", None)
            alarms = read() if read is not None else {}
        return dict(alarms)

    def _storage_alarm(self) -> str | None:
        """The outbox's storage alarm (OFFLINE-QUEUE.md 2.3): a salvaged database, a failed integrity check."""
        read = getattr(self.outbox, "read_meta", None)
        if read is None:
            return None
        alarm = read("alarm_storage")
        if alarm:
            return str(alarm)
        check = read("last_integrity_check")  # "<wall_ns> <result>"
        if check and str(check).split(" ", 1)[-1] != "ok":
            return str(check)
        return None

    def _record(self, request: Any) -> list[Effect]:
        """Record the scan's op. With the site ledger (issue 16) its word comes first: an op another
        counter has is recorded already cancelled (never sendable, amber here), and the claim is
        published as recorded, or released when nothing is to be sent."""
        site = self.site
        held = site.before_record(request.kind, request.pack) if site is not None else None
        op = None
        try:
            result = self.outbox.record(OpRequest(request.kind, request.pack, request.raw, mode=request.mode,
                                                  site_yield=site.site_yield(held) if site is not None else None))
            op = result.op
        except StorageError as error:
            log.error("scan not recorded: %s", error)
            return self.flow.record_failed(self.clock())
        finally:
            if site is not None:
                site.after_record(request.pack, op, held)
        if result.refusal is not None:
            refusal = result.refusal
            return self.flow.recorded(None, refusal.reason, self.clock(), since_wall_ns=refusal.since_wall_ns,
                                      age_ns=getattr(refusal, "age_ns", None))
        if held is not None:
            log.info("site ledger: op %s recorded cancelled, %s", result.op.seq, held[0])
            return self.flow.yielded(result.op.seq, held[0], held[1], self.clock())
        self._ops[result.op.seq] = result.op
        return self.flow.recorded(result.op.seq, None, self.clock())

    def _send(self, seq: int) -> None:
        """Hand the op to the worker, first in line; the loop shows its answer when it comes."""
        op = self._ops.pop(seq)
        self._live_since_ms = time.monotonic_ns() // 1_000_000  # the scanners' clock (``received_ms``)
        self._live = (self.worker.submit_live(op, self.live_deadline_s), op)

    def _settled(self, op: RecordedOp, settlement: Any, gathered: bool = False) -> list[Effect]:
        """The live scan's end: its settlement, or None when its wait ended without an answer.

        ``gathered``: a receiving op waiting for its bulk (issue 17): "recorded, awaiting answer" at once,
        not "recorded offline", although it is still queued."""
        now = self.clock()
        if settlement is None:
            offline = not gathered and self._op_state(op.seq) == "queued"
            return self.flow.settled(None, None, now, offline=offline, paused=self._paused())
        site = self.site.explain(op.kind, op.pack) if self.site is not None else None  # site ledger (issue 16)
        return self.flow.settled(settlement.state, settlement.answer, now,
                                 dispensed_here=self._dispensed_here(op.seq, op.pack.pack_key), site=site)

    def _late(self, verdict: Verdict) -> None:
        """A late result (issue 11, item 5): journaled; whatever is on screen stays, with a fresh badge
        (the pending count, the ops to resolve), and no light or sound of its own."""
        self.journal.write(verdict, self.presenter.headline(verdict))
        self.shown.append(verdict)
        self._to_session(verdict)
        log.info("late result seq=%s %s %s %s", verdict.seq, _short(verdict.pack), verdict.outcome,
                 verdict.service_code or "")
        queue = self._read_queue(self.clock())
        shown = self._on_screen
        if isinstance(shown, Verdict) and shown.recorded and shown.seq == verdict.seq and shown.mode in RECEIVING_MODES:
            # the pack on screen was "awaiting answer" (a receiving bulk, issue 17): its answer replaces it
            self._draw(self.presenter.verdict(verdict, queue=queue), verdict.light)
            self._on_screen = verdict
            return
        if isinstance(shown, Verdict):
            model = self.presenter.verdict(shown, queue=queue)
        elif isinstance(shown, Notice):
            model = self.presenter.notice(shown, queue=queue)
        else:
            return
        if model != self._model:
            self.screen.show(model)
            self._model = model

    def _op_state(self, seq: int) -> str | None:
        """The op's state after a live send without answer: "queued" means it never reached the service."""
        read = getattr(self.outbox, "op", None)
        if read is None:
            return None
        try:
            return read(seq)["state"]
        except (StorageError, LookupError, TypeError):
            return None

    def _paused(self) -> str | None:
        """Why the outbox's queue is paused (login, certificate, clock ...), or None."""
        read = getattr(self.outbox, "read_meta", None)
        try:
            return read("paused") if read is not None else None
        except StorageError:
            return None

    def _dispensed_here(self, seq: int, pack_key: str | None = None) -> bool | None:
        """Whether the outbox shows this terminal's dispense of the pack (None: let the flow decide)."""
        view = getattr(self.outbox, "view", None)
        if view is None or pack_key is None:
            return None
        pack_view = view(pack_key)
        return bool(pack_view is not None and pack_view.dispense_seq is not None)

    def _recent_ops(self, n: int = 5) -> list[tuple[str, str, str, str, int]]:
        """The last ops recorded before this start (OFFLINE-QUEUE.md 5.3), newest first."""
        try:
            ops = self.outbox.recent(n)
        except StorageError as error:
            log.error("cannot list the last ops: %s", error)
            return []
        for op in ops:
            log.info("before the restart: seq=%s %s %s/…%s %s", op.seq, op.kind, op.pack.product_code,
                     op.pack.serial[-4:], op.state)
        return [(op.kind, op.pack.product_code, op.pack.serial, op.state, op.wall_ns) for op in ops]

    def _pending(self) -> int:
        try:
            return int(self.outbox.pending_count())
        except StorageError:
            return 0

    def _show(self, verdict: Verdict) -> None:
        headline = self.presenter.headline(verdict)
        self._draw_verdict(verdict)
        self.journal.write(verdict, headline)
        self.shown.append(verdict)
        self._to_session(verdict)
        log.info("%s seq=%s %s %s %s %s", verdict.event, verdict.seq, verdict.mode, _short(verdict.pack),
                 verdict.outcome, verdict.service_code or "")
        self.notifier.status(f"{verdict.outcome} ({verdict.light}); {self._pending()} pending")

    def _draw_verdict(self, verdict: Verdict) -> None:
        self._draw(self.presenter.verdict(verdict, queue=self._read_queue(self.clock())), verdict.light)
        self._on_screen = verdict
        self._idle = None

    def _draw(self, model: Any, light: str | None) -> None:
        self.screen.show(model)
        self._model = model
        self.indicators.signal(light)

    def _show_fault(self) -> None:
        with contextlib.suppress(Exception):  # the fault screen itself must not take the loop down
            self._idle = None
            self._on_screen = None
            self._draw(self.presenter.fault(self.flow.mode), "fault")


def open_configured_service(config: Config) -> Any:
    """The verification client ``config`` names, with its credentials, certificates and timeouts."""
    from fmd_terminal.verification.factory import open_service

    return open_service(config.service, client_id=config.client_id or None,
                        client_secret=config.client_secret or None, client_cert=config.client_cert or None,
                        client_key=config.client_key or None, client_key_pin=config.client_key_pin or None,
                        ca_bundle=config.ca_bundle or None, timeouts=dict(config.timeouts) or None)


def build(config: Config, stack: contextlib.ExitStack, *, notifier: Any = None,
          clock: Callable[[], int] = monotonic_ms, scanner: Any = None) -> Terminal:
    """Open every adapter ``config`` names; ``stack`` closes them in reverse order.

    ``scanner``: one already open (the enrolment screen's, issue 14), used instead of opening another."""
    from fmd_terminal.credential_health import IdleHealth
    from fmd_terminal.indicators.factory import open_indicators_or_fallback
    from fmd_terminal.outbox.commands_support import refuse_beside_terminal
    from fmd_terminal.outbox.factory import open_outbox
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
    from fmd_terminal.outbox.texts import Texts
    from fmd_terminal.outbox.unavailable import IdleWorker, UnavailableOutbox
    from fmd_terminal.scanners.factory import open_scanner
    from fmd_terminal.screens.factory import open_screen_or_fallback

    translate = Translator(config.lang)
    presenter = Presenter(translate)
    presenter.health = IdleHealth(config, translate)  # type: ignore[method-assign]  # password, certificate, terms
    journal = Journal(config.events_jsonl)
    stack.callback(journal.close)
    screen = open_screen_or_fallback(config.screen)  # a missing OLED: console, logged; never fatal
    stack.callback(screen.close)
    indicators = open_indicators_or_fallback(config.indicators)  # missing GPIO: none://, logged
    stack.callback(indicators.close)
    service = open_configured_service(config)
    stack.callback(service.close)
    outbox: Any
    worker: Any
    try:
        refuse_beside_terminal(config.outbox, Texts(config.lang), reason="run_beside")
        outbox = open_outbox(config.outbox)
    except StorageError as error:  # a full disk, a read-only directory: start, and refuse scans on screen
        log.error("the outbox cannot be opened: %s; every scan is refused until the service is restarted "
                  "after the cause is fixed", error)
        outbox, worker = UnavailableOutbox(error), IdleWorker(error)
    else:
        stack.callback(outbox.close)
        worker = SyncWorker(outbox, service, settings=SyncSettings(**config.sync)).start()
        stack.callback(worker.close)
    site = None
    if config.ledger and not isinstance(outbox, UnavailableOutbox):  # site ledger and fleet health (issue 16)
        from fmd_terminal.ledger import open_site

        site = open_site(config.ledger, outbox=outbox)
        stack.callback(site.close)
        worker = site.ledger.watch(worker, outbox)
    presenter.quarter = functools.partial(quarter_lines, outbox, translate)  # type: ignore[method-assign]
    if scanner is None:
        scanner = open_scanner(config.scanner)
        stack.callback(scanner.close)
    from fmd_terminal.receiving.desk import Desk

    flow = Flow(mode=config.mode, duplicate_window_ms=int(config.duplicate_window_s * 1000),
                result_hold_ms=int(config.result_hold_s * 1000), role=config.role or None)
    terminal = Terminal(flow=flow, scanner=scanner, screen=screen, indicators=indicators, outbox=outbox,
                        worker=worker, presenter=presenter, journal=journal, notifier=notifier,
                        live_deadline_s=config.live_deadline_s, clock=clock,
                        site=site.ledger if site is not None else None, desk=Desk.of(config))
    if site is not None:
        from fmd_terminal.config import enrolment_path
        from fmd_terminal.credential_health import dues

        site.health.attach(worker=worker, scanner=scanner,
                           credentials=functools.partial(dues, config, enrolment_path(config)))
    if config.button:
        from fmd_terminal.indicators.button import open_mode_button

        stack.callback(open_mode_button(config.button, terminal.press_mode_button).close)
    return terminal
