"""What the device-backed scan sources share: a reader thread that feeds a queue.

The main loop calls ``read(timeout_s)``, which is a queue get (issue 4 notes). The reader thread
owns the device and the framing state; it never raises into the main loop: device trouble becomes
a ``FAULT`` event with a clear text (ARCHITECTURE.md, principle 5). Time stamps come from an
injected clock (``time.monotonic_ns`` by default).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from fmd_core.framing import FAULT as FRAME_FAULT
from fmd_core.framing import Frame
from fmd_terminal.scanners import END, FAULT, SCAN, ScanEvent

log = logging.getLogger(__name__)

# a scan a person is waiting for never needs more than this many events queued; beyond it the
# main loop has stalled and older scans are worth less than memory
QUEUE_LIMIT = 256


class QueuedScanSource:
    """Base of the evdev, serial and stdin sources: ``_run`` (in a thread) calls ``_emit``."""

    thread_name = "scanner"
    join_timeout_s = 2.0

    def __init__(self, source: str, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.source = source
        self.clock_ns = clock_ns
        self._queue: queue.Queue[ScanEvent] = queue.Queue(QUEUE_LIMIT)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_fault = ""

    def start(self) -> QueuedScanSource:
        self._thread = threading.Thread(target=self._guarded_run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def now_ms(self) -> int:
        return self.clock_ns() // 1_000_000

    def read(self, timeout_s: float) -> ScanEvent | None:
        try:
            return self._queue.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.join_timeout_s)
        self._release()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _emit(self, kind: str, text: str = "", keys: list | None = None) -> None:
        if kind == FAULT:
            log.warning("%s: %s", self.source, text)
        self._put(ScanEvent(kind, text, self.now_ms(), self.source, keys))

    def _put(self, event: ScanEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("%s: the main loop is not reading; %s event dropped", self.source, event.kind)

    def _device_fault(self, text: str) -> None:
        """Report a device problem once, not once per retry, until the device works again."""
        if text != self._last_fault:
            self._last_fault = text
            self._emit(FAULT, text)

    def _device_ok(self) -> None:
        self._last_fault = ""

    def _emit_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            self._emit(FAULT if frame.kind == FRAME_FAULT else SCAN, frame.text, frame.keys)

    def _guarded_run(self) -> None:
        try:
            self._run()
        except Exception as error:  # the reader thread's top level: report, never die silently
            log.exception("%s: reader stopped", self.source)
            self._emit(FAULT, f"scanner reader stopped: {error}")
        finally:
            if not self._stop.is_set():
                self._emit(END)

    def _run(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Close the device; called from ``close`` after the thread ended."""
