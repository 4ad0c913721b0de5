"""The GPIO indicators against gpiozero's mock pin histories (``MockFactory``, ``assert_states``)."""

from __future__ import annotations

import logging
import os

import pytest
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin
from indicator_fakes import InstantWait

from fmd_core import feedback
from fmd_core.errors import CoreError
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.indicators.factory import open_indicators
from fmd_terminal.indicators.gpio import GPIOIndicators

PINS = {"green": 17, "amber": 27, "red": 22, "buzzer": 18}
ON_A_PI = pytest.mark.skipif(os.environ.get("FMD_HARDWARE") == "1", reason="GPIO is present on this machine")


def played(indicators, light):
    indicators.signal(light)
    assert indicators.join(timeout=10)


def states(indicators, output):
    return [s.state for s in indicators.pin_factory.pin(PINS[output]).states]


def led_states(on_count, active_high=True, held=False):
    """The pin history of an LED lit ``on_count`` times (a mock pin starts low, then is set to "off")."""
    off, on = (False, True) if active_high else (True, False)
    start = [False] if active_high else [False, True]
    return start + [on, off] * on_count + ([on] if held else [])


@pytest.mark.parametrize("active_high", [True, False])
def test_green_one_short_beep_and_two_seconds_of_green(active_high, instant_wait):
    query = "" if active_high else "&active_high=0&buzzer_active_high=1"
    indicators = open_indicators(f"gpio://?pin_factory=mock{query}", wait=instant_wait)
    played(indicators, "green")
    indicators.pin_factory.pin(17).assert_states(led_states(1, active_high))
    indicators.pin_factory.pin(18).assert_states([False, True, False])
    indicators.pin_factory.pin(27).assert_states(led_states(0, active_high))
    indicators.pin_factory.pin(22).assert_states(led_states(0, active_high))
    assert instant_wait.waits == [0.08, 1.92]


@pytest.mark.parametrize("active_high", [True, False])
def test_amber_blinks_and_beeps_twice(active_high, instant_wait):
    query = "" if active_high else "&active_high=0"
    indicators = open_indicators(f"gpio://?pin_factory=mock{query}", wait=instant_wait)
    played(indicators, "amber")
    indicators.pin_factory.pin(27).assert_states(led_states(6, active_high))
    indicators.pin_factory.pin(18).assert_states(led_states(2, active_high))  # the buzzer follows active_high
    assert sum(instant_wait.waits) == pytest.approx(feedback.duration_ms("amber") / 1000)


def test_red_beeps_three_long_times_and_stays_on_until_the_next_signal(instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock", wait=instant_wait)
    played(indicators, "red")
    indicators.pin_factory.pin(22).assert_states([False, True])
    indicators.pin_factory.pin(18).assert_states([False] + [True, False] * 3)
    assert instant_wait.waits == [0.4, 0.15, 0.4, 0.15, 0.4]
    played(indicators, "green")
    indicators.pin_factory.pin(22).assert_states([False, True, False])  # red off before green
    indicators.pin_factory.pin(17).assert_states([False, True, False])


def test_none_turns_everything_off(instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock", wait=instant_wait)
    played(indicators, "red")
    indicators.signal(None)
    assert all(states(indicators, output)[-1] is False for output in PINS)
    assert indicators.current is None


@pytest.mark.parametrize("event", feedback.EVENTS)
def test_neutral_events_never_light_an_led(event, instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock", wait=instant_wait)
    played(indicators, event)
    for light in feedback.LIGHTS:
        assert True not in states(indicators, light)
    beep = feedback.pattern_for(event).beep
    assert states(indicators, "buzzer").count(True) == (beep.count if beep else 0)


def test_a_new_signal_cancels_the_one_playing():
    seen = []
    indicators = open_indicators("gpio://?pin_factory=mock", wait=lambda stop, s: seen.append(s) or True)
    played(indicators, "amber")  # the wait reports "cancelled" at once
    indicators.pin_factory.pin(27).assert_states([False, True, False])  # on, then off by the cancel
    assert seen == [0.12]


def test_tonal_buzzer_plays_each_pattern_at_its_pitch():
    factory = MockFactory(pin_class=MockPWMPin)
    frequencies = []
    pin = factory.pin(18)
    wait = InstantWait(on_wait=lambda: frequencies.append(pin.frequency if pin.state else None))
    indicators = GPIOIndicators(pin_factory=factory, tonal=True, wait=wait)
    played(indicators, "red")
    assert [f for f in frequencies if f][:1] == [pytest.approx(220)]
    assert pin.state == 0
    frequencies.clear()
    played(indicators, "green")
    assert frequencies[0] == pytest.approx(880)


def test_buzzer_none_leaves_the_buzzer_out(instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock&buzzer=none&green=5", wait=instant_wait)
    played(indicators, "green")
    assert "buzzer" not in indicators.outputs
    indicators.pin_factory.pin(5).assert_states([False, True, False])


def test_unknown_signal_raises_core_error(instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock", wait=instant_wait)
    with pytest.raises(CoreError):
        indicators.signal("blue")


def test_close_turns_off_and_releases_the_pins(instant_wait):
    indicators = open_indicators("gpio://?pin_factory=mock", wait=instant_wait)
    factory = indicators.pin_factory
    played(indicators, "red")
    indicators.close()
    assert factory.pin(22).state is False
    assert all(device.closed for device in indicators.outputs.values())
    GPIOIndicators(pin_factory=factory, wait=instant_wait).close()  # the pins are free again


def test_pins_already_in_use_are_a_device_error(instant_wait):
    factory = MockFactory()
    first = GPIOIndicators(pin_factory=factory, wait=instant_wait)
    with pytest.raises(DeviceError, match="cannot be used"):
        GPIOIndicators(pin_factory=factory, wait=instant_wait)
    played(first, "green")  # the first one still owns its pins
    factory.pin(17).assert_states([False, True, False])


class FailingPin(MockPin):
    def _set_state(self, value):
        raise OSError(5, "Input/output error")


def test_a_pin_that_fails_later_is_logged_once_and_the_terminal_goes_on(caplog, instant_wait):
    indicators = GPIOIndicators(pin_factory=MockFactory(pin_class=MockPin), wait=instant_wait)
    indicators.outputs["green"].pin.__class__ = FailingPin
    with caplog.at_level(logging.WARNING, logger="fmd_terminal.indicators.gpio"):
        played(indicators, "green")
        played(indicators, "green")
    assert len(caplog.records) == 1 and "green" in caplog.records[0].getMessage()
    assert indicators.pin_factory.pin(18).state is False


@ON_A_PI
@pytest.mark.parametrize("name", ["lgpio", "rpigpio", "native"])
def test_missing_gpio_is_a_device_error_at_open(name):
    with pytest.raises(DeviceError, match=f"pin factory '{name}' cannot start here"):
        open_indicators(f"gpio://?pin_factory={name}")


@pytest.mark.parametrize(
    "query",
    [
        "pin_factory=bogus",
        "pin_factory=mock&green=99",
        "pin_factory=mock&green=x",
        "pin_factory=mock&red=17",
        "pin_factory=mock&active_high=maybe",
        "pin_factory=mock&colour=blue",
    ],
)
def test_bad_gpio_urls_are_config_errors(query):
    with pytest.raises(ConfigError):
        open_indicators(f"gpio://?{query}")


def test_the_default_pin_factory_comes_from_the_environment(instant_wait):
    indicators = open_indicators("gpio://", wait=instant_wait)  # GPIOZERO_PIN_FACTORY=mock here
    assert isinstance(indicators.pin_factory, MockFactory)
    assert {name: device.pin.info.name for name, device in indicators.outputs.items()} == {
        "green": "GPIO17",
        "amber": "GPIO27",
        "red": "GPIO22",
        "buzzer": "GPIO18",
    }
