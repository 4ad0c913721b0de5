"""Keyboard decoding and scan framing: the case tables, the xkb source of the layouts, MicroPython."""

from __future__ import annotations

import pathlib
import sys

import pytest
from table_loader import load_table

from fmd_core.keyboard import CSET82, KeyboardError, decode_keys, get_layout, type_text
from fmd_core.keyboard.layouts import KPDOT, LAYOUTS

TABLE_NAMES = ("keyboard_roundtrip", "keyboard_events", "keyboard_framing")


def _load(name: str):
    return load_table(name)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_table(name):
    """Every case of the table (tests/core/test_tables.py also runs them one by one)."""
    module = _load(name)
    ids = [case["id"] for case in module.CASES]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    failures = [error for error in map(module.check, module.CASES) if error]
    assert failures == []


def test_layout_tables_agree_with_xkb():
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    try:
        import keyboard_xkb
    finally:
        sys.path.pop(0)
    if not keyboard_xkb.available():
        pytest.skip("libxkbcommon.so.0 is not installed")
    for xkb_name, name in keyboard_xkb.XKB_NAMES.items():
        table, kpdot = keyboard_xkb.xkb_table(xkb_name)
        assert LAYOUTS[name] == table, name
        assert KPDOT[name] == kpdot, name


def test_us_scanner_read_as_german_keeps_digits_and_swaps_y_z():
    """SCANNERS-AND-HARDWARE.md 1.6: the dangerous pair; the AIM prefix is the canary."""
    text, _ = decode_keys(type_text("]d20123456789yz", "us", suffix=""), "de")
    assert text == "+d20123456789zy"


def test_french_scanner_read_as_us_garbles_digits_and_fails_on_altgr():
    text, _ = decode_keys(type_text("d2010", "fr", suffix=""), "us")
    assert text == "d@)!)"
    text, error = decode_keys(type_text("]", "fr", suffix=""), "us")
    assert text is None and "only keypad digits" in error  # AltGr is a plain Alt on US


def test_every_layout_garbles_another_somewhere():
    """No two supported layouts type CSET 82 the same way, except Spanish and Italian (identical there)."""
    identical = set()
    for a in LAYOUTS:
        for b in LAYOUTS:
            if a < b and decode_keys(type_text(CSET82, a, suffix=""), b)[0] == CSET82:
                identical.add((a, b))
    assert identical == {("es", "it")}


def test_untypeable_character_and_unknown_layout_are_refused():
    with pytest.raises(KeyboardError, match="cannot be typed"):
        type_text("^", "de")
    with pytest.raises(KeyboardError, match="unknown keyboard layout 'xx'"):
        get_layout("xx")
    with pytest.raises(KeyboardError, match="control-character mode"):
        type_text("\x1d", "us", control="morse")


# --- properties ---------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fmd_core.framing import SCAN, ByteFramer, KeyFramer  # noqa: E402
from fmd_core.keyboard import ALT, CTRL, CTRL_LAYOUT, EOT, GS, RS, codes  # noqa: E402

TEXTS = st.text(alphabet=CSET82 + "]" + GS + RS + EOT, min_size=3, max_size=80)


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.sampled_from(sorted(LAYOUTS)), st.sampled_from([CTRL, CTRL_LAYOUT, ALT]), st.booleans())
def test_any_text_typed_on_any_layout_decodes_back(text, layout, control, caps):
    events = type_text(text, layout, control, caps_inverted=caps)
    if caps:
        events = [(codes.KEY_CAPSLOCK, codes.DOWN), (codes.KEY_CAPSLOCK, codes.UP)] + events
    assert decode_keys(events, layout) == (text + "\r", "")


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4), st.sampled_from(sorted(LAYOUTS)), st.integers(0, 150))
def test_scans_typed_back_to_back_frame_exactly_whatever_the_key_timing(texts, layout, step_ms):
    framer = KeyFramer(layout, gap_ms=200)
    frames = []
    t = 0
    for text in texts:
        for code, value in type_text(text, layout):
            frames.extend(framer.push(codes.EV_KEY, code, value, t))
            t += step_ms
    frames.extend(framer.expire(t + 1000))
    assert [(frame.kind, frame.text) for frame in frames] == [(SCAN, text) for text in texts]


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4), st.sampled_from(["\r", "\n", "\r\n"]), st.data())
def test_byte_scans_split_anywhere_frame_exactly(texts, suffix, data):
    stream = "".join(text + suffix for text in texts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    framer = ByteFramer(gap_ms=200)
    frames = []
    start = 0
    for t, cut in enumerate(cuts + [len(stream)]):
        frames.extend(framer.push(stream[start:cut], t))
        start = cut
    assert [frame.text for frame in frames] == texts
