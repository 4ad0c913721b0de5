"""Key events to text, written out by hand (SCANNERS-AND-HARDWARE.md 1.3 to 1.5, 7.1).

A case: ``{"id", "layout", "events", "text", "error"}``. Events are ``[code, value]`` with value 1
down, 0 up, 2 autorepeat. When the expected text is None the decoder
must refuse the events and its error must contain the fragment.
"""

from fmd_core.keyboard import EOT, GS, RS, decode_keys
from fmd_core.keyboard import codes as k

D = k.DOWN
U = k.UP


def tap(code, *modifiers):
    events = [[m, D] for m in modifiers] + [[code, D], [code, U]]
    return events + [[m, U] for m in reversed(modifiers)]


_ROWS = [
    ("plain letters", "us", tap(k.KEY_A) + tap(k.KEY_B), "ab", ""),
    ("shift makes capitals", "us", tap(k.KEY_A, k.KEY_LEFTSHIFT) + tap(k.KEY_A, k.KEY_RIGHTSHIFT), "AA", ""),
    ("caps lock makes capitals", "us", tap(k.KEY_CAPSLOCK) + tap(k.KEY_A), "A", ""),
    ("shift under caps lock makes small", "us", tap(k.KEY_CAPSLOCK) + tap(k.KEY_A, k.KEY_LEFTSHIFT), "a", ""),
    ("caps lock leaves digits", "us", tap(k.KEY_CAPSLOCK) + tap(k.KEY_1), "1", ""),
    ("caps lock leaves AZERTY digit row", "fr", tap(k.KEY_CAPSLOCK) + tap(k.KEY_1), "&", ""),
    (
        "AZERTY digits need shift",
        "fr",
        tap(k.KEY_1, k.KEY_LEFTSHIFT) + tap(k.KEY_0, k.KEY_LEFTSHIFT),
        "10",
        "",
    ),
    (
        "AZERTY letters moved",
        "fr",
        tap(k.KEY_Q) + tap(k.KEY_A) + tap(k.KEY_W) + tap(k.KEY_Z) + tap(k.KEY_SEMICOLON),
        "aqzwm",
        "",
    ),
    ("AZERTY m key is comma", "fr", tap(k.KEY_M), ",", ""),
    ("QWERTZ y and z swapped", "de", tap(k.KEY_Y) + tap(k.KEY_Z), "zy", ""),
    ("QWERTZ AltGr+Q is @", "de", tap(k.KEY_Q, k.KEY_RIGHTALT), "@", ""),
    ("QWERTZ AltGr+9 is ]", "de", tap(k.KEY_9, k.KEY_RIGHTALT), "]", ""),
    ("AZERTY AltGr+minus is ]", "fr", tap(k.KEY_MINUS, k.KEY_RIGHTALT), "]", ""),
    ("US ] and AIM prefix", "us", tap(k.KEY_RIGHTBRACE) + tap(k.KEY_D) + tap(k.KEY_2), "]d2", ""),
    (
        "autorepeat ignored",
        "us",
        [[k.KEY_A, D], [k.KEY_A, k.REPEAT], [k.KEY_A, k.REPEAT], [k.KEY_A, U]],
        "a",
        "",
    ),
    ("keypad digits whatever NumLock", "de", tap(k.KEY_KP0) + tap(k.KEY_KP9) + tap(k.KEY_KPMINUS), "09-", ""),
    ("keypad decimal is a comma on DE", "de", tap(k.KEY_KPDOT), ",", ""),
    ("keypad decimal is a dot on US", "us", tap(k.KEY_KPDOT), ".", ""),
    ("Enter and keypad Enter are CR", "us", tap(k.KEY_ENTER) + tap(k.KEY_KPENTER), "\r\r", ""),
    ("Ctrl+] is GS", "us", tap(k.KEY_RIGHTBRACE, k.KEY_LEFTCTRL), GS, ""),
    ("right Ctrl+] is GS", "us", tap(k.KEY_RIGHTBRACE, k.KEY_RIGHTCTRL), GS, ""),
    ("Ctrl+Shift+6 is RS", "us", tap(k.KEY_6, k.KEY_LEFTCTRL, k.KEY_LEFTSHIFT), RS, ""),
    ("Ctrl+6 without shift is RS", "us", tap(k.KEY_6, k.KEY_LEFTCTRL), RS, ""),
    ("Ctrl+D is EOT", "us", tap(k.KEY_D, k.KEY_LEFTCTRL), EOT, ""),
    ("US-position Ctrl+] on AZERTY is GS", "fr", tap(k.KEY_RIGHTBRACE, k.KEY_LEFTCTRL), GS, ""),
    ("Ctrl+AltGr+minus (AZERTY ]) is GS", "fr", tap(k.KEY_MINUS, k.KEY_LEFTCTRL, k.KEY_RIGHTALT), GS, ""),
    ("Ctrl+AltGr+9 (QWERTZ ]) is GS", "de", tap(k.KEY_9, k.KEY_LEFTCTRL, k.KEY_RIGHTALT), GS, ""),
    ("Ctrl+AltGr+9 (AZERTY ^) is RS", "fr", tap(k.KEY_9, k.KEY_LEFTCTRL, k.KEY_RIGHTALT), RS, ""),
    (
        "Alt 029 is GS",
        "us",
        [[k.KEY_LEFTALT, D]] + tap(k.KEY_KP0) + tap(k.KEY_KP2) + tap(k.KEY_KP9) + [[k.KEY_LEFTALT, U]],
        GS,
        "",
    ),
    (
        "Alt 30 without leading 0 is RS",
        "fr",
        [[k.KEY_LEFTALT, D]] + tap(k.KEY_KP3) + tap(k.KEY_KP0) + [[k.KEY_LEFTALT, U]],
        RS,
        "",
    ),
    (
        "Alt 004 is EOT",
        "de",
        [[k.KEY_LEFTALT, D]] + tap(k.KEY_KP0) + tap(k.KEY_KP0) + tap(k.KEY_KP4) + [[k.KEY_LEFTALT, U]],
        EOT,
        "",
    ),
    (
        "right Alt is Alt on US",
        "us",
        [[k.KEY_RIGHTALT, D]] + tap(k.KEY_KP2) + tap(k.KEY_KP9) + [[k.KEY_RIGHTALT, U]],
        GS,
        "",
    ),
    ("Alt pressed alone types nothing", "us", tap(k.KEY_LEFTALT) + tap(k.KEY_A), "a", ""),
    (
        "Alt code above 127 refused",
        "us",
        [[k.KEY_LEFTALT, D]] + tap(k.KEY_KP2) + tap(k.KEY_KP0) + tap(k.KEY_KP0) + [[k.KEY_LEFTALT, U]],
        None,
        "not an ASCII",
    ),
    (
        "Alt with a letter refused",
        "us",
        [[k.KEY_LEFTALT, D]] + tap(k.KEY_A) + [[k.KEY_LEFTALT, U]],
        None,
        "only keypad digits",
    ),
    ("Ctrl+A refused", "us", tap(k.KEY_A, k.KEY_LEFTCTRL), None, "not GS, RS or EOT"),
    ("Ctrl+5 refused (no xkb FS trick)", "us", tap(k.KEY_5, k.KEY_LEFTCTRL), None, "not GS, RS or EOT"),
    ("AZERTY dead circumflex refused", "fr", tap(k.KEY_LEFTBRACE), None, "dead key"),
    ("QWERTZ dead grave refused", "de", tap(k.KEY_EQUAL), None, "dead key"),
    ("Escape refused", "us", tap(k.KEY_ESC), None, "types no character"),
    ("arrow key refused without a function-key map", "us", tap(k.KEY_DOWN), None, "types no character"),
]


def _slug(what):
    return "".join(ch if ch.isalpha() or ch.isdigit() else "-" for ch in what.lower())


CASES = [
    {"id": _slug(what), "layout": layout, "events": events, "text": text, "error": error}
    for what, layout, events, text, error in _ROWS
]


def check(case):
    what, layout, events, expected, fragment = (
        case["id"],
        case["layout"],
        case["events"],
        case["text"],
        case["error"],
    )
    got, error = decode_keys(events, layout)
    if expected is None:
        if got is not None:
            return f"{what}: expected a refusal, decoded {got!r}"
        if fragment not in error:
            return f"{what}: error {error!r} does not say {fragment!r}"
        return None
    if got != expected:
        return f"{what}: expected {expected!r}, decoded {got!r} ({error})"
    return None
