"""``open_screen(url)``: the screen adapter a URL names (ARCHITECTURE.md, principle 3).

``ssd1306://i2c/1/0x3c``, ``sh1106://i2c/1/0x3c?offset=2`` (luma.oled, imported only when used),
``console://`` and ``recording://``. Keyword arguments go to the adapter's opener, e.g.
``serial_interface=`` and ``clock=`` for the OLEDs or ``stream=`` for the console.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult

from fmd_terminal.screens import Screen
from fmd_terminal.urls import open_by_scheme, open_or_fallback


def _ssd1306(parts: SplitResult, **kwargs: Any) -> Screen:
    from fmd_terminal.screens.oled import open_ssd1306

    return open_ssd1306(parts, **kwargs)


def _sh1106(parts: SplitResult, **kwargs: Any) -> Screen:
    from fmd_terminal.screens.oled import open_sh1106

    return open_sh1106(parts, **kwargs)


def _console(parts: SplitResult, **kwargs: Any) -> Screen:
    from fmd_terminal.screens.console import open_console

    return open_console(parts, **kwargs)


def _recording(parts: SplitResult, **kwargs: Any) -> Screen:
    from fmd_terminal.screens.recording import open_recording

    return open_recording(parts, **kwargs)


SCREENS = {"ssd1306": _ssd1306, "sh1106": _sh1106, "console": _console, "recording": _recording}


def open_screen(url: str, **kwargs: Any) -> Screen:
    """Open the screen ``url`` names; ``UnknownSchemeError`` lists the known schemes."""
    return open_by_scheme("screen", url, SCREENS, **kwargs)


def open_screen_or_fallback(url: str, fallback: str = "console://", **kwargs: Any) -> Screen:
    """Open ``url``, or ``fallback`` when its device is missing (``fmd_terminal.urls.open_or_fallback``)."""
    return open_or_fallback(open_screen, url, fallback, **kwargs)
