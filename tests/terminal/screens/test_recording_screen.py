"""The recording twin and the screen factory."""

from __future__ import annotations

import pytest

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError, UnknownSchemeError
from fmd_terminal.screens.console import ConsoleScreen
from fmd_terminal.screens.factory import open_screen
from fmd_terminal.screens.recording import RecordingScreen
from fmd_terminal.screens.render import render

IDLE = ScreenModel(None, "Prêt – scannez une boîte", (), "DÉLIVRER", "")
AUTHENTIC = ScreenModel("green", "Boîte authentique", ("CIP/GTIN 03400933112345",), "VÉRIFIER", "")


def test_recording_keeps_every_model_and_its_image():
    screen = open_screen("recording://")
    assert isinstance(screen, RecordingScreen) and screen.last is None
    for model in (IDLE, IDLE, AUTHENTIC):
        screen.show(model)
    assert screen.models == [IDLE, IDLE, AUTHENTIC]
    assert screen.changes == [IDLE, AUTHENTIC]
    assert [image.tobytes() for image in screen.images] == [render(m).tobytes() for m in screen.models]
    assert screen.last == AUTHENTIC
    screen.close()
    assert screen.closed


def test_recording_without_images():
    screen = open_screen("recording://?render=0")
    screen.show(IDLE)
    assert screen.models == [IDLE] and screen.images == []
    with pytest.raises(ConfigError):
        open_screen("recording://?render=maybe")


def test_factory_picks_by_scheme_and_names_the_known_ones():
    assert isinstance(open_screen("console://"), ConsoleScreen)
    assert isinstance(open_screen("RECORDING://"), RecordingScreen)
    with pytest.raises(
        UnknownSchemeError, match=r"'st7735://'.*console://, recording://, sh1106://, ssd1306://"
    ):
        open_screen("st7735://")


def test_a_missing_oled_falls_back_to_the_console_and_says_why(caplog):
    from fmd_terminal.screens.factory import open_screen_or_fallback

    with caplog.at_level("WARNING", logger="fmd_terminal.screens.factory"):
        screen = open_screen_or_fallback("ssd1306://i2c/250/0x3c", tick_every_s=None)
    assert isinstance(screen, ConsoleScreen)
    assert "on i2c/250/0x3c" in caplog.text and "using console://" in caplog.text
    with pytest.raises(ConfigError):  # a typo is not a missing device
        open_screen_or_fallback("ssd1306://spi/0/0")
