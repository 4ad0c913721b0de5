"""The same feedback on the real OLED and GPIO of a Pi; runs only with ``FMD_HARDWARE=1``.

Set ``FMD_OLED_URL`` (default ``ssd1306://i2c/1/0x3c``) and ``FMD_GPIO_URL`` (default
``gpio://?pin_factory=lgpio``). A person watching the box confirms what the asserts cannot see;
record the result in ``hardware/``.
"""

from __future__ import annotations

import os

import pytest

from fmd_core import feedback
from fmd_core.screen import ScreenModel
from fmd_terminal.indicators.factory import open_indicators
from fmd_terminal.screens.factory import open_screen

pytestmark = pytest.mark.skipif(os.environ.get("FMD_HARDWARE") != "1", reason="needs a Pi (FMD_HARDWARE=1)")


def test_real_oled_shows_each_light_without_a_fault(caplog):
    screen = open_screen(os.environ.get("FMD_OLED_URL", "ssd1306://i2c/1/0x3c"), tick_every_s=None)
    try:
        for light in (None, *feedback.LIGHTS):
            screen.show(
                ScreenModel(light, f"Test {light}", ("ligne 1", "ligne 2"), "DÉLIVRER", "1 en attente")
            )
        assert screen.frames == 4 and "stopped answering" not in caplog.text
    finally:
        screen.close()


def test_real_gpio_plays_every_pattern_to_the_end():
    indicators = open_indicators(os.environ.get("FMD_GPIO_URL", "gpio://?pin_factory=lgpio"))
    try:
        for name in feedback.PATTERNS:
            indicators.signal(name)
            assert indicators.join(timeout=10)
    finally:
        indicators.close()
