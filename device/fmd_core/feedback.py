"""What the LEDs and the buzzer do for each verdict light and neutral event, as plain data.

SCANNERS-AND-HARDWARE.md section 5: "Feedback patterns (colour, beep count and timing per verdict)
are data in the core; the GPIO adapter only plays them." VERIFICATION-SERVICE.md section 10 maps
every outcome to green, amber or red; each light gets a pattern that can be told apart by ear
alone (a pharmacist looking at the pack, not at the box):

- green: one short high beep, green LED on for 2 s;
- amber: two beeps, amber LED blinking for 3 s;
- red: three long low beeps, red LED on until the next signal (supply is blocked, Art. 30, 36).

Neutral events never light a verdict LED, so nothing on the box looks like a verdict that was
not given ("never green for something not verified"):

- ready: one short chirp at start-up; working: silence (the screen shows the wait);
- mode_changed: two very short chirps; fault: four short fast beeps (a device or storage fault).

``timeline(name)`` turns a pattern into a list of ``(at_ms, output, on)`` steps that an adapter
plays in order; ``on_ms=None`` on an LED means "stay on until the next signal".
Portable: plain classes and tuples only (ARCHITECTURE.md, "The portable core's rules").
"""

from fmd_core.errors import ConfigurationError

LEDS = ("green", "amber", "red")
BUZZER = "buzzer"


class Blink:
    """An on/off pattern for one output: ``count`` times ``on_ms`` on then ``off_ms`` off.

    ``on_ms=None`` holds the output on until the next signal (``count`` is then 1).
    ``tone_hz`` is the pitch for a passive piezo (TonalBuzzer); an active buzzer ignores it.
    """

    __slots__ = ("on_ms", "off_ms", "count", "tone_hz")

    def __init__(self, on_ms, off_ms=0, count=1, tone_hz=None):
        self.on_ms = on_ms
        self.off_ms = off_ms
        self.count = count
        self.tone_hz = tone_hz

    def __eq__(self, other):
        return isinstance(other, Blink) and self.as_tuple() == other.as_tuple()

    def as_tuple(self):
        return (self.on_ms, self.off_ms, self.count, self.tone_hz)

    def __repr__(self):
        return "Blink(on_ms=%r, off_ms=%r, count=%r, tone_hz=%r)" % self.as_tuple()


class Pattern:
    """The feedback for one light or event: which LED blinks how, and how the buzzer beeps.

    led: "green", "amber", "red" or None; led_blink / beep: ``Blink`` or None.
    """

    __slots__ = ("name", "led", "led_blink", "beep")

    def __init__(self, name, led=None, led_blink=None, beep=None):
        self.name = name
        self.led = led
        self.led_blink = led_blink
        self.beep = beep

    def __repr__(self):
        return "Pattern(%r, led=%r, led_blink=%r, beep=%r)" % (self.name, self.led, self.led_blink, self.beep)


# Pitches fit gpiozero's TonalBuzzer default range (A4 +/- one octave: 220-880 Hz).
PATTERNS = {
    "green": Pattern("green", "green", Blink(2000), Blink(80, 0, 1, 880)),
    "amber": Pattern("amber", "amber", Blink(250, 250, 6), Blink(120, 120, 2, 660)),
    "red": Pattern("red", "red", Blink(None), Blink(400, 150, 3, 220)),
    "ready": Pattern("ready", None, None, Blink(40, 0, 1, 880)),
    "working": Pattern("working"),
    "mode_changed": Pattern("mode_changed", None, None, Blink(30, 60, 2, 880)),
    "fault": Pattern("fault", None, None, Blink(60, 60, 4, 440)),
}

LIGHTS = LEDS
EVENTS = ("ready", "working", "mode_changed", "fault")


def pattern_for(name):
    """Return the ``Pattern`` for a light or neutral event; raise ``ConfigurationError`` if unknown."""
    pattern = PATTERNS.get(name)
    if pattern is None:
        raise ConfigurationError(
            "unknown feedback %r: expected one of %s" % (name, ", ".join(sorted(PATTERNS)))
        )
    return pattern


def _steps(output, blink):
    steps = []
    if blink is None:
        return steps
    if blink.on_ms is None:
        steps.append((0, output, True))
        return steps
    at = 0
    for _ in range(blink.count):
        steps.append((at, output, True))
        at += blink.on_ms
        steps.append((at, output, False))
        at += blink.off_ms
    return steps


def timeline(name):
    """The steps ``(at_ms, output, on)`` that play ``name``, sorted by time (LED before buzzer).

    ``output`` is an LED colour or ``"buzzer"``. An output left on at the end (a held LED) stays
    on until the next signal; everything else ends off.
    """
    pattern = pattern_for(name)
    steps = _steps(pattern.led, pattern.led_blink) + _steps(BUZZER, pattern.beep)
    steps.sort(key=lambda step: (step[0], step[1] == BUZZER))
    return steps


def duration_ms(name):
    """How long ``name`` takes to play to its last step (a held LED counts as 0 ms)."""
    steps = timeline(name)
    return steps[-1][0] if steps else 0
