"""Replaying a key recording (``keys://...?speed=0``, issue 20): how fast a day of scans replays.

Our figure: a recording of N AZERTY pack scans (timed ``calibrate --record`` lines, every key with its
``SYN_REPORT``) replayed by ``KeyReplaySource`` at ``speed=0`` and read by the consumer, from opening
the file to ``END``: JSON parsing of every line, the evdev path shared with the live scanner
(``scanners.key_events``: framing, decoding), the queue and its reader thread. Anchor, measured in
the same run: the same events pushed straight into ``fmd_core.framing.KeyFramer`` (decoding and
framing only, no file, no thread). The ratio is what reading a recording costs beyond the keyboard core.

Usage: ``python benchmarks/bench_key_replay.py [--scans 500] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device")]

from fmd_core.framing import KeyFramer  # noqa: E402
from fmd_core.keyboard import GS, codes, type_text  # noqa: E402
from fmd_terminal.scanners import END, SCAN  # noqa: E402
from fmd_terminal.scanners.key_replay import KeyReplaySource  # noqa: E402

SCAN_TEXT = "]d2" + "01034009300123451727063010B1234" + GS + "21" + "4F2A9CXYZW7Q"


def recording(scans: int) -> list[list[int]]:
    """``[sec, usec, type, code, value]`` events: ``scans`` scans 3 ms a key, 800 ms apart."""
    events, t_ms = [], 1_764_758_400_000
    keys = type_text(SCAN_TEXT, "fr")
    for _ in range(scans):
        t_ms += 800
        for code, value in keys:
            for type_, c, v in ((codes.EV_KEY, code, value), (codes.EV_SYN, codes.SYN_REPORT, 0)):
                events.append([t_ms // 1000, t_ms % 1000 * 1000, type_, c, v])
            t_ms += 3
    return events


def replay_s(path: str, scans: int) -> float:
    start = time.perf_counter()
    source = KeyReplaySource(path, layout="fr", speed=0).start()
    got = 0
    while True:
        event = source.read(10)
        if event is None or event.kind == END:
            break
        got += event.kind == SCAN
    source.close()
    took = time.perf_counter() - start
    if got != scans:
        raise SystemExit(f"replayed {got} scans of {scans}")
    return took


def framer_s(events: list[list[int]], scans: int) -> float:
    start = time.perf_counter()
    framer = KeyFramer("fr", keep_keys=True)
    push = framer.push
    got = 0
    for sec, usec, type_, code, value in events:
        got += len(push(type_, code, value, sec * 1000 + usec // 1000))
    took = time.perf_counter() - start
    if got != scans:
        raise SystemExit(f"framed {got} scans of {scans}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    events = recording(args.scans)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "day.jsonl")
        with open(path, "w", encoding="utf-8") as out:
            out.write(json.dumps({"synthetic": True, "layout": "fr"}) + "\n")
            out.writelines(json.dumps(event) + "\n" for event in events)
        ours = statistics.median(replay_s(path, args.scans) for _ in range(args.repeat))
    anchor = statistics.median(framer_s(events, args.scans) for _ in range(args.repeat))
    per_ours, per_anchor = ours / args.scans * 1e6, anchor / args.scans * 1e6
    print(f"key replay, {args.scans} AZERTY scans ({len(events)} events), speed=0, median of {args.repeat}:")
    print(f"  keys:// replay (file, JSON, evdev path, queue): {ours * 1000:.1f} ms, {per_ours:.0f} µs/scan, "
          f"{args.scans / ours:,.0f} scans/s")
    print(f"  anchor KeyFramer.push alone:                      {anchor * 1000:.1f} ms, {per_anchor:.0f} µs/scan")
    print(f"  ratio: {ours / anchor:.1f}x the keyboard core alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
