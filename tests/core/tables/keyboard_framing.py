"""Scan framing (SCANNERS-AND-HARDWARE.md 1.7 and 2; issue 4 item 1, "Bad input").

A keyboard case: ``{"id", "layout", "steps", "expected"}`` where a step is either ``("type", text,
suffix, t0_ms, step_ms)`` (the events a scanner sends, one every ``step_ms``), ``("event", type,
code, value, t_ms)`` or ``("expire", now_ms)``, and ``expected`` lists ``(kind, text or reason)``.
A byte case has layout ``"bytes"`` with steps ``("chunk", text, t_ms)`` or
``("expire", now_ms)``.
"""

from fmd_core.framing import BAD_KEYS, FAULT, KEYS_LOST, SCAN, TOO_LONG, ByteFramer, KeyFramer
from fmd_core.keyboard import GS, type_text
from fmd_core.keyboard import codes as k

PACK = "]d2010340093001234521ABCDEFG" + GS + "10LOT1" + GS + "17270630"
MAX_LENGTH = 300
BURST = "A" * 10000

_ROWS = [
    ("Enter ends a scan", "us", [("type", PACK, "\r", 0, 1)], [(SCAN, PACK)]),
    ("AZERTY scan", "fr", [("type", PACK, "\r", 0, 1)], [(SCAN, PACK)]),
    ("QWERTZ scan", "de", [("type", PACK, "\r", 0, 1)], [(SCAN, PACK)]),
    ("no suffix: the gap ends it", "us", [("type", PACK, "", 0, 1), ("expire", 500)], [(SCAN, PACK)]),
    ("no suffix: not yet at the deadline", "us", [("type", PACK, "", 0, 1), ("expire", 150)], []),
    (
        "two scans split by a gap",
        "us",
        [("type", "]d2AAA", "", 0, 1), ("type", "]d2BBB", "", 1000, 1), ("expire", 5000)],
        [(SCAN, "]d2AAA"), (SCAN, "]d2BBB")],
    ),
    (
        "two scans back to back with Enter",
        "us",
        [("type", "]d2AAA", "\r", 0, 1), ("type", "]d2BBB", "\r", 100, 1)],
        [(SCAN, "]d2AAA"), (SCAN, "]d2BBB")],
    ),
    (
        "stray keys shorter than the minimum dropped",
        "us",
        [("type", "x", "\r", 0, 1), ("type", "ab", "", 100, 1), ("expire", 1000)],
        [],
    ),
    ("slow scanner within the gap is one scan", "us", [("type", PACK, "\r", 0, 90)], [(SCAN, PACK)]),
    (
        "SYN_DROPPED discards the partial scan",
        "us",
        [
            ("type", "]d2010340", "", 0, 1),
            ("event", k.EV_SYN, k.SYN_DROPPED, 0, 40),
            ("type", "0930", "\r", 41, 1),
            ("event", k.EV_SYN, k.SYN_REPORT, 0, 60),
            ("type", PACK, "\r", 70, 1),
        ],
        [(FAULT, KEYS_LOST), (SCAN, PACK)],
    ),
    (
        "keystroke garbage is a fault",
        "us",
        [("event", k.EV_KEY, k.KEY_ESC, 1, 0), ("type", "]d2ABC", "\r", 1, 1)],
        [(FAULT, BAD_KEYS)],
    ),
    (
        "garbage does not spoil the next scan",
        "us",
        [("event", k.EV_KEY, k.KEY_F1, 1, 0), ("type", "]d2ABC", "\r", 1, 1), ("type", PACK, "\r", 100, 1)],
        [(FAULT, BAD_KEYS), (SCAN, PACK)],
    ),
    (
        "a 10,000-character burst is one fault",
        "us",
        [("type", BURST, "\r", 0, 1), ("type", PACK, "\r", 100000, 1)],
        [(FAULT, TOO_LONG), (SCAN, PACK)],
    ),
    (
        "a burst without Enter ends by the gap",
        "us",
        [("type", BURST, "", 0, 1), ("expire", 100000), ("type", PACK, "\r", 200000, 1)],
        [(FAULT, TOO_LONG), (SCAN, PACK)],
    ),
    (
        "MSC and SYN_REPORT events are ignored",
        "us",
        [
            ("event", k.EV_MSC, 4, 458756, 0),
            ("event", k.EV_SYN, k.SYN_REPORT, 0, 0),
            ("type", "]d2ABC", "\r", 1, 1),
        ],
        [(SCAN, "]d2ABC")],
    ),
    ("bytes: CR ends a scan", "bytes", [("chunk", PACK + "\r", 0)], [(SCAN, PACK)]),
    (
        "bytes: CRLF is one suffix",
        "bytes",
        [("chunk", PACK + "\r\n" + PACK + "\r\n", 0)],
        [(SCAN, PACK), (SCAN, PACK)],
    ),
    (
        "bytes: CRLF split across chunks",
        "bytes",
        [("chunk", PACK + "\r", 0), ("chunk", "\n" + PACK, 5), ("chunk", "\r\n", 6)],
        [(SCAN, PACK), (SCAN, PACK)],
    ),
    (
        "bytes: a scan in many chunks",
        "bytes",
        [("chunk", PACK[:5], 0), ("chunk", PACK[5:20], 10), ("chunk", PACK[20:] + "\r", 20)],
        [(SCAN, PACK)],
    ),
    ("bytes: no suffix, the gap ends it", "bytes", [("chunk", PACK, 0), ("expire", 201)], [(SCAN, PACK)]),
    (
        "bytes: a gap between chunks splits scans",
        "bytes",
        [("chunk", "]d2AAA", 0), ("chunk", "]d2BBB", 500), ("expire", 1000)],
        [(SCAN, "]d2AAA"), (SCAN, "]d2BBB")],
    ),
    (
        "bytes: a 10,000-byte burst is one fault",
        "bytes",
        [("chunk", BURST, 0), ("chunk", BURST + "\r", 1), ("chunk", PACK + "\r", 2)],
        [(FAULT, TOO_LONG), (SCAN, PACK)],
    ),
]


def _run_keys(layout, steps):
    framer = KeyFramer(layout, gap_ms=200, max_length=MAX_LENGTH)
    frames = []
    for step in steps:
        if step[0] == "type":
            _, text, suffix, t0, step_ms = step
            t = t0
            # one character at a time: a 10,000-character burst stays small under MicroPython
            for ch in list(text) + [suffix]:
                for code, value in type_text(ch, layout, suffix=""):
                    frames.extend(framer.push(k.EV_KEY, code, value, t))
                    frames.extend(framer.push(k.EV_SYN, k.SYN_REPORT, 0, t))
                    t += step_ms
        elif step[0] == "event":
            frames.extend(framer.push(step[1], step[2], step[3], step[4]))
        else:
            frames.extend(framer.expire(step[1]))
    return frames


def _run_bytes(steps):
    framer = ByteFramer(gap_ms=200, max_length=MAX_LENGTH)
    frames = []
    for step in steps:
        if step[0] == "chunk":
            frames.extend(framer.push(step[1], step[2]))
        else:
            frames.extend(framer.expire(step[1]))
    return frames


def _slug(what):
    return "".join(ch if ch.isalpha() or ch.isdigit() else "-" for ch in what.lower())


CASES = [
    {
        "id": _slug(what),
        "layout": layout,
        "steps": [list(s) for s in steps],
        "expected": [list(e) for e in expected],
    }
    for what, layout, steps, expected in _ROWS
]


def check(case):
    what, layout, steps, expected = case["id"], case["layout"], case["steps"], case["expected"]
    frames = _run_bytes(steps) if layout == "bytes" else _run_keys(layout, steps)
    got = [[f.kind, f.text if f.kind == SCAN else f.reason] for f in frames]
    if got != expected:
        return f"{what}: expected {expected!r}, framed {[(g[0], g[1][:60]) for g in got]!r}"
    return None
