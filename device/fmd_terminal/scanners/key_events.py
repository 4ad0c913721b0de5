"""What a keyboard-wedge scan source does with key events once it has them (SCANNERS-AND-HARDWARE.md 1).

The live scanner (``evdev_keyboard``) and the replay of a recording (``key_replay``) differ only in
where the events come from. Everything after the read is here, once, so a replay takes exactly the
path a pharmacy's scanner takes:

- framing and decoding with ``fmd_core.framing.KeyFramer`` in the scanner's keyboard country, on
  the events' own time stamps (1.7); each scan keeps its key events for the scan guard and
  calibration (``scanners.guarded``, ``fmd_core.calibration``);
- ``SYN_DROPPED``: the framer drops the cut scan and the decoder's modifiers are re-seeded from the
  keys held now (``_active_keys``: the device's, or the replay's own count);
- silence: a scan without a suffix ends ``gap_ms`` after its last key. The source's clock measures
  the silence since the last event was read, and ``speed`` converts it to event time (1 for a live
  scanner, the replay's speed for a recording).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fmd_core.framing import DEFAULT_GAP_MS, DEFAULT_MAX_LENGTH, KeyFramer
from fmd_core.keyboard import codes
from fmd_terminal.scanners.queued import QueuedScanSource

NEVER_MS = 10**18  # an event time after every deadline: ``expire`` then ends any pending scan


class KeyEventSource(QueuedScanSource):
    """Base of the evdev scanner and the key replay: ``_event`` for each event read, ``_expire`` when idle."""

    speed = 1.0  # event milliseconds per clock millisecond while waiting (a live scanner: 1)

    def __init__(
        self,
        source: str,
        layout: str = "us",
        gap_ms: int = DEFAULT_GAP_MS,
        max_length: int = DEFAULT_MAX_LENGTH,
        function_keys: dict[int, str] | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__(source, clock_ns)
        self.framer = KeyFramer(
            layout, gap_ms=gap_ms, max_length=max_length, function_keys=function_keys, keep_keys=True
        )
        # event time (ms) of the last event and the clock (ms) when it was read: silence is measured
        # on the clock and added to the event time, so framing stays on the events' own time base
        self._last_event_ms: int | None = None
        self._last_clock_ms = 0

    def _event(self, type_: int, code: int, value: int, t_ms: int) -> None:
        """One event as read from the device or the recording."""
        self._device_ok()  # only events prove the device works: a reopen that fails again stays quiet
        self._last_event_ms = t_ms
        self._last_clock_ms = self.now_ms()
        frames = self.framer.push(type_, code, value, t_ms)
        if type_ == codes.EV_SYN and code == codes.SYN_DROPPED:
            self.framer.resync(self._active_keys())
        self._emit_frames(frames)

    def _active_keys(self) -> list[int]:
        """The keys held down now, after ``SYN_DROPPED`` (the device's own state when it has one)."""
        return []

    def _event_now_ms(self) -> int | None:
        """Now, on the events' time base (None before the first event)."""
        if self._last_event_ms is None:
            return None
        return self._last_event_ms + int((self.now_ms() - self._last_clock_ms) * self.speed)

    def _silence_s(self, longest_s: float) -> float:
        """How long to wait for the next event before the pending scan's gap runs out (at most ``longest_s``)."""
        deadline = self.framer.deadline_ms()
        now = self._event_now_ms()
        if deadline is None or now is None or self.speed <= 0:
            return longest_s
        return min(longest_s, max(0.0, (deadline - now) / self.speed / 1000 + 0.001))

    def _expire(self) -> None:
        """End the pending scan if its gap has passed (a scanner without a suffix, 1.7)."""
        now = self._event_now_ms()
        if now is None or not self.framer.pending():
            return
        self._emit_frames(self.framer.expire(now))

    def _drop_pending(self) -> None:
        """The device went away or the recording broke off: the partial scan is dropped, never sent."""
        self.framer.expire(NEVER_MS)
        self.framer.resync(())
        self._last_event_ms = None
