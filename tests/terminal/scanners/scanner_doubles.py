"""Test doubles for the scanner adapters (SCANNERS-AND-HARDWARE.md 7): hardware stand-ins only.

``PipeEventSource`` is python-evdev's own ``EventIO`` over a pipe, so ``read()`` runs evdev's C read
path exactly as on a device; ``grab``/``set_led``/``active_keys`` (ioctls a pipe cannot answer) are
recorded instead, and ``unplug()`` makes the next read fail with ENODEV as a removed device does.
"""

from __future__ import annotations

import errno
import os
import struct
import threading

from evdev.eventio import EventIO

from fmd_core.keyboard import codes, type_text

EVENT_FORMAT = "llHHi"  # struct input_event on 64-bit Linux
RECORD_SIZE = struct.calcsize(EVENT_FORMAT)  # 24 on 64-bit Linux, 16 on 32-bit


class FakeClock:
    """A monotonic clock in nanoseconds that a test moves by hand."""

    def __init__(self, start_ms: int = 1_000_000) -> None:
        self.ns = start_ms * 1_000_000
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self.ns

    def advance_ms(self, ms: int) -> None:
        with self._lock:
            self.ns += ms * 1_000_000


class PipeEventSource(EventIO):
    def __init__(self, busy: bool = False) -> None:
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        self.busy = busy
        self.grabbed = False
        self.leds: list[tuple[int, int]] = []
        self.closed = False
        self.unplugged = False
        self.path = "pipe"

    def feed(self, type_: int, code: int, value: int, t_ms: int) -> None:
        os.write(self._w, struct.pack(EVENT_FORMAT, t_ms // 1000, t_ms % 1000 * 1000, type_, code, value))

    def type(
        self, text: str, layout: str = "us", t0_ms: int = 0, step_ms: int = 2, suffix: str = "\r", **options
    ) -> int:
        """Feed the events a scanner set to ``layout`` sends for ``text``; returns the next free time."""
        t = t0_ms
        records = []
        for code, value in type_text(text, layout, suffix=suffix, **options):
            records.append(struct.pack(EVENT_FORMAT, t // 1000, t % 1000 * 1000, codes.EV_KEY, code, value))
            records.append(
                struct.pack(EVENT_FORMAT, t // 1000, t % 1000 * 1000, codes.EV_SYN, codes.SYN_REPORT, 0)
            )
            t += step_ms
        # whole records, at most PIPE_BUF (4096) bytes a write so each write is atomic: the reader
        # never sees half a record (a device never delivers one); a burst blocks until it drains
        step = RECORD_SIZE * (4096 // RECORD_SIZE)
        data = b"".join(records)
        for start in range(0, len(data), step):
            os.write(self._w, data[start : start + step])
        return t

    def unplug(self) -> None:
        self.unplugged = True
        os.close(self._w)  # the fd becomes readable (EOF), as a removed device does

    def read(self):
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        return super().read()

    def grab(self) -> None:
        if self.busy:
            raise OSError(errno.EBUSY, "Device or resource busy")
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def set_led(self, led: int, value: int) -> None:
        self.leds.append((led, value))

    def active_keys(self) -> list[int]:
        return []

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
            if not self.unplugged:
                os.close(self._w)
