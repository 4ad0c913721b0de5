"""Replaying a keyboard-wedge scanner's recorded key events (``keys://PATH``): field support and tests.

``keys://recordings/pharmacy.jsonl?layout=fr&profile=/tmp/profile.json&speed=0`` replays a recording
(``scanners.key_recording``: ``fmd-terminal calibrate --record`` output with its event times, or a
plain list of ``[code, value]`` lines ``step_ms`` apart) through exactly what a live evdev scanner's
events go through after the device read (``scanners.key_events``): framing by Enter and by gap in
the keyboard country ``layout``, SYN_DROPPED, and, with ``profile``, the stored calibration and its
guard (``scanners.guarded``, applied by the factory as for every scanner).

- ``speed``: 1 (default) replays in real time, 2 twice as fast, 0 as fast as possible. Framing reads
  the events' own time stamps, so the scans are the same at every speed; only the terminal's own
  timers (result hold, duplicate window) see the difference.
- A line that is no event (not JSON, another shape, an event no input device sends) is reported as
  a ``FAULT`` naming its line, in ``lang``; the event it stood for is lost, so the scan it belongs
  to is discarded as after SYN_DROPPED (up to its Enter or its gap), never sent with a key missing.
- A recording that ends in the middle of a scan (a key still down, or no Enter where this scanner
  sends one) is reported with the scan's lines and the scan is discarded; a scanner that sends no
  suffix ends its last scan ``gap_ms`` later, as it would live.
- ``fmd-terminal run`` refuses to replay towards anything but a scripted service or a simulator on
  loopback (``refuse_live_service``): the packs of a pharmacy's recording must never be sent again.
- A recording never waits to be read: where a live scanner's queue would drop events for a stalled
  main loop, the replay waits for the terminal. After the last event the source reports ``END``,
  and ``fmd-terminal run`` ends once the last scan's result is shown, as with ``script://``.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from fmd_core.framing import DEFAULT_GAP_MS, DEFAULT_MAX_LENGTH
from fmd_core.keyboard import codes
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.scanners import FAULT, ScanEvent
from fmd_terminal.scanners.key_events import KeyEventSource
from fmd_terminal.scanners.key_recording import (
    DEFAULT_STEP_MS,
    RecordedEvent,
    RecordingProblem,
    header_of,
    message,
    read_recording,
)
from fmd_terminal.urls import is_loopback

log = logging.getLogger(__name__)

POLL_S = 0.1  # longest wait, so close() is noticed quickly
ENTER_KEYS = (codes.KEY_ENTER, codes.KEY_KPENTER)
NO_SUFFIX = (None, "none", "unknown")  # a recorded profile's suffix when the scanner sends no Enter


def _local(service_url: str) -> bool:
    """A scripted service, or one on this machine's loopback (a simulator)."""
    parts = urlsplit(service_url)
    if parts.scheme.lower() == "scripted":
        return True
    return is_loopback(parts.hostname)


def refuse_live_service(scanner_url: str, service_url: str) -> None:
    """A recording is replayed towards a scripted service or a simulator on loopback only: towards a
    national system, every pack of a pharmacy's recording would be decommissioned again."""
    if urlsplit(scanner_url).scheme.lower() == "keys" and not _local(service_url):
        raise ConfigError(
            f"scanner {scanner_url!r} replays a recording: the service must be scripted://success or a "
            f"simulator on loopback, not {service_url!r} (every pack in it would be sent again)"
        )


def read_lines(path: str) -> list[str]:
    """The recording's lines (undecodable bytes become U+FFFD: their lines are reported, not fatal)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as recording:
            return recording.read().splitlines()
    except OSError as error:
        raise DeviceError(f"key recording {path!r} cannot be read: {error.strerror or error}") from error


class KeyReplaySource(KeyEventSource):
    """A ``ScanSource`` replaying one recording, then reporting ``END``."""

    thread_name = "scanner-replay"

    def __init__(
        self,
        path: str,
        layout: str = "us",
        gap_ms: int = DEFAULT_GAP_MS,
        max_length: int = DEFAULT_MAX_LENGTH,
        speed: float = 1.0,
        step_ms: int = DEFAULT_STEP_MS,
        lang: str = "fr",
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(f"keys://{path}", layout, gap_ms, max_length, None, clock_ns)
        self.path = path
        self.lines = read_lines(path)
        self.header = header_of(self.lines)
        self.speed = speed
        self.step_ms = step_ms
        self.lang = lang
        self._held: set[int] = set()  # keys down in the recording so far: the replay's active_keys()
        self._enter_seen = False
        self._scan_line: int | None = None  # line of the pending scan's first event
        self._line = 0  # line of the last event replayed
        self._start: tuple[int, int] | None = None  # (first event time, clock ms when it was replayed)

    # -- the replay thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        for item in read_recording(self.lines, self.step_ms):
            if isinstance(item, RecordingProblem):
                self._lost(item)
            elif self._wait_until(item.t_ms):
                self._replay(item)
            if self.stopped:
                return
        self._end()

    def _wait_until(self, t_ms: int) -> bool:
        """Wait until the event is due on the clock (``speed``); meanwhile a scan's gap may run out."""
        if self.speed <= 0:
            return True
        if self._start is None:
            self._start = (t_ms, self.now_ms())
        due = self._start[1] + (t_ms - self._start[0]) / self.speed
        while not self.stopped:
            left_s = (due - self.now_ms()) / 1000
            if left_s <= 0:
                return True
            self._stop.wait(min(left_s, self._silence_s(POLL_S)))
            self._expire()
        return False

    def _replay(self, event: RecordedEvent) -> None:
        deadline = self.framer.deadline_ms()
        starts = deadline is None or event.t_ms > deadline
        if event.type == codes.EV_KEY:
            if event.value == codes.DOWN:
                self._held.add(event.code)
                self._enter_seen = self._enter_seen or event.code in ENTER_KEYS
            elif event.value == codes.UP:
                self._held.discard(event.code)
        self._line = event.line
        self._event(event.type, event.code, event.value, event.t_ms)
        if not self.framer.pending():
            self._scan_line = None
        elif starts or self._scan_line is None:
            self._scan_line = event.line

    def _active_keys(self) -> list[int]:
        return sorted(self._held)

    def _lost(self, problem: RecordingProblem) -> None:
        """A line that is no event: say so, and discard the scan it belongs to, as after SYN_DROPPED
        (its own "keys were lost" gives way to the line's message)."""
        self._emit(FAULT, self._discarded(problem.text(self.lang)))
        t_ms = self._last_event_ms if self._last_event_ms is not None else 0
        self.framer.push(codes.EV_SYN, codes.SYN_DROPPED, 0, t_ms)
        self.framer.push(codes.EV_SYN, codes.SYN_REPORT, 0, t_ms)
        self.framer.resync(self._active_keys())

    def _discarded(self, text: str) -> str:
        return f"{text} – {message('scan_discarded', self.lang)}"

    def _end(self) -> None:
        """After the last line: a scan still open is cut, or (no suffix) ends after its gap."""
        if not self.framer.pending() or self.framer.discard:
            return
        profile = self.header.get("profile")
        suffix = profile.get("suffix") if isinstance(profile, dict) else None
        if self._held or self._enter_seen or suffix not in NO_SUFFIX:
            first = self._scan_line if self._scan_line is not None else self._line
            self._drop_pending()
            self._emit(FAULT, self._discarded(message("cut_scan", self.lang, first=first, line=self._line)))
            return
        end_ms = (self.framer.deadline_ms() or 0) + 1
        if self._wait_until(end_ms):
            self._emit_frames(self.framer.expire(end_ms))

    def _put(self, event: ScanEvent) -> None:
        """Wait for the terminal rather than drop: a recording has no real time to keep up with."""
        while not self.stopped:
            try:
                self._queue.put(event, timeout=POLL_S)
                return
            except queue.Full:
                continue
