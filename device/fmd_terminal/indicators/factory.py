"""``open_indicators(url)``: the indicators adapter a URL names (ARCHITECTURE.md, principle 3).

``gpio://?green=17&amber=27&red=22&buzzer=18&active_high=1&pin_factory=lgpio`` (gpiozero, imported
only when used), ``recording://`` and ``none://``. Keyword arguments go to the adapter's opener
(``wait=`` for the GPIO player in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult

from fmd_terminal.indicators import Indicators
from fmd_terminal.indicators.recording import open_none, open_recording
from fmd_terminal.urls import open_by_scheme, open_or_fallback


def _gpio(parts: SplitResult, **kwargs: Any) -> Indicators:
    from fmd_terminal.indicators.gpio import open_gpio

    return open_gpio(parts, **kwargs)


INDICATORS: dict[str, Callable[..., Any]] = {"gpio": _gpio, "recording": open_recording, "none": open_none}


def open_indicators(url: str, **kwargs: Any) -> Indicators:
    """Open the indicators ``url`` names; ``UnknownSchemeError`` lists the known schemes."""
    return open_by_scheme("indicators", url, INDICATORS, **kwargs)


def open_indicators_or_fallback(url: str, fallback: str = "none://", **kwargs: Any) -> Indicators:
    """Open ``url``, or ``fallback`` when its device is missing (``fmd_terminal.urls.open_or_fallback``)."""
    return open_or_fallback(open_indicators, url, fallback, **kwargs)
