"""fmd_core.feedback: a distinct LED and buzzer pattern per light (SCANNERS-AND-HARDWARE.md s. 5)."""

from __future__ import annotations

import pytest

from fmd_core import feedback
from fmd_core.errors import ConfigurationError


def test_each_light_has_its_own_led_and_a_beep_pattern_told_apart_by_ear():
    beeps = {light: feedback.pattern_for(light).beep for light in feedback.LIGHTS}
    assert [feedback.pattern_for(light).led for light in feedback.LIGHTS] == ["green", "amber", "red"]
    assert len({b.as_tuple() for b in beeps.values()}) == 3
    assert [beeps[light].count for light in ("green", "amber", "red")] == [1, 2, 3]
    assert beeps["red"].on_ms > beeps["amber"].on_ms > beeps["green"].on_ms


def test_green_lights_two_seconds_amber_blinks_red_holds():
    assert feedback.timeline("green")[:1] == [(0, "green", True)]
    assert (2000, "green", False) in feedback.timeline("green")
    amber = [step for step in feedback.timeline("amber") if step[1] == "amber"]
    assert [on for _, _, on in amber] == [True, False] * 6
    red = [step for step in feedback.timeline("red") if step[1] == "red"]
    assert red == [(0, "red", True)]  # on until the next signal


@pytest.mark.parametrize("event", feedback.EVENTS)
def test_neutral_events_never_light_a_verdict_led(event):
    assert all(output == feedback.BUZZER for _, output, _ in feedback.timeline(event))


def test_timeline_is_sorted_and_ends_with_everything_off_but_a_held_led():
    for name in feedback.PATTERNS:
        steps = feedback.timeline(name)
        assert [at for at, _, _ in steps] == sorted(at for at, _, _ in steps)
        final = {}
        for _, output, on in steps:
            final[output] = on
        held = {output for output, on in final.items() if on}
        assert held == ({"red"} if name == "red" else set())


def test_durations():
    assert feedback.duration_ms("green") == 2000
    assert feedback.duration_ms("amber") == 6 * 250 + 5 * 250
    assert feedback.duration_ms("red") == 3 * 400 + 2 * 150
    assert feedback.duration_ms("working") == 0


def test_unknown_feedback_names_the_known_ones():
    with pytest.raises(ConfigurationError, match=r"'blue'.*amber, fault, green"):
        feedback.pattern_for("blue")
