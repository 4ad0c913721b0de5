"""Key recordings typed from the keyboard layout tables, in the format ``fmd-terminal calibrate --record`` writes.

``KeyRecording`` builds the event stream a keyboard-wedge scanner set to a keyboard country sends for
a few scans (``fmd_core.keyboard.type_text``: real key sequences, Shift, AltGr, GS as Ctrl+] or
Alt+029, Caps Lock), each key followed by its ``SYN_REPORT`` as a device reports it, with time stamps:
``step_ms`` between events, ``pause_ms`` between scans. ``lines(header)`` gives the file's lines (a
header object, then ``[sec, usec, type, code, value]``).

``python tests/terminal/key_recordings.py`` rewrites the sample recordings of ``tests/recordings/``
(``samples()``) and ``packs.json``, the packs they scan (the simulator's seed records, generated for a
fixed month so that they do not change), which is the body of the simulator's ``POST /admin/packs``;
a test checks that the committed files are what this module writes.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

from fmd_core.calibration import C1
from fmd_core.framing import KeyFramer
from fmd_core.keyboard import ALT, CTRL, codes, type_text

T0_MS = 1_764_758_400_000  # 2025-12-03 10:40 UTC, a plausible recording time
STEP_MS = 3
PAUSE_MS = 800
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "recordings"


class KeyRecording:
    """A scanner's event stream, scan by scan."""

    def __init__(self, t0_ms: int = T0_MS, step_ms: int = STEP_MS) -> None:
        self.t_ms = t0_ms
        self.step_ms = step_ms
        self.events: list[list[int]] = []  # [sec, usec, type, code, value]

    def event(self, type_: int, code: int, value: int) -> None:
        self.events.append([self.t_ms // 1000, self.t_ms % 1000 * 1000, type_, code, value])

    def keys(self, keys: list[tuple[int, int]]) -> KeyRecording:
        for code, value in keys:
            self.event(codes.EV_KEY, code, value)
            self.event(codes.EV_SYN, codes.SYN_REPORT, 0)
            self.t_ms += self.step_ms
        return self

    def scan(self, text: str, layout: str, pause_ms: int = PAUSE_MS, **options) -> KeyRecording:
        """``pause_ms`` of silence, then ``text`` as a scanner set to ``layout`` types it (``type_text``
        options: ``control``, ``suffix``, ``caps_inverted``...)."""
        self.t_ms += pause_ms
        return self.keys(type_text(text, layout, **options))

    def syn_dropped(self) -> KeyRecording:
        """The kernel's buffer overflowed here: events were lost (SYN_DROPPED)."""
        self.event(codes.EV_SYN, codes.SYN_DROPPED, 0)
        self.t_ms += self.step_ms
        return self

    def lines(self, header: dict | None = None) -> list[str]:
        head = [json.dumps(header)] if header is not None else []
        return head + [json.dumps(event) for event in self.events]

    def write(self, path: Path, header: dict | None = None) -> Path:
        path.write_text("\n".join(self.lines(header)) + "\n", encoding="utf-8")
        return path

    def framed(self, layout: str) -> list[list[str]]:
        """``[kind, text]`` of what a scanner adapter set to ``layout`` frames from these events before
        any silence ends a scan: the ``expected`` of a ``--record`` header."""
        framer = KeyFramer(layout)
        out = []
        for sec, usec, type_, code, value in self.events:
            out += [[frame.kind, frame.text] for frame in framer.push(type_, code, value, sec * 1000 + usec // 1000)]
        return out


def sample_packs() -> list[dict]:
    """The five French packs the samples scan: seed 0 of the simulator, for December 2026 (expiry 2027-2029)."""
    from fmd_simulator.seeding import generate

    return generate(5, seed=0, market="FR", today=datetime.date(2026, 12, 1))


def samples() -> dict[str, tuple[KeyRecording, dict]]:
    """The sample recordings: name -> (recording, header)."""
    packs = [pack["raw"] for pack in sample_packs()]
    c1 = KeyRecording().scan(C1, "fr", control=CTRL)
    two = KeyRecording().scan(packs[0], "fr", control=CTRL).scan(packs[1], "fr", control=ALT)
    reset = KeyRecording().scan(packs[2], "us", control=CTRL)
    cut = (KeyRecording().scan(packs[3][:20], "fr", suffix="").syn_dropped().keys(type_text(packs[3][24:], "fr"))
           .scan(packs[2], "fr").scan(packs[4][:30], "fr", suffix=""))
    found = {
        "fr-ctrl-c1": (c1, "a French scanner (GS as Ctrl+]) reads calibration code C1"),
        "fr-two-packs": (two, "the same scanner reads packs 1 and 2, GS as Ctrl+] then as Alt+029"),
        "us-after-reset": (reset, "the same scanner, reset to its US factory keyboard, reads pack 3"),
        "fr-cut-scans": (cut, "keys lost (SYN_DROPPED) in pack 4, then pack 3 whole, then the recording "
                              "stops in the middle of pack 5"),
    }
    return {name: (recording, {"synthetic": True, "about": about, "scanner": "evdev://fmd-scanner?layout=fr",
                               "layout": "fr", "expected": recording.framed("fr")})
            for name, (recording, about) in found.items()}


def main() -> int:
    SAMPLES_DIR.mkdir(exist_ok=True)
    for name, (recording, header) in samples().items():
        print(recording.write(SAMPLES_DIR / f"{name}.jsonl", header))
    packs = SAMPLES_DIR / "packs.json"
    packs.write_text(json.dumps({"packs": sample_packs()}, indent=1) + "\n", encoding="utf-8")
    print(packs)
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[2] / part) for part in ("device", "host")]
    sys.exit(main())
