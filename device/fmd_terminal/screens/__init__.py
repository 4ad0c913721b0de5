"""The screen port: draws a ``fmd_core.screen.ScreenModel``.

``open_screen(url)`` picks the adapter by URL scheme: ``ssd1306://i2c/1/0x3c``,
``sh1106://i2c/1/0x3c``, ``console://`` (draws in a terminal), ``recording://`` (keeps every model
and the rendered image, for tests). Every adapter draws the same model; the OLED adapters render it
with luma.oled onto a 128x64 canvas (SCANNERS-AND-HARDWARE.md section 4).
"""

from __future__ import annotations

from typing import Protocol

from fmd_core.screen import ScreenModel


class Screen(Protocol):
    def show(self, model: ScreenModel) -> None:
        """Draw ``model`` now; never raises for a device fault (logs it, keeps running)."""

    def close(self) -> None:
        """Blank and release the display."""
