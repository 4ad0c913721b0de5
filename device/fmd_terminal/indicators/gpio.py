"""LEDs and buzzer on GPIO through gpiozero (SCANNERS-AND-HARDWARE.md section 5).

    gpio://?green=17&amber=27&red=22&buzzer=18&active_high=1&pin_factory=lgpio

- Pins are BCM numbers (defaults: green 17, amber 27, red 22, buzzer 18; GPIO 2/3 stay free for
  the OLED's I2C). ``buzzer=none`` leaves the buzzer out.
- ``active_high=0`` is for LEDs wired to sink current (pin low = lit); ``buzzer_active_high``
  overrides it for the buzzer (default: the same as ``active_high``).
- ``tonal=1`` drives a passive piezo with ``TonalBuzzer`` at each pattern's ``tone_hz``; the
  default drives an active buzzer (``Buzzer``) on and off.
- ``pin_factory`` names gpiozero's factory: ``lgpio`` (the default unless ``GPIOZERO_PIN_FACTORY``
  says otherwise; every Pi from the Zero 2 W to the 5, on the header's chip found from the board:
  ``fmd_terminal.indicators.board``), ``rpigpio`` (not on a Pi 5) (the RPi.GPIO API, or rpi-lgpio's copy of it), ``pigpio``,
  ``native`` or ``mock`` (gpiozero's mock pins: the twin used in tests). Each adapter gets its
  own factory; nothing global is set.

The patterns are ``fmd_core.feedback`` data; a small player thread plays a pattern's timeline so
``signal`` returns at once. A new signal cancels the one playing (all outputs off first). Waiting
goes through an injected ``wait(stop_event, seconds)``, so tests play a pattern without sleeping
and still check the pin history step by step.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl

from fmd_core import feedback
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.indicators.board import find_board

log = logging.getLogger(__name__)

DEFAULT_PINS = {"green": 17, "amber": 27, "red": 22, "buzzer": 18}
FACTORY_NAMES = ("lgpio", "rpigpio", "pigpio", "native", "mock")


def gpio_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "no usable GPIO here" (gpiozero's, the libraries', the OS's)."""
    from gpiozero.exc import GPIOZeroError

    errors: list[type[BaseException]] = [ImportError, OSError, RuntimeError, GPIOZeroError]
    try:
        import lgpio

        if isinstance(getattr(lgpio, "error", None), type):
            errors.append(lgpio.error)
    except ImportError:
        pass
    return tuple(errors)


def load_pin_factory(name: str, root: Path = Path("/")) -> Any:
    """Build gpiozero's pin factory called ``name`` (its ``gpiozero_pin_factories`` entry point).

    ``lgpio`` opens the GPIO chip of the board's header, found from the board (``board.find_board``),
    never a fixed chip number (gpiozero issue 1166: the Pi 5's chip moved from 4 to 0).
    """
    from importlib.metadata import entry_points

    if name not in FACTORY_NAMES:
        raise ConfigError.text("pin_factory_unknown", name=repr(name), known=", ".join(FACTORY_NAMES))
    for entry in entry_points(group="gpiozero_pin_factories"):
        if entry.name == name:
            try:
                if name != "lgpio":
                    return entry.load()()
                board = find_board(root)
                if board is None:
                    raise OSError("this is not a Raspberry Pi (its device tree names no Pi SoC)")
                log.info("%s: header GPIO on gpiochip%d (%s)", board.model, board.chip, board.label)
                return entry.load()(chip=board.chip)
            except gpio_errors() as exc:
                raise DeviceError.text("pin_factory_start", name=repr(name), why=exc) from exc
    raise DeviceError.text("pin_factory_missing", name=repr(name))


def _wait_on_event(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


class GPIOIndicators:
    """Green, amber and red ``LED`` and a ``Buzzer``/``TonalBuzzer`` playing ``fmd_core.feedback``."""

    def __init__(
        self,
        *,
        pins: dict[str, int | None] | None = None,
        active_high: bool = True,
        buzzer_active_high: bool | None = None,
        tonal: bool = False,
        pin_factory: Any = None,
        wait: Callable[[threading.Event, float], bool] = _wait_on_event,
    ):
        from gpiozero import LED, Buzzer, TonalBuzzer

        pins = dict(DEFAULT_PINS if pins is None else pins)
        self.pin_factory = pin_factory
        self._wait = wait
        self._tonal = tonal
        self._errors = gpio_errors()
        self.outputs: dict[str, Any] = {}
        try:
            for light in feedback.LEDS:
                self.outputs[light] = LED(
                    pins[light], active_high=active_high, initial_value=False, pin_factory=pin_factory
                )
            if pins.get("buzzer") is not None:
                if tonal:
                    self.outputs["buzzer"] = TonalBuzzer(pins["buzzer"], pin_factory=pin_factory)
                else:
                    self.outputs["buzzer"] = Buzzer(
                        pins["buzzer"],
                        active_high=active_high if buzzer_active_high is None else buzzer_active_high,
                        initial_value=False,
                        pin_factory=pin_factory,
                    )
        except self._errors as exc:
            self._close_outputs()
            raise DeviceError.text("pins_unusable", pins=pins, why=exc) from exc
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._player: threading.Thread | None = None
        self._failed = False
        self.current: str | None = None

    def signal(self, light: str | None) -> None:
        """Play the pattern of ``light`` or neutral event (``fmd_core.feedback``); None turns all off."""
        steps = feedback.timeline(light) if light is not None else []
        tone = None
        if light is not None and self._tonal:
            beep = feedback.pattern_for(light).beep
            tone = beep.tone_hz if beep is not None else None
        with self._lock:
            self._cancel()
            self._all_off()
            self.current = light
            if steps:
                self._stop = threading.Event()
                self._player = threading.Thread(
                    target=self._play, args=(steps, tone, self._stop), name=f"feedback-{light}", daemon=True
                )
                self._player.start()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the pattern playing now has finished; True when it has."""
        player = self._player
        if player is not None:
            player.join(timeout)
            return not player.is_alive()
        return True

    def close(self) -> None:
        """Stop the pattern, turn everything off and release the pins."""
        with self._lock:
            self._cancel()
            self._all_off()
            self._close_outputs()

    def _cancel(self) -> None:
        self._stop.set()
        if self._player is not None:
            self._player.join()
            self._player = None

    def _play(self, steps: list[tuple[int, str, bool]], tone: float | None, stop: threading.Event) -> None:
        at_ms = 0
        for step_ms, output, on in steps:
            if step_ms > at_ms and self._wait(stop, (step_ms - at_ms) / 1000.0):
                return
            if stop.is_set():
                return
            at_ms = step_ms
            self._set(output, on, tone)

    def _set(self, output: str, on: bool, tone: float | None = None) -> None:
        device = self.outputs.get(output)
        if device is None:
            return
        try:
            if output == "buzzer" and self._tonal:
                if on and tone:
                    from gpiozero.tones import Tone

                    device.play(Tone.from_frequency(tone))
                else:
                    device.stop()
            elif on:
                device.on()
            else:
                device.off()
        except self._errors as exc:
            if not self._failed:
                log.warning("indicator %s on GPIO stopped working (%s); the terminal goes on", output, exc)
            self._failed = True

    def _all_off(self) -> None:
        for output in self.outputs:
            self._set(output, False)

    def _close_outputs(self) -> None:
        for device in self.outputs.values():
            device.close()


def _flag(url: str, key: str, text: str) -> bool:
    if text not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError.text("indicators_flag", url=repr(url), key=key, value=repr(text))
    return text in ("1", "true", "yes")


def _pin(url: str, key: str, text: str) -> int | None:
    if key == "buzzer" and text.lower() in ("", "none"):
        return None
    if not text.isdigit() or not 0 <= int(text) <= 53:
        raise ConfigError.text("indicators_pin", url=repr(url), key=key, value=repr(text))
    return int(text)


def parse_gpio_url(parts: SplitResult) -> dict[str, Any]:
    """Read pins, polarity, buzzer kind and pin factory name from a ``gpio://`` URL."""
    url = parts.geturl()
    pins: dict[str, int | None] = dict(DEFAULT_PINS)
    options: dict[str, Any] = {
        "pins": pins,
        "active_high": True,
        "buzzer_active_high": None,
        "tonal": False,
        "pin_factory": os.environ.get("GPIOZERO_PIN_FACTORY", "lgpio").lower(),
    }
    for key, text in parse_qsl(parts.query, keep_blank_values=True):
        if key in pins:
            pins[key] = _pin(url, key, text)
        elif key in ("active_high", "buzzer_active_high", "tonal"):
            options[key] = _flag(url, key, text.lower())
        elif key == "pin_factory":
            options[key] = text.lower()
        else:
            known = ", ".join([*pins, "active_high", "buzzer_active_high", "tonal", "pin_factory"])
            raise ConfigError.text("indicators_option", url=repr(url), key=repr(key), known=known)
    used = [pin for pin in pins.values() if pin is not None]
    if len(set(used)) != len(used):
        raise ConfigError.text("indicators_shared", url=repr(url), pins=pins)
    return options


def open_gpio(
    parts: SplitResult, *, wait: Callable[[threading.Event, float], bool] = _wait_on_event
) -> GPIOIndicators:
    """``gpio://?green=17&amber=27&red=22&buzzer=18&active_high=1&pin_factory=lgpio``."""
    options = parse_gpio_url(parts)
    factory = load_pin_factory(options.pop("pin_factory"))
    return GPIOIndicators(pin_factory=factory, wait=wait, **options)
