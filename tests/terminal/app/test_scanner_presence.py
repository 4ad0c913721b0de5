"""No "ready" without a scanner (issue 12): the idle screen says what is missing and the terminal keeps
looking; once the scanner is there, "ready". The scanner is a real evdev source whose device path
is missing, then present (``open_device`` is a double: there is no input device in CI)."""

import os

import pytest
from test_terminal_twins import FakeClock

from fmd_core.flow import Flow
from fmd_terminal.app import QUEUE_REFRESH_MS, Terminal
from fmd_terminal.i18n import Translator
from fmd_terminal.indicators.recording import RecordingIndicators
from fmd_terminal.journal import Journal
from fmd_terminal.outbox.memory import MemoryOutbox
from fmd_terminal.presenter import Presenter
from fmd_terminal.scanners.evdev_keyboard import EvdevScanSource
from fmd_terminal.screens.recording import RecordingScreen


class Device:
    """An input device double that opens, grabs and has nothing to read (its fd: a pipe's quiet end)."""

    def __init__(self):
        self.fd, self._writer = os.pipe()

    def grab(self):
        pass

    def ungrab(self):
        pass

    def close(self):
        os.close(self.fd)
        os.close(self._writer)

    def set_led(self, led, value):
        pass

    def read(self):
        raise BlockingIOError


class Worker:
    def submit_live(self, op, deadline_s):
        return None

    def take_resolutions(self):
        return []


@pytest.mark.parametrize("lang, ready, plug", [("fr", "Prêt – scannez une boîte", "Brancher le lecteur"),
                                                ("en", "Ready – scan a pack", "Plug the scanner in")])
def test_idle_screen_names_the_missing_scanner_until_it_is_plugged_in(tmp_path, lang, ready, plug):
    device_path = tmp_path / "fmd-scanner"
    scanner = EvdevScanSource(str(device_path), open_device=lambda path: Device(), reconnect_s=0.05).start()
    screen = RecordingScreen(keep_images=False)
    indicators = RecordingIndicators()
    clock = FakeClock()
    presenter = Presenter(Translator(lang))
    terminal = Terminal(flow=Flow(result_hold_ms=100), scanner=scanner, screen=screen, indicators=indicators,
                        outbox=MemoryOutbox(), worker=Worker(), presenter=presenter, journal=Journal(""),
                        clock=clock)
    try:
        terminal.start()
        assert screen.models[-1].headline == presenter.t("scanner_fault")
        assert plug in screen.models[-1].lines
        for _ in range(10):  # the hold time passes many times: still no "ready"
            terminal.step(0.01)
            clock.ms += QUEUE_REFRESH_MS
        assert all(model.headline != ready for model in screen.models), [m.headline for m in screen.models]
        device_path.write_text("")  # plugged in
        for _ in range(100):
            terminal.step(0.01)
            clock.ms += QUEUE_REFRESH_MS
            if screen.models[-1].headline == ready:
                break
        assert screen.models[-1].headline == ready
        # the start and the adapter's own fault event beep; the idle screens after each hold stay silent
        assert indicators.signals.count("fault") == 2, indicators.signals
    finally:
        scanner.close()
