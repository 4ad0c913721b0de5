"""The OLED screen: a ``ScreenModel`` rendered onto an SSD1306 or SH1106 through luma.oled.

URLs (SCANNERS-AND-HARDWARE.md section 4: name the controller, never guess):

    ssd1306://i2c/1/0x3c                 I2C bus 1, address 0x3C (defaults: bus 1, 0x3C)
    sh1106://i2c/1/0x3c?offset=2         SH1106 column offset (luma's page_address_offset, 0 or 2)
    ...?rotate=2&contrast=207&dim_after=60&blank_after=600

- Redraw only on change: the same model (or a model that renders to the same pixels) sends no
  I2C traffic. One SSD1306 frame is 1024 bytes, about 25 ms at 400 kHz.
- Burn-in: a screen left unchanged for ``dim_after`` seconds is dimmed (``contrast``); a neutral
  screen (no light, not busy) left for ``blank_after`` seconds is switched off (``hide``). A verdict
  is never blanked. Any change wakes the panel. The idle rule runs on every ``show`` and
  ``tick`` against an injected clock; ``open_ssd1306``/``open_sh1106`` also start a small thread
  that ticks once a second.
- Faults: no panel at open (luma's ``DeviceNotFoundError``, an ``OSError`` off the Pi) is a
  ``DeviceError`` naming the URL. A panel that stops answering later is logged once as a warning
  and retried on the next change; the terminal keeps running (the LEDs and the log still speak).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, parse_qsl

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.screens.render import render

log = logging.getLogger(__name__)

DEFAULT_CONTRAST = 0xCF
DIM_CONTRAST = 0x08
DEFAULT_DIM_AFTER_S = 60.0
DEFAULT_BLANK_AFTER_S = 600.0


def _device_errors() -> tuple[type[BaseException], ...]:
    import luma.core.error

    return (OSError, luma.core.error.Error)


class OLEDScreen:
    """Draws models on a luma device (``ssd1306``, ``sh1106``, or luma's ``dummy`` in tests)."""

    def __init__(
        self,
        device: Any,
        *,
        name: str = "oled",
        clock: Callable[[], float] = time.monotonic,
        contrast: int = DEFAULT_CONTRAST,
        dim_after_s: float | None = DEFAULT_DIM_AFTER_S,
        blank_after_s: float | None = DEFAULT_BLANK_AFTER_S,
        tick_every_s: float | None = None,
    ):
        self.device = device
        self.name = name
        self._clock = clock
        self._contrast = contrast
        self._dim_after_s = dim_after_s
        self._blank_after_s = blank_after_s
        self._errors = _device_errors()
        self._lock = threading.Lock()
        self._model: ScreenModel | None = None
        self._pixels: bytes | None = None
        self._changed_at = clock()
        self._dimmed = False
        self._blanked = False
        self._failed = False
        self.frames = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._write(lambda: device.contrast(contrast))
        if tick_every_s:
            self._ticker = threading.Thread(
                target=self._tick_loop, args=(tick_every_s,), name=f"{name}-idle", daemon=True
            )
            self._ticker.start()

    @property
    def dimmed(self) -> bool:
        return self._dimmed

    @property
    def blanked(self) -> bool:
        return self._blanked

    def show(self, model: ScreenModel) -> None:
        """Draw ``model`` if it differs from what is on the panel; never raises for a device fault."""
        with self._lock:
            now = self._clock()
            if model == self._model:
                self._apply_idle(now)
                return
            image = render(model, self.device.width, self.device.height)
            pixels = image.tobytes()
            self._model = model
            self._changed_at = now
            if pixels == self._pixels and not (self._dimmed or self._blanked):
                return
            if self._write(lambda: self._draw(image)):
                self._pixels = pixels
                self.frames += 1
            else:
                self._model = self._pixels = None  # retry on the next show

    def tick(self) -> None:
        """Apply the idle rule (dim, blank) to what is on the panel now."""
        with self._lock:
            self._apply_idle(self._clock())

    def close(self) -> None:
        """Stop the idle thread, blank the panel and release the bus."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._write(self.device.cleanup)

    def _draw(self, image: Any) -> None:
        if self._blanked:
            self.device.show()
            self._blanked = False
        if self._dimmed:
            self.device.contrast(self._contrast)
            self._dimmed = False
        self.device.display(image)

    def _apply_idle(self, now: float) -> None:
        if self._model is None:
            return
        idle_for = now - self._changed_at
        neutral = self._model.light is None and not self._model.busy
        if (
            neutral
            and not self._blanked
            and self._blank_after_s is not None
            and idle_for >= self._blank_after_s
        ):
            if self._write(self.device.hide):
                self._blanked = True
        elif not self._dimmed and self._dim_after_s is not None and idle_for >= self._dim_after_s:
            if self._write(lambda: self.device.contrast(DIM_CONTRAST)):
                self._dimmed = True

    def _write(self, action: Callable[[], object]) -> bool:
        """Run a device call; a fault is logged once and reported as False."""
        try:
            action()
        except self._errors as exc:
            if not self._failed:
                log.warning(
                    "screen %s stopped answering (%s); the terminal goes on without it", self.name, exc
                )
            self._failed = True
            return False
        if self._failed:
            log.warning("screen %s answers again", self.name)
            self._failed = False
        return True

    def _tick_loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.tick()


_QUERY_KEYS = ("offset", "rotate", "contrast", "dim_after", "blank_after")


def _number(url: str, key: str, text: str, kind: Callable[[str], Any], low: float, high: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError.text("screen_number", url=repr(url), key=key, value=repr(text), low=low, high=high)
    return value


def parse_oled_url(parts: SplitResult) -> dict[str, Any]:
    """Read bus, port, address and options from an ``ssd1306://``/``sh1106://`` URL."""
    url = parts.geturl()
    bus = parts.netloc.lower() or "i2c"
    if bus != "i2c":
        raise ConfigError.text("screen_bus", url=repr(url), bus=repr(bus))
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 2:
        raise ConfigError.text("screen_path", url=repr(url))
    port = _number(url, "port", segments[0], int, 0, 255) if segments else 1
    address = (
        _number(url, "address", segments[1], lambda s: int(s, 0), 0x03, 0x77) if len(segments) > 1 else 0x3C
    )
    options: dict[str, Any] = {"port": port, "address": address}
    for key, text in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _QUERY_KEYS:
            raise ConfigError.text("screen_option", url=repr(url), key=repr(key), known=", ".join(_QUERY_KEYS))
        if key in ("dim_after", "blank_after"):
            options[key] = _number(url, key, text, float, 0, 86400) or None
        else:
            options[key] = _number(
                url, key, text, int, 0, 255 if key == "contrast" else 3 if key == "rotate" else 4
            )
    return options


def _open(
    controller: str,
    parts: SplitResult,
    *,
    serial_interface: Any = None,
    clock: Callable[[], float] = time.monotonic,
    tick_every_s: float | None = 1.0,
) -> OLEDScreen:
    import luma.oled.device

    options = parse_oled_url(parts)
    url = parts.geturl()
    where = f"i2c/{options['port']}/{options['address']:#04x}"  # the URL's words: the same in every language
    if serial_interface is None:
        from luma.core.interface.serial import i2c

        try:
            serial_interface = i2c(port=options["port"], address=options["address"])
        except _device_errors() as exc:
            raise DeviceError.text("screen_absent", url=repr(url), controller=controller.upper(), where=where,
                                   why=exc) from exc
    kwargs: dict[str, Any] = {"width": 128, "height": 64, "rotate": options.get("rotate", 0)}
    if controller == "sh1106" and "offset" in options:
        kwargs["page_address_offset"] = options["offset"]
    try:
        device = getattr(luma.oled.device, controller)(serial_interface, **kwargs)
    except _device_errors() as exc:
        raise DeviceError.text("screen_silent", url=repr(url), controller=controller.upper(), where=where,
                               why=exc) from exc
    return OLEDScreen(
        device,
        name=url,
        clock=clock,
        contrast=options.get("contrast", DEFAULT_CONTRAST),
        dim_after_s=options.get("dim_after", DEFAULT_DIM_AFTER_S),
        blank_after_s=options.get("blank_after", DEFAULT_BLANK_AFTER_S),
        tick_every_s=tick_every_s,
    )


def open_ssd1306(parts: SplitResult, **kwargs: Any) -> OLEDScreen:
    """``ssd1306://i2c/<port>/<address>``: an SSD1306 128x64 panel."""
    return _open("ssd1306", parts, **kwargs)


def open_sh1106(parts: SplitResult, **kwargs: Any) -> OLEDScreen:
    """``sh1106://i2c/<port>/<address>?offset=2``: an SH1106 128x64 panel (132-column RAM)."""
    return _open("sh1106", parts, **kwargs)
