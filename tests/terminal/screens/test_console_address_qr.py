"""The web console's address as a QR code (issue 15, ``FMD-MODE-ADMIN``): drawn on the OLED by luma.oled
and printed on the console screen, each decoded back to the URL with zxing-cpp; the screen when the
console is off; and the terminal ``app.build`` makes, scanning the admin code."""

import contextlib
import io

import pytest
import zxingcpp
from luma.core.device import dummy
from PIL import Image

from fmd_core.flow import Notice
from fmd_terminal.app import build
from fmd_terminal.config import Config
from fmd_terminal.i18n import Translator
from fmd_terminal.presenter import Presenter
from fmd_terminal.scanners import SCAN, ScanEvent
from fmd_terminal.scanners.script import ScriptedScanSource
from fmd_terminal.screens.console import ConsoleScreen
from fmd_terminal.screens.oled import OLEDScreen
from fmd_terminal.screens.qr import matrix
from fmd_terminal.screens.render import render

URLS = ["http://127.0.0.1:8470/", "https://192.168.1.20:8470/", "https://192.168.100.200:8470/",
        "https://[fd00::1234:5678:9abc]:8470/"]


def decoded(image: Image.Image, scale: int = 4) -> list[str]:
    """The QR codes zxing-cpp reads in ``image``, enlarged as a phone's camera would see the panel."""
    large = image.convert("L").resize((image.width * scale, image.height * scale), Image.NEAREST)
    return [result.text for result in zxingcpp.read_barcodes(large, formats=zxingcpp.BarcodeFormat.QRCode)]


def address_screen(url: str, lang: str = "fr"):
    presenter = Presenter(Translator(lang))
    presenter.console_address = url
    return presenter.notice(Notice("console_address", "dispense"))


@pytest.mark.parametrize("url", URLS)
def test_the_oled_shows_a_qr_code_that_reads_back_to_the_console_address(url):
    model = address_screen(url)
    assert model.qr == url and list(model.lines) == [url] and model.headline == "Console"
    device = dummy(width=128, height=64, mode="1")
    OLEDScreen(device).show(model)  # drawn through luma.oled
    assert decoded(device.image) == [url]
    modules = matrix(url)
    assert (len(modules) + 2) * 2 <= 64  # version 2 or 3: 2 pixels per module on a 64-pixel panel
    right = device.image.crop(((len(modules) + 2) * 2 + 2, 0, 128, 64))
    assert right.getbbox() is not None  # the headline and the URL are written beside the code


def test_the_console_screen_prints_the_url_and_a_text_qr_code_that_reads_back():
    url = "https://192.168.1.20:8470/"
    out = io.StringIO()
    ConsoleScreen(out, color=False).show(address_screen(url, "en"))
    text = out.getvalue()
    assert "Console" in text and url in text
    rows = [line for line in text.splitlines() if line and set(line) <= set("█▀▄ ")]
    # the half blocks back to pixels (a light module is a drawn block, as on a dark terminal)
    image = Image.new("L", (len(rows[0]), 2 * len(rows)), 0)
    for y, row in enumerate(rows):
        for x, char in enumerate(row):
            image.putpixel((x, 2 * y), 255 if char in "█▀" else 0)
            image.putpixel((x, 2 * y + 1), 255 if char in "█▄" else 0)
    assert decoded(image, 6) == [url]


@pytest.mark.parametrize("lang, headline, how", [
    ("fr", "Console arrêtée", "Configurer [console]"),
    ("en", "Console off", "Set up [console]"),
    ("de", "Konsole aus", "[console] einrichten")])
def test_a_console_that_is_off_says_so_and_how_to_turn_it_on(lang, headline, how):
    model = address_screen("", lang)
    assert (model.headline, list(model.lines), model.qr) == (headline, [how], "")
    image = render(model)
    assert len(how) <= 21 and decoded(image) == []  # one OLED line


def test_the_admin_code_on_a_terminal_without_console_keeps_the_mode_and_the_next_scan():
    """Through the terminal ``app.build`` makes (``run`` without ``[console]``): the admin code shows
    that the console is off, the mode stays, and the next scan is taken at once."""
    config = Config(scanner="script:///dev/null", screen="recording://", indicators="recording://",
                    service="scripted://offline", outbox="memory://", mode="verify", lang="en")
    events = [ScanEvent(SCAN, "]C0FMD-MODE-ADMIN"), ScanEvent(SCAN, "]C0FMD-MODE-ADMIN"), ScanEvent(SCAN, "nonsense")]
    with contextlib.ExitStack() as stack:
        terminal = build(config, stack, scanner=ScriptedScanSource(events))
        terminal.start()
        terminal.step(0.01)
        shown = terminal.screen.last
        assert (shown.headline, shown.mode) == ("Console off", Translator("en")("mode.verify"))
        terminal.presenter.console_address = "https://192.168.1.20:8470/"  # as ``run`` sets it once listening
        terminal.step(0.01)
        assert decoded(terminal.screen.images[-1]) == ["https://192.168.1.20:8470/"]
        terminal.step(0.01)
        assert terminal.flow.mode == "verify" and terminal.screen.last.light == "amber"  # the next scan's verdict
