"""The indicators port: green, amber and red LEDs and the buzzer.

``open_indicators(url)`` picks the adapter by URL scheme: ``gpio://?green=17&amber=27&red=22&buzzer=18
&active_high=1&pin_factory=mock`` (gpiozero; ``pin_factory`` one of gpiozero's, e.g. ``rpigpio``,
``lgpio``, ``mock``), ``recording://`` (keeps every signal, for tests), ``none://``. Each light has
its own LED and buzzer pattern (``fmd_core.feedback``; SCANNERS-AND-HARDWARE.md section 5).
"""

from __future__ import annotations

from typing import Protocol


class Indicators(Protocol):
    def signal(self, light: str | None) -> None:
        """Show ``light`` ("green", "amber", "red") with its LED and buzzer pattern; None turns all off.

        Also takes the neutral events of ``fmd_core.feedback`` ("ready", "working", "mode_changed",
        "fault"), which beep but never light a verdict LED. An unknown name raises ``CoreError``.
        """

    def close(self) -> None:
        """Turn everything off and release the pins."""
