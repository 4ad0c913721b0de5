"""The terminal's clocks (OFFLINE-QUEUE.md section 7): wall, boot id, boottime, synchronised flag.

``SystemClock`` reads the kernel: ``CLOCK_REALTIME``, ``/proc/sys/kernel/random/boot_id``,
``CLOCK_BOOTTIME`` (never jumps, counts suspend) and a read-only ``adjtimex()`` (modes = 0, no
privilege needed) whose ``STA_UNSYNC`` status bit says whether the kernel considers the clock
synchronised. ``FakeClock`` is the injectable twin the tests drive.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time

from fmd_core.timekeeping import SECOND_NS, ClockReading

log = logging.getLogger(__name__)

STA_UNSYNC = 0x0040
TIME_ERROR = 5


class _Timex(ctypes.Structure):
    # struct timex (linux/timex.h); the trailing padding of 11 ints is part of the ABI.
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("padding", ctypes.c_int * 11),
    ]


_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:  # loaded once: find_library runs a subprocess on some systems
        _LIBC.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True))
    return _LIBC[0]


def kernel_clock_synced() -> bool:
    """True when ``adjtimex()`` reports the clock synchronised (status without STA_UNSYNC)."""
    try:
        libc = _libc()
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError) as error:
        log.debug("adjtimex unavailable: %s", error)
        return False
    return state not in (-1, TIME_ERROR) and not timex.status & STA_UNSYNC


def read_boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip().replace("-", "")
    except OSError:
        return "no-boot-id"


class SystemClock:
    """The kernel's clocks. The boot id is read once (it cannot change while the process lives)."""

    def __init__(self, synced: bool | None = None) -> None:
        self.boot_id = read_boot_id()
        self._synced = synced

    def __call__(self) -> ClockReading:
        synced = kernel_clock_synced() if self._synced is None else self._synced
        return ClockReading(time.time_ns(), self.boot_id, time.clock_gettime_ns(time.CLOCK_BOOTTIME), synced)

    def boottime_ns(self) -> int:
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


class FakeClock:
    """An injected clock for tests: advance it, step the wall clock, reboot, set the sync flag."""

    def __init__(self, wall_ns: int = 1_780_000_000 * SECOND_NS, boot_id: str = "boot1", synced: bool = True,
                 boottime_ns: int = 10 * SECOND_NS) -> None:
        self.wall_ns = wall_ns
        self.boot_id = boot_id
        self.boottime = boottime_ns
        self.synced = synced
        self.lock = threading.Lock()

    def __call__(self) -> ClockReading:
        with self.lock:
            return ClockReading(self.wall_ns, self.boot_id, self.boottime, self.synced)

    def boottime_ns(self) -> int:
        return self.boottime

    def advance(self, seconds: float) -> None:
        with self.lock:
            step = int(seconds * SECOND_NS)
            self.wall_ns += step
            self.boottime += step

    def step_wall(self, seconds: float) -> None:
        """An NTP step (forwards or backwards): wall time jumps, boottime does not."""
        with self.lock:
            self.wall_ns += int(seconds * SECOND_NS)

    def reboot(self, boot_id: str, wall_ns: int | None = None, synced: bool = False) -> None:
        with self.lock:
            self.boot_id = boot_id
            self.boottime = 5 * SECOND_NS
            if wall_ns is not None:
                self.wall_ns = wall_ns
            self.synced = synced
