"""Keyboard layout tables from libxkbcommon (SCANNERS-AND-HARDWARE.md 1.3, "Adding a layout").

Development tool, CPython only: loads ``libxkbcommon.so.0`` through ctypes (Debian ``libxkbcommon0``
and ``xkb-data``), presses every printable key of ``fmd_core.keyboard.codes`` without modifiers,
with Shift, with AltGr and after Caps Lock, and reads the text xkb gives. Run as a script it prints
the ``LAYOUTS`` literal committed as ``device/fmd_core/keyboard/layouts.py``; the keyboard tests
use ``xkb_table`` to check that the committed tables still agree with xkb.

    .venv/bin/python tests/core/keyboard_xkb.py device/fmd_core/keyboard/layouts.py
    .venv/bin/ruff format device/fmd_core/keyboard/layouts.py
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

from fmd_core.keyboard import codes

# xkb layout name -> our layout name
XKB_NAMES = {"us": "us", "fr": "fr", "de": "de", "gb": "gb", "be": "be", "es": "es", "it": "it"}
EVDEV_OFFSET = 8  # xkb key code = evdev key code + 8


class _RuleNames(ctypes.Structure):
    _fields_ = [(name, ctypes.c_char_p) for name in ("rules", "model", "layout", "variant", "options")]


def _library() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("xkbcommon") or "libxkbcommon.so.0"
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    lib.xkb_context_new.restype = ctypes.c_void_p
    lib.xkb_keymap_new_from_names.restype = ctypes.c_void_p
    lib.xkb_keymap_new_from_names.argtypes = [ctypes.c_void_p, ctypes.POINTER(_RuleNames), ctypes.c_int]
    lib.xkb_state_new.restype = ctypes.c_void_p
    lib.xkb_state_new.argtypes = [ctypes.c_void_p]
    lib.xkb_state_unref.argtypes = [ctypes.c_void_p]
    lib.xkb_state_update_key.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int]
    lib.xkb_state_key_get_utf8.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    return lib


LIB = _library()


def available() -> bool:
    return LIB is not None


def _text(keymap: int, held: tuple[int, ...], toggled: tuple[int, ...], code: int) -> str:
    assert LIB is not None
    state = LIB.xkb_state_new(keymap)
    try:
        for key in toggled:
            LIB.xkb_state_update_key(state, key + EVDEV_OFFSET, 1)
            LIB.xkb_state_update_key(state, key + EVDEV_OFFSET, 0)
        for key in held:
            LIB.xkb_state_update_key(state, key + EVDEV_OFFSET, 1)
        buffer = ctypes.create_string_buffer(16)
        LIB.xkb_state_key_get_utf8(state, code + EVDEV_OFFSET, buffer, 16)
        text = buffer.value.decode("utf-8")
    finally:
        LIB.xkb_state_unref(state)
    # control characters and DEL are not printable output of a key
    return text if len(text) == 1 and ord(text) >= 32 and text != "\x7f" else ""


def xkb_table(xkb_name: str) -> tuple[dict[int, tuple[str, str, str, int]], str]:
    """``({code: (base, shift, altgr, caps)}, keypad dot)`` for one xkb layout."""
    assert LIB is not None
    context = LIB.xkb_context_new(0)
    names = _RuleNames(b"evdev", b"pc105", xkb_name.encode(), b"", b"")
    keymap = LIB.xkb_keymap_new_from_names(context, ctypes.byref(names), 0)
    if not keymap:
        raise ValueError(f"xkb does not know layout {xkb_name!r}")
    table = {}
    for code in codes.PRINTABLE_KEYS:
        base = _text(keymap, (), (), code)
        shift = _text(keymap, (codes.KEY_LEFTSHIFT,), (), code)
        altgr = _text(keymap, (codes.KEY_RIGHTALT,), (), code)
        locked = _text(keymap, (), (codes.KEY_CAPSLOCK,), code)
        if altgr == base:  # no third level on this key (US Right Alt is a plain Alt)
            altgr = ""
        caps = 1 if base and locked != base and locked == shift else 0
        table[code] = (base, shift, altgr, caps)  # all empty: a dead key
    kpdot = _text(keymap, (), (codes.KEY_NUMLOCK,), codes.KEY_KPDOT) or "."
    return table, kpdot


def render() -> str:
    lines = [
        '"""Keyboard layout tables: evdev key code -> (base, Shift, AltGr, Caps Lock applies).',
        "",
        "Generated from xkeyboard-config by tests/core/keyboard_xkb.py (SCANNERS-AND-HARDWARE.md 1.3,",
        '"Adding a layout"); never edit by hand. "" is a dead key or no character at that level.',
        '``KPDOT`` is the character of the keypad decimal key per layout."""',
        "",
        "LAYOUTS = {",
    ]
    kpdots = {}
    for xkb_name, name in XKB_NAMES.items():
        table, kpdots[name] = xkb_table(xkb_name)
        lines.append(f"    {name!r}: {{")
        for code in sorted(table):
            lines.append(f"        {code}: {table[code]!r},")
        lines.append("    },")
    lines.append("}")
    lines.append("")
    lines.append(f"KPDOT = {kpdots!r}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if not available():
        sys.exit("libxkbcommon.so.0 not found (Debian: apt-get install libxkbcommon0 xkb-data)")
    text = render()  # computed before the file is replaced: fmd_core.keyboard imports it
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
