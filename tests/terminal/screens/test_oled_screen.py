"""The OLED adapter over the real luma.oled drivers and a recording I2C interface.

SCANNERS-AND-HARDWARE.md section 4 pins the traffic: ssd1306 sends one 1024-byte ``data()`` per
frame; sh1106 sends 8 pages per frame, each a page-address command and 128 bytes.
"""

from __future__ import annotations

import logging

import pytest
from luma.core.device import dummy
from PIL import Image

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.screens.factory import open_screen
from fmd_terminal.screens.oled import DIM_CONTRAST, OLEDScreen
from fmd_terminal.screens.render import render

AUTHENTIC = ScreenModel("green", "Boîte authentique", ("CIP/GTIN 03400933112345",), "VÉRIFIER", "")
IDLE = ScreenModel(None, "Prêt – scannez une boîte", (), "DÉLIVRER", "")
ALERT = ScreenModel("red", "Alerte – ne pas délivrer", ("Alerte A24 7Q2K9XM4",), "DÉLIVRER", "")

DISPLAYOFF, DISPLAYON, SETCONTRAST = 0xAE, 0xAF, 0x81

# luma.oled 3.16 reads pixels with Image.getdata, which Pillow 13 deprecates (removed in Pillow 14).
pytestmark = pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")


def ssd1306_frame_to_image(frame: bytes) -> Image.Image:
    """Decode an SSD1306 horizontal-addressing frame (8 pages of 128 columns, LSB on top)."""
    image = Image.new("1", (128, 64))
    for page in range(8):
        for x in range(128):
            byte = frame[page * 128 + x]
            for bit in range(8):
                if byte >> bit & 1:
                    image.putpixel((x, page * 8 + bit), 1)
    return image


def open_ssd1306(serial, clock=None, query=""):
    kwargs = {"serial_interface": serial, "tick_every_s": None}
    if clock is not None:
        kwargs["clock"] = clock
    return open_screen("ssd1306://i2c/1/0x3c" + query, **kwargs)


def test_ssd1306_sends_one_1024_byte_frame_per_change_and_nothing_for_a_repeat(recording_serial):
    screen = open_ssd1306(recording_serial)
    recording_serial.calls.clear()
    screen.show(AUTHENTIC)
    frames = recording_serial.data_calls()
    assert [len(frame) for frame in frames] == [1024]
    assert ssd1306_frame_to_image(frames[0]).tobytes() == render(AUTHENTIC).tobytes()
    screen.show(ScreenModel("green", "Boîte authentique", ["CIP/GTIN 03400933112345"], "VÉRIFIER", ""))
    assert len(recording_serial.data_calls()) == 1  # an equal model: no I2C traffic
    screen.show(IDLE)
    assert [len(frame) for frame in recording_serial.data_calls()] == [1024, 1024]
    assert screen.frames == 2


def test_sh1106_sends_eight_pages_per_frame_with_its_column_offset(recording_serial):
    screen = open_screen("sh1106://i2c/1/0x3c", serial_interface=recording_serial, tick_every_s=None)
    recording_serial.calls.clear()
    screen.show(IDLE)
    pages = [payload for kind, payload in recording_serial.calls if kind == "command"]
    data = recording_serial.data_calls()
    assert pages == [(0xB0 + page, 0x02, 0x10) for page in range(8)]  # luma's default offset: 2
    assert [len(chunk) for chunk in data] == [128] * 8


def test_sh1106_offset_from_the_url(recording_serial):
    screen = open_screen("sh1106://i2c/1/0x3d?offset=0", serial_interface=recording_serial, tick_every_s=None)
    recording_serial.calls.clear()
    screen.show(IDLE)
    assert {cmd[1] for cmd in recording_serial.commands()} == {0x00}


def test_a_model_with_the_same_pixels_sends_no_frame(recording_serial):
    screen = open_ssd1306(recording_serial)
    screen.show(IDLE)
    before = len(recording_serial.data_calls())
    screen.show(ScreenModel(None, "Prêt – scannez une boîte", (), "DÉLIVRER", "", busy=True))
    assert len(recording_serial.data_calls()) == before


def test_dummy_device_keeps_the_rendered_image():
    device = dummy(width=128, height=64, mode="1")
    screen = OLEDScreen(device)
    screen.show(ALERT)
    assert device.image.tobytes() == render(ALERT).tobytes()


def test_contrast_from_the_url_is_sent_at_open(recording_serial):
    open_ssd1306(recording_serial, query="?contrast=100")
    assert (SETCONTRAST, 100) in recording_serial.commands()


def test_idle_screen_dims_then_blanks_and_wakes_on_change(recording_serial, clock):
    screen = open_ssd1306(recording_serial, clock, "?dim_after=60&blank_after=600")
    screen.show(IDLE)
    recording_serial.calls.clear()
    clock.advance(59)
    screen.tick()
    assert recording_serial.calls == [] and not screen.dimmed
    clock.advance(1)
    screen.tick()
    assert recording_serial.commands() == [(SETCONTRAST, DIM_CONTRAST)] and screen.dimmed
    clock.advance(540)
    screen.show(IDLE)  # the same model again also applies the idle rule
    assert recording_serial.commands()[-1] == (DISPLAYOFF,) and screen.blanked
    recording_serial.calls.clear()
    screen.show(AUTHENTIC)
    commands = recording_serial.commands()
    assert (DISPLAYON,) in commands and (SETCONTRAST, 0xCF) in commands
    assert len(recording_serial.data_calls()) == 1
    assert not screen.dimmed and not screen.blanked


def test_a_verdict_is_dimmed_but_never_blanked(recording_serial, clock):
    screen = open_ssd1306(recording_serial, clock)
    screen.show(ALERT)
    clock.advance(10_000)
    screen.tick()
    screen.tick()
    assert screen.dimmed and not screen.blanked
    assert (DISPLAYOFF,) not in recording_serial.commands()


def test_missing_oled_is_a_device_error_naming_the_url():
    with pytest.raises(DeviceError, match=r"ssd1306://i2c/250/0x3c.*on i2c/250/0x3c"):
        open_screen("ssd1306://i2c/250/0x3c")


def test_a_display_that_dies_later_is_logged_once_and_the_terminal_goes_on(recording_serial, caplog):
    screen = open_ssd1306(recording_serial)
    recording_serial.fail_with = OSError(121, "Remote I/O error")
    with caplog.at_level(logging.WARNING, logger="fmd_terminal.screens.oled"):
        screen.show(AUTHENTIC)
        screen.show(IDLE)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "stopped answering" in warnings[0] and "Remote I/O error" in warnings[0]
    recording_serial.fail_with = None
    screen.show(IDLE)  # retried once the panel answers again
    assert len(recording_serial.data_calls()) == 2  # the clear at init, then this frame
    assert ssd1306_frame_to_image(recording_serial.data_calls()[-1]).tobytes() == render(IDLE).tobytes()


def test_close_blanks_and_releases_the_bus(recording_serial):
    screen = open_ssd1306(recording_serial)
    screen.show(IDLE)
    screen.close()
    assert recording_serial.cleaned_up and (DISPLAYOFF,) in recording_serial.commands()


def test_the_idle_thread_stops_on_close(recording_serial):
    screen = open_screen("ssd1306://i2c/1/0x3c", serial_interface=recording_serial, tick_every_s=30)
    thread = screen._ticker
    assert thread is not None and thread.is_alive()
    screen.close()
    assert not thread.is_alive()


@pytest.mark.parametrize(
    "url",
    [
        "ssd1306://spi/0/0",
        "ssd1306://i2c/1/0x99",
        "ssd1306://i2c/1/0x3c/9",
        "ssd1306://i2c/x/0x3c",
        "ssd1306://i2c/1/0x3c?speed=400",
        "sh1106://i2c/1/0x3c?offset=9",
        "sh1106://i2c/1/0x3c?rotate=4",
        "ssd1306://i2c/1/0x3c?dim_after=soon",
    ],
)
def test_bad_oled_urls_are_config_errors(url, recording_serial):
    with pytest.raises(ConfigError, match="screen URL"):
        open_screen(url, serial_interface=recording_serial, tick_every_s=None)
