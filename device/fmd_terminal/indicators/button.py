"""An optional push button on GPIO that switches the terminal to its next mode.

    gpio://?pin=23&pull_up=1&bounce_ms=50&pin_factory=lgpio

A momentary switch between the pin and ground (``pull_up=1``, the default) or 3.3 V
(``pull_up=0``). gpiozero's ``Button`` debounces and calls ``on_press`` from its own thread; the
flow engineer wires it to "next mode" (a mode barcode does the same, fmd_core.modes). The pin
factory is chosen as for the LEDs (``fmd_terminal.indicators.gpio``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.indicators.gpio import gpio_errors, load_pin_factory

DEFAULT_PIN = 23


class ModeButton:
    """Calls ``on_press()`` each time the button is pressed."""

    def __init__(
        self,
        pin: int,
        on_press: Callable[[], None],
        *,
        pull_up: bool = True,
        bounce_ms: int = 50,
        pin_factory: Any = None,
    ):
        from gpiozero import Button

        self.on_press = on_press
        self.pin_factory = pin_factory
        self.presses = 0
        try:
            self.button = Button(
                pin, pull_up=pull_up, bounce_time=bounce_ms / 1000.0 or None, pin_factory=pin_factory
            )
        except gpio_errors() as exc:
            raise DeviceError.text("button_unusable", pin=pin, why=exc) from exc
        self.button.when_pressed = self._pressed

    def _pressed(self) -> None:
        self.presses += 1
        self.on_press()

    def close(self) -> None:
        self.button.close()


def open_mode_button(url: str, on_press: Callable[[], None]) -> ModeButton:
    """Open the button a ``gpio://?pin=N&pull_up=1&bounce_ms=50&pin_factory=NAME`` URL describes."""
    parts: SplitResult = urlsplit(url)
    if parts.scheme.lower() != "gpio":
        raise ConfigError.text("button_url", url=repr(url))
    pin, pull_up, bounce_ms = DEFAULT_PIN, True, 50
    factory_name = os.environ.get("GPIOZERO_PIN_FACTORY", "lgpio").lower()
    for key, text in parse_qsl(parts.query, keep_blank_values=True):
        if key in ("pin", "bounce_ms") and text.isdigit():
            if key == "pin":
                pin = int(text)
            else:
                bounce_ms = int(text)
        elif key == "pull_up" and text in ("0", "1"):
            pull_up = text == "1"
        elif key == "pin_factory":
            factory_name = text.lower()
        else:
            raise ConfigError.text("button_option", url=repr(url), key=key, value=repr(text))
    if not 0 <= pin <= 53:
        raise ConfigError.text("button_pin", url=repr(url), pin=pin)
    return ModeButton(
        pin, on_press, pull_up=pull_up, bounce_ms=bounce_ms, pin_factory=load_pin_factory(factory_name)
    )
