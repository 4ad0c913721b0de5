"""Tell systemd how the terminal is doing: the sd_notify protocol (SCANNERS-AND-HARDWARE.md, section 6).

The unit runs the terminal with ``Type=notify`` and ``WatchdogSec=``. systemd passes the address of
its notification socket in ``NOTIFY_SOCKET`` (a file system path, or an abstract name written
``@name``) and, when the watchdog is on, ``WATCHDOG_USEC`` (and ``WATCHDOG_PID``). The terminal sends
newline-separated ``VARIABLE=value`` assignments as one datagram each (sd_notify(3)):

- ``READY=1`` once start-up is finished,
- ``STATUS=...`` one line for ``systemctl status``,
- ``WATCHDOG=1`` about every half ``WATCHDOG_USEC``, only while scanner, screen and uplink are healthy,
- ``STOPPING=1`` when it begins to shut down.

The protocol is written by hand (it is one ``sendto`` on an ``AF_UNIX``/``SOCK_DGRAM`` socket) so that
each message opens the address afresh, like ``sd_notify()`` in libsystemd: a notifier made before
systemd's socket exists, or one that outlives a failed send, keeps working.

Without ``NOTIFY_SOCKET`` (a laptop, the demo, the tests) every method does nothing. A notifier never
raises into the main loop: a failed send is logged once at WARNING, then at DEBUG.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _socket_address(value: str) -> str:
    """Return the address to ``sendto``: ``@name`` is the abstract name ``\\0name`` (sd_notify(3))."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value


def _one_line(text: str) -> str:
    """A status is one assignment: a newline would start a new variable, so it becomes a space."""
    return " ".join(str(text).splitlines())


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between two ``WATCHDOG=1`` pings: half of ``WATCHDOG_USEC`` (sd_watchdog_enabled(3)).

    ``None`` when the watchdog is off for this process: the variable is unset, not a positive
    integer, or ``WATCHDOG_PID`` names another process.
    """
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "")
    if not raw.isdigit() or int(raw) <= 0:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(raw) / 2_000_000


class ServiceNotifier:
    """Send service state to systemd; a no-op when ``NOTIFY_SOCKET`` is unset.

    ``environ`` defaults to ``os.environ`` and is read once, at construction.
    """

    __slots__ = ("_address", "_warned")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        value = env.get("NOTIFY_SOCKET", "")
        self._address = _socket_address(value) if value else None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when systemd (or a test) listens on ``NOTIFY_SOCKET``."""
        return self._address is not None

    def ready(self) -> bool:
        """Start-up is finished (``READY=1``); systemd now counts the service as started."""
        return self.notify("READY=1")

    def status(self, text: str) -> bool:
        """One line shown by ``systemctl status`` (``STATUS=...``)."""
        return self.notify("STATUS=" + _one_line(text))

    def watchdog(self) -> bool:
        """The main loop is healthy (``WATCHDOG=1``): send it every ``watchdog_interval_s()``."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Shut-down has begun (``STOPPING=1``)."""
        return self.notify("STOPPING=1")

    def notify(self, *assignments: str) -> bool:
        """Send ``assignments`` as one datagram; True when it was sent, False otherwise. Never raises."""
        if self._address is None:
            return False
        message = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message, self._address)
        except OSError as error:
            level = logging.DEBUG if self._warned else logging.WARNING
            self._warned = True
            log.log(level, "cannot notify systemd on %r: %s", self._address.replace("\0", "@"), error)
            return False
        return True
