"""Keyboard-wedge decoding and the scan guard: what one scan costs (issue 4 item 1, issue 8).

(a) ``KeyFramer.push`` over every event of one FMD scan typed on an AZERTY wedge (key events with
    their ``SYN_REPORT``s), median per scan, beside its anchor measured in the same run: the same key
    events through libxkbcommon (``xkb_state_update_key`` + ``xkb_state_key_get_utf8`` through ctypes,
    the "optional runtime route" of SCANNERS-AND-HARDWARE.md 1.3), which does not frame or check.
(b) ``fmd_core.calibration.guard`` for the same scan under the right profile (passed) and typed by a
    scanner reset to US (held as "settings changed"), beside its anchor: ``decode_scan`` of the text.

Usage: ``python benchmarks/bench_keyboard.py [--scans 300]``. Needs libxkbcommon0 for the anchor of (a).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "tests", "core")]

import keyboard_xkb  # noqa: E402

from fmd_core import decode_scan  # noqa: E402
from fmd_core.calibration import ScannerProfile, guard  # noqa: E402
from fmd_core.framing import KeyFramer  # noqa: E402
from fmd_core.keyboard import GS, codes, type_text  # noqa: E402

SCAN = "]d2" + "01034009300123451727063010B1234" + GS + "21" + "4F2A9CXYZW7Q" + GS + "714" + "1234567"


def median_us(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        run()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def framer_run(events):
    def run():
        framer = KeyFramer("fr")
        for t, (code, value) in enumerate(events):
            framer.push(codes.EV_KEY, code, value, t)
            framer.push(codes.EV_SYN, codes.SYN_REPORT, 0, t)

    return run


def xkb_run(events):
    import ctypes

    lib = keyboard_xkb.LIB
    context = lib.xkb_context_new(0)
    names = keyboard_xkb._RuleNames(b"evdev", b"pc105", b"fr", b"", b"")
    keymap = lib.xkb_keymap_new_from_names(context, ctypes.byref(names), 0)
    buffer = ctypes.create_string_buffer(16)

    def run():
        state = lib.xkb_state_new(keymap)
        out = []
        for code, value in events:
            if value == 1:
                lib.xkb_state_key_get_utf8(state, code + 8, buffer, 16)
                out.append(buffer.value)
            lib.xkb_state_update_key(state, code + 8, 1 if value else 0)
        lib.xkb_state_unref(state)

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=300)
    args = parser.parse_args()
    events = type_text(SCAN, "fr")
    print(f"one scan: {len(SCAN)} characters, {len(events)} key events (+ as many SYN_REPORT)")

    ours = median_us(framer_run(events), args.scans)
    if keyboard_xkb.available():
        anchor = median_us(xkb_run(events), args.scans)
        print(
            f"(a) KeyFramer (decode + frame): {ours:8.1f} us/scan   libxkbcommon via ctypes: {anchor:8.1f} us/scan"
            f"   ratio {ours / anchor:5.2f}"
        )
    else:
        print(
            f"(a) KeyFramer (decode + frame): {ours:8.1f} us/scan   (libxkbcommon not installed: no anchor)"
        )

    profile = ScannerProfile("keyboard", "fr", True, "normal", {"GS": "ctrl"}, "CR")
    reset_to_us = type_text(SCAN, "us")
    passed = median_us(lambda: guard(events, profile), args.scans)
    held = median_us(lambda: guard(reset_to_us, profile), args.scans)
    anchor = median_us(lambda: decode_scan(SCAN), args.scans)
    assert guard(events, profile).action == "pass" and guard(reset_to_us, profile).action == "hold"
    print(
        f"(b) guard, right profile: {passed:8.1f} us/scan   decode_scan alone: {anchor:8.1f} us/scan"
        f"   ratio {passed / anchor:5.2f}"
    )
    print(
        f"    guard, scanner reset to US (held): {held:8.1f} us/scan   ratio to decode_scan {held / anchor:5.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
