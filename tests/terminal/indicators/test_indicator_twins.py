"""recording://, none:// and the indicators factory."""

from __future__ import annotations

import pytest

from fmd_core import feedback
from fmd_core.errors import CoreError
from fmd_terminal.errors import ConfigError, UnknownSchemeError
from fmd_terminal.indicators.factory import open_indicators
from fmd_terminal.indicators.recording import NoIndicators, RecordingIndicators


def test_recording_keeps_every_signal_with_its_pattern():
    indicators = open_indicators("recording://")
    assert isinstance(indicators, RecordingIndicators) and indicators.last is None
    for name in ("working", "red", None, "green", "fault"):
        indicators.signal(name)
    assert indicators.signals == ["working", "red", None, "green", "fault"]
    assert indicators.lights == ["red", "green"]
    assert indicators.patterns[1] is feedback.PATTERNS["red"] and indicators.patterns[2] is None
    assert indicators.last == "fault"
    indicators.close()
    assert indicators.closed


def test_twins_reject_unknown_signals_like_the_gpio_adapter():
    for url in ("recording://", "none://"):
        indicators = open_indicators(url)
        with pytest.raises(CoreError):
            indicators.signal("blue")
    recording = open_indicators("recording://")
    with pytest.raises(CoreError):
        recording.signal("gren")
    assert recording.signals == []


def test_none_accepts_every_known_signal():
    indicators = open_indicators("none://")
    assert isinstance(indicators, NoIndicators)
    for name in (*feedback.PATTERNS, None):
        indicators.signal(name)
    indicators.close()


def test_factory_names_the_known_schemes_and_rejects_options():
    with pytest.raises(UnknownSchemeError, match=r"'pwm://'.*gpio://, none://, recording://"):
        open_indicators("pwm://")
    with pytest.raises(ConfigError):
        open_indicators("none://?green=1")


def test_missing_gpio_falls_back_to_none_and_says_why(caplog, monkeypatch):
    from fmd_terminal.indicators.factory import open_indicators_or_fallback

    with caplog.at_level("WARNING", logger="fmd_terminal.indicators.factory"):
        indicators = open_indicators_or_fallback("gpio://?pin_factory=native")
    assert isinstance(indicators, NoIndicators)
    assert "'native' cannot start here" in caplog.text and "using none://" in caplog.text
    with pytest.raises(ConfigError):
        open_indicators_or_fallback("gpio://?pin_factory=bogus")
