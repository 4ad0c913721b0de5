"""What the web console asks of the running terminal (issue 15), through the terminal ``app.build`` makes:
the language chosen on the settings page becomes the screen's at the loop's next turn."""

import contextlib

import pytest

from fmd_terminal.app import build
from fmd_terminal.config import Config
from fmd_terminal.i18n import Translator
from fmd_terminal.scanners.script import ScriptedScanSource


@pytest.fixture
def terminal():
    config = Config(scanner="script:///dev/null", screen="recording://?render=0", indicators="recording://",
                    service="scripted://offline", outbox="memory://", lang="fr")
    with contextlib.ExitStack() as stack:
        built = build(config, stack, scanner=ScriptedScanSource([]))
        built.start()
        yield built


def test_a_language_asked_by_the_console_redraws_the_screen_in_it_without_a_signal(terminal):
    assert terminal.screen.last.headline == Translator("fr")("ready")
    signals = len(terminal.indicators.signals)
    terminal.request_language("de")
    terminal.step(0.01)
    german = Translator("de")
    assert terminal.screen.last.headline == german("ready") and terminal.screen.last.mode == german("mode.dispense")
    assert len(terminal.indicators.signals) == signals  # a language change neither lights nor beeps
    terminal.request_language("en")
    terminal.request_mode("verify")
    terminal.step(0.01)
    english = Translator("en")
    assert (terminal.screen.last.headline, terminal.screen.last.mode) == (english("mode_switched"),
                                                                          english("mode.verify"))
