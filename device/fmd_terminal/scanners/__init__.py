"""The scanner port: where scans come from.

``open_scanner(url)`` picks the adapter by URL scheme (ARCHITECTURE.md, principle 3):
``evdev://<by-id name or /dev/input/eventN>?layout=fr&timeout_ms=50``, ``serial://<port>?baud=...``,
``stdin://``, ``script://<path of JSON lines>``, ``keys://<path of a key recording>`` (a keyboard
scanner's events replayed through the evdev adapter's path). Each returns a ``ScanSource``.

A ``ScanSource`` is read by the main loop with ``read(timeout_s)``; it returns a ``ScanEvent`` or
None when nothing arrived in time. Adapters never raise for a bad scan or an unplugged scanner:
those are ``ScanEvent``s of kind "fault" (ARCHITECTURE.md, principle 5).

The scan guard (``scanners.guarded``, issue 8) reports calibration results and held scans as
``FAULT`` events too (a reader that knows nothing of calibration never sends them), with a
``ScannerCheck`` in ``check`` so that the application can show them as what they are.
"""

from __future__ import annotations

from typing import Protocol

SCAN = "scan"  # raw text of one scan, exactly as the scanner delivered it (GS, RS, EOT kept)
MODE = "mode"  # a scripted mode switch ({"mode": "verify"} in a script)
FAULT = "fault"  # the scanner is gone, reconnecting, or a scan was cut (SYN_DROPPED): text says what
END = "end"  # a finite source (script, closed stdin, the end of a key recording) has nothing more

CALIBRATED = "calibrated"  # ScannerCheck.reason of a calibration code's result


class ScannerCheck:
    """What the scan guard found (issue 8), carried by its ``FAULT`` events in ``ScanEvent.check``.

    ``reason``: ``CALIBRATED`` (a calibration code was read; ``problems`` empty means "Scanner OK"),
    else why a scan was held and not passed on: ``"settings_changed"``, ``"gs_dropped"``,
    ``"calibration_failed"`` or ``"not_calibrated"`` (``fmd_core.calibration.guard``).
    ``problems``: ``((problem id, parameters), ...)`` as ``fmd_core.calibration.problems`` gives them,
    or for a changed scanner what seems to have changed; ``raw``: the held scan's text (None when no
    keyboard country reads its keys).
    """

    __slots__ = ("reason", "problems", "raw")

    def __init__(self, reason: str, problems: tuple | list = (), raw: str | None = None) -> None:
        self.reason = reason
        self.problems = tuple(problems)
        self.raw = raw

    def __repr__(self) -> str:
        return f"ScannerCheck({self.reason!r}, {self.problems!r})"


class ScanEvent:
    """One thing the scanner port reports. ``received_ms`` is from the adapter's clock.

    ``keys``: for a keyboard-wedge scan, its ``(code, value)`` key events (None otherwise), so that
    calibration and the scan guard (``fmd_core.calibration``) can read them under other layouts.
    ``check``: on the scan guard's ``FAULT`` events, a ``ScannerCheck`` (None otherwise).
    """

    __slots__ = ("kind", "text", "received_ms", "source", "keys", "check")

    def __init__(
        self,
        kind: str,
        text: str = "",
        received_ms: int = 0,
        source: str = "",
        keys: list | None = None,
        check: ScannerCheck | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.received_ms = received_ms
        self.source = source
        self.keys = keys
        self.check = check

    def __repr__(self) -> str:
        return (
            f"ScanEvent({self.kind!r}, {self.text!r}, received_ms={self.received_ms}, source={self.source!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScanEvent) and (self.kind, self.text) == (other.kind, other.text)


class ScanSource(Protocol):
    def read(self, timeout_s: float) -> ScanEvent | None:
        """The next event, or None when nothing arrived within ``timeout_s``."""

    def close(self) -> None:
        """Release the device (ungrab, close the port)."""
