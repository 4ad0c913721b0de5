"""The optional mode button on gpiozero's mock pins."""

from __future__ import annotations

import pytest

from fmd_terminal.errors import ConfigError
from fmd_terminal.indicators.button import open_mode_button


def test_a_press_to_ground_calls_back_once_per_press():
    presses = []
    button = open_mode_button("gpio://?pin=23&pin_factory=mock&bounce_ms=0", lambda: presses.append("next"))
    pin = button.pin_factory.pin(23)
    assert presses == []  # the pull-up keeps it released
    pin.drive_low()
    pin.drive_high()
    pin.drive_low()
    assert presses == ["next", "next"] and button.presses == 2
    button.close()


def test_the_debounce_time_reaches_the_pin():
    # gpiozero's mock pins keep the bounce setting but do not emulate bouncing contacts.
    button = open_mode_button("gpio://?pin=24&pin_factory=mock&bounce_ms=80", lambda: None)
    assert button.pin_factory.pin(24).bounce == pytest.approx(0.08)
    assert (
        open_mode_button("gpio://?pin=25&pin_factory=mock", lambda: None).pin_factory.pin(25).bounce == 0.05
    )


def test_pull_down_wiring_presses_on_high():
    presses = []
    button = open_mode_button(
        "gpio://?pin=5&pull_up=0&pin_factory=mock&bounce_ms=0", lambda: presses.append(1)
    )
    pin = button.pin_factory.pin(5)
    pin.drive_high()
    assert presses == [1]


@pytest.mark.parametrize(
    "url",
    [
        "serial://?pin=23",
        "gpio://?pin=99&pin_factory=mock",
        "gpio://?pin=x",
        "gpio://?pull_up=2",
        "gpio://?led=1",
    ],
)
def test_bad_button_urls(url):
    with pytest.raises(ConfigError):
        open_mode_button(url, lambda: None)
