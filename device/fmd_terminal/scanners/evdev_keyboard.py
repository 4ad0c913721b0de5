"""Keyboard-wedge scanners through python-evdev (SCANNERS-AND-HARDWARE.md 1).

``evdev://usb-Honeywell_..._-event-kbd?layout=fr&gap_ms=50``: a stable name resolved under
``/dev/input/by-id/`` (or under ``/dev/input/``, for our udev rule's ``fmd-scanner``), or an absolute
``/dev/input/eventN`` path. The reader thread:

- opens the device and grabs it at once (EVIOCGRAB, 1.1), so no console or desktop sees scans; a
  device someone else grabbed is reported as "in use" and retried;
- switches the Caps Lock LED off after every grab (1.4);
- waits with ``select`` and drains ``read()`` (the device's real read path; ``BlockingIOError``
  when empty), never ``async_read_loop`` (1.1);
- hands every event to what all keyboard sources share (``scanners.key_events``: framing and
  decoding on the events' own time stamps, SYN_DROPPED, the injected clock only to measure silence
  since the last event, 1.7), re-seeding modifiers after SYN_DROPPED from ``active_keys()``;
- on ``OSError`` (ENODEV, 1.8) reports "scanner disconnected", drops the partial scan, and looks for
  the stable name again every ``reconnect_s``; a replugged scanner is a new ``eventN`` behind the
  same name, grabbed again.

python-evdev is imported only when a real device is opened, so the terminal runs where it is not
installed (1.1: apt ``python3-evdev`` 1.6 or PyPI ``evdev`` 2.x; both work).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import time
from collections.abc import Callable
from typing import Any

from fmd_core.framing import DEFAULT_GAP_MS, DEFAULT_MAX_LENGTH
from fmd_terminal.errors import DeviceError
from fmd_terminal.scanners.key_events import KeyEventSource

log = logging.getLogger(__name__)

INPUT_DIR = "/dev/input"
LED_CAPSL = 1  # linux/input-event-codes.h
POLL_S = 0.1  # longest wait in select, so close() is noticed quickly


def open_input_device(path: str) -> Any:
    """Open ``path`` with python-evdev (imported here, lazily)."""
    try:
        import evdev
    except ImportError as error:
        raise DeviceError(
            "python-evdev is not installed: pip install evdev, or apt install python3-evdev"
        ) from error
    return evdev.InputDevice(path)


def resolve_device(name: str, input_dir: str = INPUT_DIR) -> str:
    """The path of a scanner named by an absolute path, a by-id name or a name under ``input_dir``."""
    if os.path.isabs(name):
        return name
    by_id = os.path.join(input_dir, "by-id", name)
    if os.path.lexists(by_id):
        return by_id
    return os.path.join(input_dir, name)


class EvdevScanSource(KeyEventSource):
    """A ``ScanSource`` over one keyboard-wedge scanner."""

    thread_name = "scanner-evdev"

    def __init__(
        self,
        name: str,
        layout: str = "us",
        gap_ms: int = DEFAULT_GAP_MS,
        max_length: int = DEFAULT_MAX_LENGTH,
        function_keys: dict[int, str] | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        open_device: Callable[[str], Any] = open_input_device,
        input_dir: str = INPUT_DIR,
        reconnect_s: float = 1.0,
        recorder: Callable[[int, int, int, int, int], None] | None = None,
    ) -> None:
        super().__init__(f"evdev://{name}", layout, gap_ms, max_length, function_keys, clock_ns)
        self.name = name
        self.open_device = open_device
        self.input_dir = input_dir
        self.reconnect_s = reconnect_s
        # called with (sec, usec, type, code, value) for every raw event: golden recordings (7.4)
        self.recorder = recorder
        self.device: Any = None
        self.grabbed_path = ""

    # -- device handling ---------------------------------------------------------------------------

    def _connect(self) -> bool:
        path = resolve_device(self.name, self.input_dir)
        if not os.path.exists(path):
            where = "" if os.path.isabs(self.name) else f" under {self.input_dir}"
            self._device_fault(f"scanner {self.name} not found{where}: unplugged? retrying")
            return False
        try:
            device = self.open_device(path)
        except OSError as error:
            self._device_fault(f"scanner {path} cannot be opened: {error.strerror or error}; retrying")
            return False
        try:
            device.grab()
        except OSError as error:
            device.close()
            if error.errno == errno.EBUSY:
                self._device_fault(f"scanner {path} in use by another program (it holds the grab); retrying")
            else:
                self._device_fault(f"scanner {path} cannot be grabbed: {error.strerror or error}; retrying")
            return False
        try:
            device.set_led(LED_CAPSL, 0)
        except (OSError, AttributeError) as error:  # read-only handle or a double: not fatal
            log.debug("%s: Caps Lock LED not switched off: %s", path, error)
        self.device = device
        self.grabbed_path = path
        self.framer.resync(())
        log.info("scanner %s grabbed (layout %s)", path, self.framer.decoder.layout.name)
        return True

    def _disconnect(self, text: str) -> None:
        self._release()
        self._drop_pending()
        self._device_fault(text)

    def _release(self) -> None:
        device, self.device = self.device, None
        if device is None:
            return
        try:
            device.ungrab()
        except OSError:
            pass  # already gone: the grab ended with the device
        try:
            device.close()
        except OSError as error:
            log.debug("%s: close failed: %s", self.grabbed_path, error)

    # -- the reader thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while not self.stopped:
            if self.device is None and not self._connect():
                self._stop.wait(self.reconnect_s)
                continue
            self._wait_and_read()
            self._expire()

    def _wait_and_read(self) -> None:
        try:
            ready, _, _ = select.select([self.device.fd], [], [], self._silence_s(POLL_S))
        except (OSError, ValueError) as error:
            self._disconnect(f"scanner disconnected ({error}); waiting for it to come back")
            return
        if not ready:
            return
        try:
            for event in self.device.read():
                if self.recorder is not None:
                    self.recorder(event.sec, event.usec, event.type, event.code, event.value)
                self._event(event.type, event.code, event.value, event.sec * 1000 + event.usec // 1000)
        except BlockingIOError:
            pass
        except OSError as error:
            reason = "unplugged" if error.errno == errno.ENODEV else (error.strerror or str(error))
            self._disconnect(f"scanner disconnected ({reason}); waiting for it to come back")

    def _active_keys(self) -> list[int]:
        try:
            return list(self.device.active_keys())
        except (OSError, AttributeError):
            return []
