"""The sync worker: replays the outbox to the service (OFFLINE-QUEUE.md section 6).

One thread, one loop: ``step()`` does at most one piece of work (a probe, a send, a reconciling
verify, a recovery submission or poll) and returns how long nothing is due. Every decision is a pure
function of ``fmd_core.op_states`` / ``fmd_core.link``; every state change is one outbox transaction.
Claim, then send: nothing goes on the wire before the claim is committed (transition #2).

Tests drive ``step()`` directly with a ``FakeClock``; the thread (``start()``) loops over it and
waits on a condition that ``submit_live`` notifies, so a live scan never waits for a backoff timer.
The scan path never blocks on the worker (issue 11): ``submit_live`` returns a ticket whose wait the
link's state decides (OFFLINE-QUEUE.md 6.2), and ``live_result`` says when it is over.

Receiving a delivery (issue 17): the state changes of a receiving mode (``outbox.gathered``) are not
sent one request per pack. They are gathered and go in one mixed bulk (G195, results by G196) once
``gather_count`` of them wait, the oldest has waited ``gather_wait_s`` or no new one came for
``gather_quiet_s`` (``gather_due``). Their scan is shown amber at once ("recorded, awaiting answer")
and its result reaches the screen as a late result. The counter's ops never wait for a bulk.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from fmd_core import link, op_states
from fmd_core.service import ServiceAnswer
from fmd_core.timekeeping import SECOND_NS, ClockReading, elapsed_ns
from fmd_terminal.outbox import REQUESTED_STATE, RecordedOp, Settlement, gathered
from fmd_terminal.outbox.sqlite import SQLiteOutbox, answer_of, iso_utc, new_trx_id, pack_of
from fmd_terminal.verification import RecoveryItem

log = logging.getLogger(__name__)

IDLE_S = 1.0


class SyncSettings:
    """Pacing is configuration (section 6.3). The defaults are polite to a national system."""

    __slots__ = ("rate", "burst", "quiet_s", "bulk_threshold", "batch_size", "outstanding", "poll_first_s",
                 "poll_cap_s", "results_timeout_s", "start_jitter_s", "breaker_threshold", "breaker_open_s",
                 "breaker_open_cap_s", "probe_gap_s", "backoff_base_s", "anchor_every_s", "down_budget_s",
                 "down_cap_s", "stalled_s", "gather_count", "gather_wait_s", "gather_quiet_s", "gather_poll_s")

    def __init__(self, **overrides: Any) -> None:
        self.rate = 5.0
        self.burst = 5.0
        self.quiet_s = 60.0
        self.bulk_threshold = 100
        self.batch_size = 200
        self.outstanding = 1
        self.poll_first_s = 2.0
        self.poll_cap_s = 60.0
        self.results_timeout_s = 3600.0
        self.start_jitter_s = 60.0
        self.breaker_threshold = 5
        self.breaker_open_s = 30.0
        self.breaker_open_cap_s = 600.0
        self.probe_gap_s = 2.0
        self.backoff_base_s = 1.0
        self.anchor_every_s = 60.0
        self.down_budget_s = 0.3  # a live scan on a link known down: amber within 300 ms (section 6.2)
        # ... waiting up to 1 s for the probe gap (at most one probe every 2 s) plus that budget: a scan
        # a second after the service came back is then green (issue 11)
        self.down_cap_s = 1.35
        self.stalled_s = 1.0  # a request on the wire this long without answer: the link is black-holed
        # Receiving bulks (issue 17, ``gather_due``): at most gather_count items (0: no gathering, each
        # receiving op goes alone like the counter's), sent when that many wait, the oldest waited
        # gather_wait_s, or the scanning paused gather_quiet_s; results first asked gather_poll_s after.
        self.gather_count = 100
        self.gather_wait_s = 30.0
        self.gather_quiet_s = 1.5
        self.gather_poll_s = 0.5
        for name, value in overrides.items():
            setattr(self, name, value)

    @classmethod
    def unpaced(cls, **overrides: Any) -> SyncSettings:
        """The capacity benchmark's settings: pacing limits lifted (section 10, "Drain capacity")."""
        values: dict[str, Any] = dict(rate=0.0, start_jitter_s=0.0, batch_size=2000, outstanding=4,
                                      poll_first_s=0.01, poll_cap_s=0.05, probe_gap_s=0.0, breaker_open_s=0.05)
        values.update(overrides)
        return cls(**values)


def _ns(seconds: float) -> int:
    return int(seconds * SECOND_NS)


def gather_due(count: int, oldest_age_ns: int | None, newest_age_ns: int | None,
               settings: SyncSettings) -> float | None:
    """Issue 17's gather policy: seconds until the receiving ops waiting (``count``, the oldest and the
    newest of them ``*_age_ns`` old; None: recorded in an earlier boot) go in a bulk, 0 for now, None
    when none waits. Due when ``gather_count`` wait (a full bulk), when the oldest has waited
    ``gather_wait_s`` (an amber pack is never held longer than that for company), or when no receiving
    scan came for ``gather_quiet_s`` (the scanning paused or the delivery is done: send what there is).
    """
    if count <= 0:
        return None
    if count >= settings.gather_count or oldest_age_ns is None or newest_age_ns is None:
        return 0.0
    left_ns = min(_ns(settings.gather_wait_s) - oldest_age_ns, _ns(settings.gather_quiet_s) - newest_age_ns)
    return max(0.0, left_ns / SECOND_NS)


def _opens_at_once(answer: ServiceAnswer) -> bool:
    """A refused connection or a name that did not resolve opens the breaker at once (section 6.2)."""
    return answer.transport_error in ("refused", "dns")


class _Bulk:
    __slots__ = ("bulk_id", "results_ref", "seqs", "submitted_bt_ns", "next_poll_bt_ns", "polls", "first_poll_s")

    def __init__(self, bulk_id: str, results_ref: str, seqs: list[int], submitted_bt_ns: int, next_poll_bt_ns: int,
                 first_poll_s: float | None = None):
        self.bulk_id = bulk_id
        self.results_ref = results_ref
        self.seqs = seqs
        self.submitted_bt_ns = submitted_bt_ns
        self.next_poll_bt_ns = next_poll_bt_ns
        self.polls = 0
        self.first_poll_s = first_poll_s  # None: the settings' poll_first_s; the base of the polls' backoff


class LiveTicket:
    """A live scan waiting for its answer (``SyncWorker.submit_live``): ``deadline`` (time.monotonic)
    may move as the link's news comes; ``full_deadline`` is the scan's whole live deadline."""

    __slots__ = ("seq", "kind", "started", "deadline", "full_deadline", "down", "gathered")

    def __init__(self, seq: int, kind: str, started: float, deadline: float) -> None:
        self.seq = seq
        self.kind = kind
        self.started = started
        self.deadline = deadline
        self.full_deadline = deadline
        self.down = False
        self.gathered = False  # a receiving op: it waits for a bulk, its answer comes as a late result


class SyncWorker:
    """The ``Worker`` port over a ``SQLiteOutbox`` and a ``VerificationClient``."""

    def __init__(self, outbox: SQLiteOutbox, client: Any, clock: Callable[[], ClockReading] | None = None,
                 settings: SyncSettings | None = None, rng: random.Random | None = None) -> None:
        self.outbox = outbox
        self.client = client
        self.clock = clock or outbox.clock
        self.settings = settings or SyncSettings()
        self.rng = rng or random.Random()
        s = self.settings
        self.breaker = link.Breaker(s.breaker_threshold, _ns(s.breaker_open_s), _ns(s.breaker_open_cap_s),
                                    _ns(s.probe_gap_s))
        self.bucket = link.TokenBucket(s.rate, s.burst)
        self.failures = 0
        self.not_before_ns = 0
        now = self.clock()
        self.backlog_not_before_ns = now.boottime_ns + _ns(self.rng.uniform(0, s.start_jitter_s))
        self.jitter_from_ns = now.boottime_ns  # ops recorded since are not backlog (``_scanned_since_start``)
        self.next_anchor_ns = 0
        self.last_work_ns = now.boottime_ns
        self.cond = threading.Condition()
        self.live: list[int] = []
        self.tickets: dict[int, LiveTicket] = {}
        self.live_results: dict[int, Settlement] = {}
        self._on_wire_since: float | None = None  # time.monotonic() when the request on the wire went out
        self._on_wire_seq: int | None = None  # the op it carries (None: a probe, a recovery call)
        self.resolutions: list[Settlement] = []
        self.bulks: dict[str, _Bulk] = {}
        self.events: list[tuple[str, Any]] = []  # (what, detail): breaker, pause, alarm; for logs and tests
        self._thread: threading.Thread | None = None
        self._stop = False
        self._wakeups = 0
        self._resume_polls(now)

    def _resume_polls(self, now: ClockReading) -> None:
        """Transition #9 with a stored ``results_ref``: polling of the recovery results resumes."""
        for row in self.outbox.polling():
            bulk = self.bulks.get(row["bulk_id"])
            if bulk is None:
                bulk = self.bulks[row["bulk_id"]] = _Bulk(row["bulk_id"], row["results_ref"], [],
                                                          now.boottime_ns, now.boottime_ns)
            bulk.seqs.append(row["seq"])

    # -- the Worker port ---------------------------------------------------------------------------

    def submit_live(self, op: RecordedOp, deadline_s: float) -> LiveTicket:
        """Put ``op`` first in line and return at once (section 5.1 step 6; 6.2 "Counter budget").

        The ticket's ``deadline`` is how long the scan may wait: ``deadline_s`` while the link looks
        healthy. While it is known down (breaker open or half-open, a link failure in the past 10 s) a
        read-only probe is asked for at once (at most one every ``probe_gap_s``) and the scan waits only
        until the probe can have answered (``down_budget_s`` after it may go, at most ``down_cap_s``).
        Another request on the wire without answer for ``stalled_s`` (a black hole: the worker sends one
        request at a time) ends the wait ``down_budget_s`` later too. A probe or request that succeeds
        meanwhile gives the scan its whole live deadline back; one that fails ends its wait at once.
        Nothing here blocks: the caller polls ``live_result``.
        """
        s = self.settings
        start = time.monotonic()
        bt = self.clock().boottime_ns
        paused = self.outbox.read_meta("paused")
        bulk = s.gather_count > 0 and gathered(op.kind, op.mode)
        with self.cond:
            ticket = LiveTicket(op.seq, op.kind, start, start + deadline_s)
            ticket.gathered = bulk
            if paused or bulk:  # shown at once: with the pause's words; a receiving op goes in a bulk (issue 17)
                ticket.deadline = start
            elif not self._stalled(ticket, start) and self.breaker.known_down(bt):
                ticket.down = True
                wait = max(0.0, (self.breaker.want_probe(bt) - bt) / SECOND_NS)
                budget = wait + s.down_budget_s if wait + s.down_budget_s <= s.down_cap_s else 0.0
                ticket.deadline = start + min(deadline_s, budget)
            self.tickets[op.seq] = ticket
            for index, early in enumerate(self.resolutions):  # sent from the backlog before it got here
                if early.seq == op.seq:
                    self.live_results[op.seq] = self.resolutions.pop(index)
                    break
            if not bulk:
                self.live.append(op.seq)
            self._wakeups += 1
            self.cond.notify_all()
        return ticket

    def live_result(self, ticket: LiveTicket, give_up: bool = False) -> tuple[bool, Settlement | None]:
        """``(True, settlement)`` once ``ticket``'s op settled; ``(True, None)`` once its wait ended
        without an answer (the op is then ``deferred``: "recorded, awaiting answer", and carries on in
        the background); ``(False, None)`` while it may still wait. ``give_up``: end the wait now (the
        next scan came: a person is never held behind a pending request)."""
        seq = ticket.seq
        with self.cond:
            self._stalled(ticket, time.monotonic())
            settled = self.live_results.pop(seq, None)
            if settled is not None:
                self.tickets.pop(seq, None)
                return True, settled
            if not give_up and time.monotonic() < ticket.deadline:
                return False, None
            if seq in self.live:
                self.live.remove(seq)
            self.tickets.pop(seq, None)
        if self.outbox.defer(seq):
            return True, None
        with self.cond:  # settled between the deadline and the defer: it is shown live after all
            settled = self.live_results.pop(seq, None)
        if settled is None:
            row = self.outbox.op(seq)
            settled = Settlement(seq, ticket.kind, row["state"], answer_of(row), row["reconciled"])
        return True, settled

    def wait_live(self, ticket: LiveTicket, timeout_s: float) -> None:
        """Wait at most ``timeout_s`` for news of ``ticket`` (its answer, or its wait cut short)."""
        with self.cond:
            if ticket.seq not in self.live_results:
                self.cond.wait(max(0.0, min(timeout_s, ticket.deadline - time.monotonic())))

    def send_live(self, op: RecordedOp, deadline_s: float) -> Settlement | None:
        """``submit_live`` and wait: the settlement if it arrives within the ticket's deadline, else None."""
        ticket = self.submit_live(op, deadline_s)
        while True:
            done, settled = self.live_result(ticket)
            if done:
                return settled
            with self.cond:
                left = ticket.deadline - time.monotonic()
                if left > 0 and op.seq not in self.live_results:
                    self.cond.wait(min(left, 0.05))

    def _stalled(self, ticket: LiveTicket, now: float) -> bool:
        """Under ``cond``: another request has been on the wire for ``stalled_s`` without an answer, so
        this scan cannot be answered soon: its wait ends ``down_budget_s`` from now (once)."""
        on_wire = self._on_wire_since
        if ticket.down or on_wire is None or self._on_wire_seq == ticket.seq:
            return False
        if now - on_wire < self.settings.stalled_s:
            return False
        ticket.down = True
        ticket.deadline = min(ticket.deadline, now + self.settings.down_budget_s)
        return True

    def _link_news(self, up: bool) -> None:
        """A probe or request answered (``up``) or failed at the link level: the live scans waiting on
        a link known down get their whole deadline back, or stop waiting at once (section 6.2)."""
        now = time.monotonic()
        with self.cond:
            for ticket in self.tickets.values():
                if up and ticket.down:
                    ticket.deadline = max(ticket.deadline, ticket.full_deadline)
                    ticket.down = False
                elif not up:
                    ticket.down = True
                    ticket.deadline = min(ticket.deadline, now)
            self.cond.notify_all()

    @contextlib.contextmanager
    def _on_wire(self, seq: int | None = None) -> Iterator[None]:
        """Marks a request on the wire, so a live scan can tell a black-holed link (``_stalled``)."""
        with self.cond:
            self._on_wire_since, self._on_wire_seq = time.monotonic(), seq
        try:
            yield
        finally:
            with self.cond:
                self._on_wire_since = self._on_wire_seq = None

    def take_resolutions(self) -> list[Settlement]:
        with self.cond:
            taken, self.resolutions = self.resolutions, []
        return taken

    def start(self) -> SyncWorker:
        self._thread = threading.Thread(target=self._run, name="fmd-sync", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=35)

    def _run(self) -> None:
        while True:
            with self.cond:
                if self._stop:
                    return
                seen = self._wakeups
            try:
                delay = self.step()
            except Exception:  # the top-level loop: log, wait, go on (ARCHITECTURE.md, "Errors")
                log.exception("sync step failed; retrying in %s s", IDLE_S)
                delay = IDLE_S
            if delay > 0:
                with self.cond:  # a live scan that came during the step is not missed
                    if not self._stop and self._wakeups == seen:
                        self.cond.wait(min(delay, IDLE_S))

    def run_until_drained(self, timeout_s: float | None, on_settled: Callable[[Settlement], None] | None = None,
                          sleep: Callable[[float], None] = time.sleep, forever: bool = False) -> bool:
        """Run the loop in this thread until nothing is pending (True) or ``timeout_s`` passes (False).

        ``forever``: keep running when drained (``fmd-terminal sync`` without ``--until-drained``).
        """
        end = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            if not forever and self.outbox.pending_count() == 0:
                self._deliver(on_settled)
                return True
            if end is not None and time.monotonic() >= end:
                self._deliver(on_settled)
                return False
            delay = self.step()
            self._deliver(on_settled)
            if delay > 0:
                sleep(min(delay, IDLE_S) if end is None else max(0.0, min(delay, IDLE_S, end - time.monotonic())))

    def _deliver(self, on_settled: Callable[[Settlement], None] | None) -> None:
        if on_settled is not None:
            for settlement in self.take_resolutions():
                on_settled(settlement)

    # -- one step ----------------------------------------------------------------------------------

    def step(self) -> float:
        """Do at most one piece of work; return seconds until something is due (0: call again now)."""
        now = self.clock()
        bt = now.boottime_ns
        if bt >= self.next_anchor_ns:
            self.outbox.note_clock(now, correct=False)
            self.next_anchor_ns = bt + _ns(self.settings.anchor_every_s)
        with self.cond:
            live_waiting = bool(self.live)
        if not live_waiting and self.outbox.correct_times_batch():
            return 0.0  # section 7: one small correction transaction per step, scans commit in between
        paused = self.outbox.read_meta("paused")
        if paused == op_states.PAUSE_CLOCK and now.synced:
            self.resume("clock synchronised")
            paused = None
        if paused:
            return IDLE_S
        with self.outbox.lock:
            quality = self.outbox.quality(now)
        if quality == "stale":  # section 7: no TLS attempt with a stale clock
            return IDLE_S
        if self.breaker.probe_due(bt):  # the open timer ran out, or a live scan asked (section 6.2)
            return self._probe(now)
        probe_at = self.breaker.next_event_ns(bt)
        # a live scan skips the backoff, never the breaker: on a link known down it waits for a probe
        live = None if not live_waiting or self.breaker.known_down(bt) else self._next_live()
        if live is None and not self.breaker.allows_send(bt):
            return self._until(bt, probe_at, bt + _ns(IDLE_S))
        if live is None and bt < self.not_before_ns:
            return self._until(bt, probe_at, self.not_before_ns)
        wait = self.bucket.delay_ns(bt)
        if wait:
            return wait / SECOND_NS
        if live is not None:
            self._send(live, now)
            return 0.0
        for bulk in list(self.bulks.values()):
            if bt >= bulk.next_poll_bt_ns:
                self._poll(bulk, now)
                return 0.0
        for row in self.outbox.uncertain():
            gone = elapsed_ns(row["uncertain_boot_id"], row["uncertain_bt_ns"], now)
            if gone is None or gone >= _ns(self.settings.quiet_s):
                self._reconcile(row, now)
                return 0.0
        s = self.settings
        gather_in = None
        if s.gather_count > 0 and len(self.bulks) < s.outstanding:
            waiting = self.outbox.eligible(min(s.gather_count, s.batch_size), gathered=True)
            gather_in = self._gather_in(waiting, now)
            # the randomised start holds the backlog, not a delivery scanned since (section 6.2): one pack
            # scanned since is enough (``waiting`` is in seq order: the newest last), the backlog's packs
            # then ride in the same bulk at no extra request
            if gather_in == 0.0 and (bt >= self.backlog_not_before_ns or self._scanned_since_start(waiting[-1], now)):
                self._submit(waiting, now, s.gather_poll_s)
                return 0.0
        if bt < self.backlog_not_before_ns:
            return self._next_due(now, min((self.backlog_not_before_ns - bt) / SECOND_NS,
                                           IDLE_S if gather_in is None else gather_in))
        if len(self.bulks) < s.outstanding:
            batch = self.outbox.eligible(max(s.batch_size, s.bulk_threshold), for_bulk=True)
            if len(batch) >= s.bulk_threshold:
                self._submit(batch[:s.batch_size], now)
                return 0.0
        eligible = self.outbox.eligible(1, gathered=False if s.gather_count > 0 else None)
        if eligible:
            self._send(eligible[0], now)
            return 0.0
        if not self.bulks:
            self.outbox.maintain(now, bt - self.last_work_ns)
        return self._next_due(now, IDLE_S if gather_in is None else min(IDLE_S, gather_in))

    def _scanned_since_start(self, row: dict[str, Any], now: ClockReading) -> bool:
        """``row`` was recorded in this boot after the randomised start began (not backlog)."""
        return row["boot_id"] == now.boot_id and row["boottime_ns"] >= self.jitter_from_ns

    def _gather_in(self, waiting: list[dict[str, Any]], now: ClockReading) -> float | None:
        """``gather_due`` for the receiving ops ``waiting`` (in ``seq`` order, so oldest first)."""
        if not waiting:
            return None
        oldest, newest = (elapsed_ns(row["boot_id"], row["boottime_ns"], now) for row in (waiting[0], waiting[-1]))
        return gather_due(len(waiting), oldest, newest, self.settings)

    @staticmethod
    def _until(bt: int, *moments: int | None) -> float:
        """Seconds from ``bt`` to the earliest of ``moments`` (None: not due), never below 0."""
        due = [at for at in moments if at is not None]
        return max(0.0, (min(due) - bt) / SECOND_NS) if due else IDLE_S

    def _next_due(self, now: ClockReading, default_s: float) -> float:
        due = [b.next_poll_bt_ns for b in self.bulks.values()]
        for row in self.outbox.uncertain():
            if row["uncertain_boot_id"] == now.boot_id:
                due.append(row["uncertain_bt_ns"] + _ns(self.settings.quiet_s))
        wait = default_s
        for at in due:
            wait = min(wait, max(0.0, (at - now.boottime_ns) / SECOND_NS))
        return wait

    def _next_live(self) -> dict[str, Any] | None:
        with self.cond:
            seqs = list(self.live)
        for seq in seqs:
            row = self.outbox.op(seq)
            if row["state"] != op_states.QUEUED:
                continue
            heads = self.outbox.ops("op.pack_key = ? AND op.seq < ? AND op.state NOT IN "
                                    "('done', 'rejected', 'cancelled')", (row["pack_key"], seq))
            if not heads:
                return row
        return None

    # -- link bookkeeping (section 6.2) ------------------------------------------------------------

    def _link(self, klass: str, answer: ServiceAnswer, now: ClockReading) -> None:
        bt = now.boottime_ns
        if klass in op_states.PAUSES:
            self._pause(klass, answer)
            return
        if klass not in op_states.LINK_FAILURES:
            self.failures = 0
            self.not_before_ns = 0  # n resets on success (section 6.2): the backlog's backoff is over too
            if self.breaker.on_success(bt):
                self.events.append(("breaker", "closed"))
            self._link_news(up=True)
            return
        self.failures += 1
        bt = self.clock().boottime_ns  # "the last request in the past 10 s failed" counts from its end
        retry_after = answer.retry_after_s
        self.not_before_ns = bt + link.wait_ns(self.failures, self.rng.random(), retry_after,
                                               _ns(self.settings.backoff_base_s))
        if answer.http_status == 429:
            self.bucket.throttled(bt)
        if self.breaker.on_failure(bt, self.rng.random(), at_once=_opens_at_once(answer)):
            self.events.append(("breaker", "open"))
            log.warning("service unreachable (%s); breaker open", klass)
        self._link_news(up=False)

    def _pause(self, klass: str, answer: ServiceAnswer) -> None:
        detail = answer.operation_code or answer.transport_error or str(answer.http_status)
        self.outbox.write_meta("paused", klass)
        self.outbox.write_meta("paused_detail", detail)
        self.events.append(("pause", klass))
        log.error("sync paused: %s (%s)", klass, detail)
        self._link_news(up=False)  # nothing goes out until resumed: a live scan stops waiting

    def resume(self, why: str) -> None:
        """Lift a pause (section 4.3): an administrator's Resume, new credentials, a synchronised clock."""
        self.outbox.write_meta("paused", None)
        self.events.append(("resume", why))
        log.warning("sync resumed: %s", why)

    def _probe(self, now: ClockReading) -> float:
        """A read-only probe (the service's ping, never a state change): one success closes the
        breaker and ends the outage's backoff; one failure reopens it (section 6.2)."""
        bt = now.boottime_ns
        wait = self.bucket.delay_ns(bt)
        if wait:
            return wait / SECOND_NS
        self.bucket.take(bt)
        self.breaker.probed(bt)
        with self._on_wire():
            answer = self.client.ping()
        klass = op_states.classify(answer, now.synced)
        after = self.clock().boottime_ns
        if klass == op_states.SUCCESS or (answer.transport == "answered" and answer.http_status == 200):
            self.failures = 0
            if self.breaker.on_success(after):
                open_for = self.breaker.closed_after_ns(after)
                self.events.append(("breaker", "closed"))
                log.warning("service reachable again; breaker closed")
                if open_for >= 60 * SECOND_NS:  # randomised start after an outage (section 6.2)
                    self.backlog_not_before_ns = after + _ns(self.rng.uniform(0, self.settings.start_jitter_s))
                    self.jitter_from_ns = after
            self.not_before_ns = 0  # the probe showed the service back: the outage's backoff is over
            self._link_news(up=True)
            return 0.0
        if klass in op_states.PAUSES:
            self._pause(klass, answer)
            return IDLE_S
        if self.breaker.on_failure(after, self.rng.random(), at_once=_opens_at_once(answer)):
            self.events.append(("breaker", "open"))
            log.warning("service unreachable (%s); breaker open", klass)
        self._link_news(up=False)
        return 0.0

    # -- single-pack send (transitions #2-#8, #16) -------------------------------------------------

    def _request(self, row: dict[str, Any]) -> ServiceAnswer:
        self.last_work_ns = self.clock().boottime_ns
        pack = pack_of(row)
        with self._on_wire(row["seq"]):
            if row["kind"] == "verify":
                return self.client.verify(pack)
            return self.client.change_state(pack, REQUESTED_STATE[row["kind"]], row["client_trx_id"],
                                            row["ref_client_trx_id"])

    def _send(self, row: dict[str, Any], now: ClockReading) -> None:
        seq = row["seq"]
        if row["kind"] == "undo_dispense" and not self.outbox.guard_undo(seq):
            self._publish(Settlement(seq, row["kind"], op_states.NEEDS_ATTENTION, None))
            return  # 18: too late, or its dispense never took effect; the service would raise an alert
        attempt = self.outbox.claim(seq)
        if attempt is None:
            return
        row = self.outbox.op(seq)  # the claimed row: the ref's client_trx_id as it is now
        self.bucket.take(now.boottime_ns)
        answer = self._request(row)
        klass = op_states.classify(answer, self.clock().synced)
        if row["kind"] != "verify" and answer.client_trx_id and answer.client_trx_id != row["client_trx_id"]:
            # An answer for a transaction this request did not carry: it settles nothing (issue 5,
            # "Bad input"); the outcome of the request is unknown, so the pack is verified first.
            log.error("op %s: answer names transaction id %r, sent %r", seq, answer.client_trx_id,
                      row["client_trx_id"])
            klass = op_states.UNKNOWN
        after_uncertain = row["uncertain_bt_ns"] is not None

        def decide(current: dict[str, Any]) -> op_states.Outcome:
            return op_states.after_send(row["kind"], current["origin"], klass, op_states.code_of(answer),
                                        after_uncertain)

        settled = self.outbox.settle_send(seq, attempt, answer, klass, decide)
        self._link(klass, answer, now)
        self._publish(settled)

    def _publish(self, settled: Settlement) -> None:
        with self.cond:
            if settled.seq in self.live:
                if settled.state == op_states.QUEUED:
                    return  # still first in line: resent once the link is up, or deferred by its ticket
                self.live.remove(settled.seq)
                self.live_results[settled.seq] = settled
                self.cond.notify_all()
                return
            if settled.state in op_states.FINAL or settled.state == op_states.NEEDS_ATTENTION:
                self.resolutions.append(settled)
                self.cond.notify_all()

    # -- reconciling verify (transitions #11-#15) --------------------------------------------------

    def _reconcile(self, row: dict[str, Any], now: ClockReading) -> None:
        seq = row["seq"]
        attempt = self.outbox.claim(seq, "reconcile_verify")
        if attempt is None:
            return
        self.bucket.take(now.boottime_ns)
        with self._on_wire():
            answer = self.client.verify(pack_of(row))
        klass = op_states.classify(answer, self.clock().synced)
        outcome = op_states.after_reconcile(row["kind"], answer, klass, bool(row["duplicate_seen"]), row["renewals"])
        settled = self.outbox.settle_reconcile(seq, attempt, answer, klass, outcome)
        self._link(klass, answer, now)
        if settled.state != op_states.UNCERTAIN:
            self._publish(settled)

    # -- recovery endpoint (section 6.3) -----------------------------------------------------------

    def _submit(self, batch: list[dict[str, Any]], now: ClockReading, first_poll_s: float | None = None) -> None:
        """A recovery upload of ``batch`` (one mixed bulk, G195); its results are first asked for
        ``first_poll_s`` later (default ``poll_first_s``)."""
        batch = [r for r in batch if r["kind"] != "undo_dispense" or self.outbox.guard_undo(r["seq"])]  # 18
        bulk_id = new_trx_id()
        claimed = self.outbox.claim_bulk([r["seq"] for r in batch], bulk_id)
        if not claimed:
            return
        rows = [self.outbox.op(r["seq"]) for r in claimed]
        items = [RecoveryItem(pack_of(r), str(REQUESTED_STATE[r["kind"]]), r["client_trx_id"], r["ref_client_trx_id"],
                              iso_utc(r["wall_corrected_ns"] or r["wall_ns"]) or "") for r in rows]
        self.bucket.take(now.boottime_ns)
        with self._on_wire():
            answer, results_ref = self.client.submit_recovery(items)
        klass = op_states.classify(answer, self.clock().synced)
        after = self.clock().boottime_ns
        if results_ref:
            self.outbox.store_results_ref(bulk_id, results_ref)
            first = self.settings.poll_first_s if first_poll_s is None else first_poll_s
            self.bulks[bulk_id] = _Bulk(bulk_id, results_ref, [r["seq"] for r in rows], after, after + _ns(first),
                                        first)
            self._link(op_states.SUCCESS, answer, now)
            return
        if klass in (op_states.NOT_SENT_CLASS, op_states.RETRY_LATER) or klass in op_states.PAUSES:
            self.outbox.bulk_release(bulk_id)
        elif klass in (op_states.INVALID, op_states.REFUSED, op_states.SUCCESS):
            log.error("recovery submission refused (%s %s); sending its items one by one",
                      answer.http_status, answer.operation_code)
            self.outbox.bulk_release(bulk_id, single_only=True)
        else:
            for settled in self.outbox.bulk_unknown(bulk_id):
                self._publish(settled)
        self._link(klass, answer, now)

    def _poll(self, bulk: _Bulk, now: ClockReading) -> None:
        self.bucket.take(now.boottime_ns)
        with self._on_wire():
            answer, results = self.client.fetch_results(bulk.results_ref)
        after = self.clock().boottime_ns
        if results is None:
            klass = op_states.classify(answer, now.synced)
            not_ready = op_states.code_of(answer) == "FE_TX_02" or answer.http_status == 202
            if not not_ready:
                self._link(klass, answer, now)
            bulk.polls += 1
            if after - bulk.submitted_bt_ns >= _ns(self.settings.results_timeout_s):
                del self.bulks[bulk.bulk_id]
                for settled in self.outbox.bulk_unknown(bulk.bulk_id):
                    self._publish(settled)
                return
            first = self.settings.poll_first_s if bulk.first_poll_s is None else bulk.first_poll_s
            gap = min(self.settings.poll_cap_s, first * (2 ** min(bulk.polls, 10)))
            bulk.next_poll_bt_ns = after + _ns(gap)
            return
        self._link(op_states.SUCCESS, answer, now)
        rows = {r["seq"]: r for r in (self.outbox.op(seq) for seq in bulk.seqs)}
        by_trx = {r["client_trx_id"]: seq for seq, r in rows.items()}
        outcomes = []
        single_only = []
        for position, item in enumerate(results):
            seq = self._item_seq(item, position, sorted(bulk.seqs), by_trx)
            if seq is None:
                continue
            row = rows[seq]
            klass = op_states.classify(item, now.synced)
            code = op_states.code_of(item)
            if code == op_states.UNKNOWN_PRODUCT:  # no intermarket lookup in bulk: send it alone
                outcome = op_states.Outcome(op_states.QUEUED)
                single_only.append(seq)
            else:
                outcome = op_states.after_send(row["kind"], row["origin"], klass, code,
                                               row["uncertain_bt_ns"] is not None)
            outcomes.append((seq, item, klass, outcome))
        del self.bulks[bulk.bulk_id]
        for settled in self.outbox.settle_bulk(bulk.bulk_id, outcomes, single_only):
            self._publish(settled)
        for settled in self.outbox.bulk_unknown(bulk.bulk_id):  # items without a usable result: unknown
            self._publish(settled)

    @staticmethod
    def _item_seq(item: ServiceAnswer, position: int, seqs: list[int], by_trx: dict[str, int]) -> int | None:
        """The op a result item answers: by its clientTrxId, else by position (items keep list order).

        An item naming a ClientTrxId this batch never sent is not applied to anything (issue 5,
        "Bad input"); the op it would have matched stays unsettled and is reconciled by verify.
        """
        if item.client_trx_id:
            seq = by_trx.get(item.client_trx_id)
            if seq is None:
                log.error("recovery result for a transaction id this terminal never sent: %r", item.client_trx_id)
            return seq
        return seqs[position] if position < len(seqs) else None

    # -- what the pharmacist sees (section 6.4) ----------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The queue badge and backlog alarms: pending count, attention count, alarm level and text.

        ``storage_alarms``: the storage admin alarms of section 2.3 / 6.4 by ``meta`` key
        (``alarm_storage``, ``alarm_wal``, ``alarm_space``), each "level: text"; empty when none.
        """
        now = self.clock()
        pending = self.outbox.pending_count()
        attention = self.outbox.attention_count()
        oldest = self.outbox.oldest_pending()
        age_ns = None
        if oldest is not None:
            age_ns = elapsed_ns(oldest["boot_id"], oldest["boottime_ns"], now)
            if age_ns is None:
                start = oldest["wall_corrected_ns"] or oldest["wall_ns"]
                age_ns = now.wall_ns - start
        level, text = op_states.backlog_alarm(age_ns, pending, attention, self.outbox.read_meta("paused"))
        return {"pending": pending, "attention": attention, "oldest_age_s": None if age_ns is None
                else age_ns / SECOND_NS, "level": level, "text": text, "breaker": self.breaker.state,
                "storage_alarms": self.outbox.storage_alarms()}
