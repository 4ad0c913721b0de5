"""USB-CDC serial scanners through pyserial (SCANNERS-AND-HARDWARE.md 2; the preferred interface).

``serial://usb-Zebra_..._-if00?gap_ms=50`` (a name under ``/dev/serial/by-id/``), ``serial:///dev/ttyACM0``,
or ``serial://fmd-scanner-serial`` (our udev rule's name under ``/dev``). Bytes arrive exactly (GS 0x1D,
RS 0x1E, EOT 0x04, the AIM prefix as ``]d2``) and are read as Latin-1, one byte one character.

- **Framing**: CR, LF or CRLF ends a scan; a scan may arrive in many reads (``fmd_core.framing.ByteFramer``).
- **The gap timer is ours**: pyserial's ``inter_byte_timeout`` does not end a Linux ``read()`` early,
  so the port is read with a short ``timeout`` and a suffix-less scan ends after ``gap_ms`` of silence
  measured on the injected clock.
- **Unplug** raises ``SerialException`` (or ``OSError``): "scanner disconnected", the partial scan is
  dropped, and the stable name is opened again every ``reconnect_s``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from fmd_core.framing import DEFAULT_GAP_MS, DEFAULT_MAX_LENGTH, ByteFramer
from fmd_terminal.errors import DeviceError
from fmd_terminal.scanners.queued import QueuedScanSource

log = logging.getLogger(__name__)

SERIAL_BY_ID = "/dev/serial/by-id"
READ_TIMEOUT_S = 0.02  # one read's wait; the gap timer is separate (SCANNERS-AND-HARDWARE.md 2)
READ_SIZE = 4096


def resolve_port(name: str, by_id_dir: str = SERIAL_BY_ID) -> str:
    """The path of a port named by an absolute path, a by-id name, a pyserial URL or a name under /dev."""
    if os.path.isabs(name) or "://" in name:
        return name
    by_id = os.path.join(by_id_dir, name)
    if os.path.lexists(by_id):
        return by_id
    return os.path.join("/dev", name)


def open_serial_port(path: str, baud: int = 9600) -> Any:
    """Open ``path`` exclusively with pyserial (``serial_for_url`` also takes ``loop://``)."""
    import serial

    if "://" in path:
        return serial.serial_for_url(path, baudrate=baud, timeout=READ_TIMEOUT_S)
    return serial.Serial(path, baudrate=baud, timeout=READ_TIMEOUT_S, exclusive=True)


class SerialScanSource(QueuedScanSource):
    """A ``ScanSource`` over one serial (USB-CDC) scanner."""

    thread_name = "scanner-serial"

    def __init__(
        self,
        name: str,
        baud: int = 9600,
        gap_ms: int = DEFAULT_GAP_MS,
        max_length: int = DEFAULT_MAX_LENGTH,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        open_port: Callable[[str, int], Any] = open_serial_port,
        by_id_dir: str = SERIAL_BY_ID,
        reconnect_s: float = 1.0,
    ) -> None:
        super().__init__(f"serial://{name}", clock_ns)
        self.name = name
        self.baud = baud
        self.framer = ByteFramer(gap_ms=gap_ms, max_length=max_length)
        self.open_port = open_port
        self.by_id_dir = by_id_dir
        self.reconnect_s = reconnect_s
        self.port: Any = None
        if open_port is open_serial_port:
            try:
                import serial  # noqa: F401
            except ImportError as error:
                raise DeviceError("pyserial is not installed: pip install pyserial") from error

    def _errors(self) -> tuple[type[BaseException], ...]:
        try:
            import serial
        except ImportError:
            return (OSError,)
        return (serial.SerialException, OSError)

    def connected(self) -> bool:
        return self.port is not None

    def _absent(self) -> str | None:
        path = resolve_port(self.name, self.by_id_dir)
        if "://" in path or os.path.exists(path):
            return None
        where = "" if os.path.isabs(self.name) else f" under {self.by_id_dir}"
        return f"scanner {self.name} not found{where}: unplugged? retrying"

    def _connect(self) -> bool:
        path = resolve_port(self.name, self.by_id_dir)
        absent = self._absent()
        if absent is not None:
            self._device_fault(absent)
            return False
        try:
            self.port = self.open_port(path, self.baud)
        except self._errors() as error:
            self._device_fault(f"scanner {path} cannot be opened: {error}; retrying")
            return False
        log.info("scanner %s open", path)
        return True

    def _release(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            try:
                port.close()
            except self._errors() as error:
                log.debug("%s: close failed: %s", self.name, error)

    def _run(self) -> None:
        errors = self._errors()
        while not self.stopped:
            if self.port is None and not self._connect():
                self._stop.wait(self.reconnect_s)
                continue
            try:
                data = self.port.read(max(1, min(READ_SIZE, self.port.in_waiting)))
            except errors as error:
                self._release()
                self.framer.expire(10**18)  # the partial scan is dropped, never sent
                self._device_fault(f"scanner disconnected ({error}); waiting for it to come back")
                continue
            now = self.now_ms()
            if data:
                self._device_ok()  # only data proves the device works: a reopen that fails again stays quiet
                self._emit_frames(self.framer.push(data.decode("latin-1"), now))
            self._emit_frames(self.framer.expire(now))
