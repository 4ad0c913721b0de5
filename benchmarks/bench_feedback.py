"""Feedback benchmarks: what a verdict costs on the screen and the LEDs (issue 4 item 3, "Performance").

(a) ``render`` + ``show`` per changed frame on luma's ``dummy`` device (mode "1"), p50/p95, beside
    its anchor measured in the same run: the usual luma idiom (``with canvas(device) as draw:``
    and ``draw.text`` with Pillow's built-in font) drawing the same texts on the same device.
(b) The same through the real ``ssd1306`` and ``sh1106`` drivers over a null I2C interface (the
    drivers' own pixel packing, without the bus time: about 25 ms per frame at 400 kHz, 100 ms at
    100 kHz, SCANNERS-AND-HARDWARE.md section 4).
(c) ``show`` of an unchanged model (the main loop may call it every turn): no render, no traffic.
(d) ``GPIOIndicators.signal`` on gpiozero's mock pins (the call returns while the pattern plays),
    beside its anchor: one ``LED.on()`` on the same mock factory.
(e) The web console's address as a QR code (``FMD-MODE-ADMIN``, issue 15): render + show of that
    screen, the QR code made anew by segno each frame (its cache cleared), beside (a) as the anchor.

Usage: ``python benchmarks/bench_feedback.py [--frames 300]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device")]

from gpiozero import LED  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402
from luma.core.device import dummy  # noqa: E402
from luma.core.render import canvas  # noqa: E402
from luma.oled.device import sh1106, ssd1306  # noqa: E402
from PIL import ImageFont  # noqa: E402

from fmd_core.screen import ScreenModel  # noqa: E402
from fmd_terminal.indicators.gpio import GPIOIndicators  # noqa: E402
from fmd_terminal.screens import qr  # noqa: E402
from fmd_terminal.screens.oled import OLEDScreen  # noqa: E402

MODELS = [
    ScreenModel("green", "Boîte authentique", ("CIP/GTIN 03400933112345", "Série …4F2A9C"), "VÉRIFIER", ""),
    ScreenModel(
        "red", "Alerte – ne pas délivrer", ("Alerte A24 7Q2K9XM4", "CIP/GTIN 03400933112345"), "DÉLIVRER", ""
    ),
    ScreenModel(
        "amber", "Enregistrée, vérif. différée", ("CIP/GTIN 03400933112345",), "DÉLIVRER", "3 en attente"
    ),
    ScreenModel(None, "Prêt – scannez une boîte", (), "DÉLIVRER", ""),
]


class NullSerial:
    def command(self, *cmd: int) -> None:
        pass

    def data(self, data: object) -> None:
        pass

    def cleanup(self) -> None:
        pass


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def timed(action, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        action(i)
        out.append(time.perf_counter() - start)
    return out


def ours(device: object, frames: int) -> list[float]:
    screen = OLEDScreen(device, dim_after_s=None, blank_after_s=None)
    # Each model made anew, so equality, not identity, decides; every call is a change.
    return timed(lambda i: screen.show(ScreenModel(*MODELS[i % len(MODELS)].as_dict().values())), frames)


def anchor(device: object, frames: int) -> list[float]:
    font = ImageFont.load_default()

    def draw(i: int) -> None:
        model = MODELS[i % len(MODELS)]
        with canvas(device) as c:
            c.text((0, 0), f"{model.mode} {model.badge}", font=font, fill="white")
            c.text((0, 14), model.headline, font=font, fill="white")
            for row, line in enumerate(model.lines):
                c.text((0, 28 + 12 * row), line, font=font, fill="white")

    return timed(draw, frames)


def line(name: str, values: list[float]) -> str:
    return f"    {name:34} p50 {percentile(values, 50) * 1000:7.3f} ms   p95 {percentile(values, 95) * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    frames = parser.parse_args().frames

    ours(dummy(width=128, height=64, mode="1"), 20)  # warm the font cache
    a_ours = ours(dummy(width=128, height=64, mode="1"), frames)
    a_anchor = anchor(dummy(width=128, height=64, mode="1"), frames)
    print(f"(a) render + show per changed frame, luma dummy device, {frames} frames")
    print(line("ours: render() + OLEDScreen.show", a_ours))
    print(line("anchor: luma canvas + default font", a_anchor))
    print(f"    ratio (ours / anchor) p50 {percentile(a_ours, 50) / percentile(a_anchor, 50):.2f}")

    print("(b) render + show through the real drivers, null I2C interface (bus time excluded)")
    b_ssd = ours(ssd1306(NullSerial()), frames)
    b_sh = ours(sh1106(NullSerial()), frames)
    b_anchor = anchor(ssd1306(NullSerial()), frames)
    print(line("ours on ssd1306", b_ssd))
    print(line("ours on sh1106", b_sh))
    print(line("anchor on ssd1306", b_anchor))
    print(f"    ratio (ours / anchor) ssd1306 p50 {percentile(b_ssd, 50) / percentile(b_anchor, 50):.2f}")

    screen = OLEDScreen(dummy(width=128, height=64, mode="1"), dim_after_s=None, blank_after_s=None)
    screen.show(MODELS[0])
    same = ScreenModel(*MODELS[0].as_dict().values())
    c_same = timed(lambda i: screen.show(same), frames)
    print("(c) show of an unchanged model")
    print(line("ours", c_same))
    print(f"    ratio (unchanged / changed frame) p50 {percentile(c_same, 50) / percentile(a_ours, 50):.3f}")

    factory = MockFactory()
    indicators = GPIOIndicators(pin_factory=factory)
    names = ["green", "amber", "red"]
    d_ours = timed(lambda i: indicators.signal(names[i % 3]), min(frames, 200))
    indicators.close()
    led = LED(5, pin_factory=factory)
    d_anchor = timed(lambda i: led.on() if i % 2 else led.off(), min(frames, 200))
    print("(d) indicators.signal() on gpiozero mock pins (returns while the pattern plays)")
    print(line("ours: GPIOIndicators.signal", d_ours))
    print(line("anchor: one LED.on()/off()", d_anchor))
    print(f"    ratio (ours / anchor) p50 {percentile(d_ours, 50) / percentile(d_anchor, 50):.2f}")

    screen = OLEDScreen(dummy(width=128, height=64, mode="1"), dim_after_s=None, blank_after_s=None)
    urls = [f"https://192.168.1.{i % 250 + 2}:8470/" for i in range(frames)]

    def address(i: int) -> None:
        qr.matrix.cache_clear()
        screen.show(ScreenModel(None, "Console", (urls[i],), "DÉLIVRER", "", qr=urls[i]))

    e_ours = timed(address, frames)
    print("(e) the console's address as a QR code: segno + render + show, luma dummy device")
    print(line("ours: QR screen", e_ours))
    print(line("anchor: (a) a verdict frame", a_ours))
    print(f"    ratio (QR screen / verdict frame) p50 {percentile(e_ours, 50) / percentile(a_ours, 50):.2f}")


if __name__ == "__main__":
    main()
