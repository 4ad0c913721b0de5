"""Scanner calibration and protection (issue 8): every combination inferred; no false warning; no
garbled code sent.

The codes are the valid codes of the decoder's test table (``tests/core/tables/pack_codes.py``),
each typed as a scanner with a given configuration types it (``fmd_core.keyboard.type_text``).
"""

from __future__ import annotations

import pytest
from table_loader import load_table

from fmd_core import decode_scan
from fmd_core.calibration import (
    C1,
    C2,
    CALIBRATION,
    CODES,
    DROPPED,
    HOLD,
    INVERTED,
    LAYOUT_ORDER,
    NORMAL,
    ORDER82,
    PASS,
    ScannerProfile,
    advice,
    blind,
    blind_partners,
    garbles,
    guard,
    infer_keys,
    infer_text,
    is_blocking,
    problems,
)
from fmd_core.keyboard import (
    ALT,
    CSET82,
    CTRL,
    CTRL_LAYOUT,
    DROP,
    EOT,
    GS,
    RS,
    KeyboardError,
    codes,
    decode_keys,
    type_text,
)

# how a scanner sends GS, RS and EOT: (name, type_text options, the method calibration must report)
GS_MODES = {
    "ctrl": ({"control": CTRL}, "ctrl"),
    "ctrl_layout": ({"control": CTRL_LAYOUT}, None),  # same as ctrl where the layout keys coincide
    "alt": ({"control": ALT}, "alt"),
    "substitute": ({"substitutes": {GS: "|", RS: "#", EOT: "$"}}, "substitute:|"),
    "function": (
        {"function_keys": {GS: codes.KEY_DOWN, RS: codes.KEY_F1, EOT: codes.KEY_F1 + 1}},
        "function:108",
    ),
    "dropped": ({"control": DROP}, DROPPED),
}


def _pack_codes():
    module = load_table("pack_codes")
    found = []
    for case in module.CASES:
        if "expect" not in case or set(case) - {"id", "raw", "expect"}:
            continue  # rejected codes, and cases with decoder options
        raw = case["raw"].rstrip("\r\n")
        if raw[:1] == "]":
            prefix, content = raw[:3], raw[3:]
        elif raw.startswith(("[)>", "http")):
            prefix, content = "]d1", raw
        elif raw.isdigit() and len(raw) in (8, 12, 13, 14):
            prefix, content = "]E0", raw
        else:
            prefix, content = "]d2", raw
        if decode_scan(prefix + content).ok:
            found.append((case["id"], prefix, content))
    return found


PACK_CODES = _pack_codes()


def _typed(text, layout, mode, caps=False):
    options, _ = GS_MODES[mode]
    return type_text(text, layout, caps_inverted=caps, **options)


def test_calibration_codes_hold_every_cset82_character_and_the_control_characters():
    assert sorted(ORDER82) == sorted(CSET82)
    assert C1.startswith("]d201" + "0049") and GS in C1 and C1.endswith("91" + ORDER82)
    assert C2.startswith("]d1[)>" + RS + "06" + GS) and C2.endswith(RS + EOT)
    # neither may ever be sent as a pack, even by a terminal without a stored profile
    assert decode_scan(C1).as_dict()["error"] == "missing_batch"
    assert decode_scan(C2).as_dict()["error"] == "missing_batch"


@pytest.mark.parametrize("layout", LAYOUT_ORDER)
def test_inference_is_right_for_every_combination(layout):
    """Every GS mode x Caps Lock x AIM setting, both codes, for one keyboard country."""
    count = 0
    for mode, (_options, method) in GS_MODES.items():
        for caps in (False, True):
            for aim in (True, False):
                for name, code in CODES.items():
                    events = _typed(code if aim else code[3:], layout, mode, caps)
                    found = infer_keys(events)
                    where = f"{layout}/{mode}/caps={caps}/aim={aim}/{name}"
                    assert found is not None, where
                    profile = found.profile
                    assert found.code == name, where
                    if name == "C1":  # C2 holds too few layout-specific keys to tell DE from ES/IT
                        assert profile.layout == layout or layout in profile.equivalent, where
                    assert profile.aim == aim, where
                    assert profile.case == (INVERTED if caps else NORMAL), where
                    assert profile.suffix == "CR", where
                    if method is not None:
                        assert profile.control("GS") == method, (where, profile)
                    count += 1
    assert count == len(GS_MODES) * 2 * 2 * len(CODES)


def test_inference_from_serial_bytes():
    found = infer_text(C1 + "\r\n")
    assert found.code == "C1" and found.profile.control("GS") == "byte" and found.profile.suffix == "CRLF"
    found = infer_text(C2[3:].replace(GS, "|") + "\r")
    assert found.code == "C2" and not found.profile.aim and found.profile.control("GS") == "substitute:|"
    assert infer_text("]d2010340093001234521ABC\r") is None


def test_advice_says_ok_or_exactly_what_to_change_in_three_languages():
    good = ScannerProfile("keyboard", "us", True, NORMAL, {"GS": "ctrl"}, "CR")
    assert advice(good, "en") == ["Scanner OK"] and not is_blocking(good)
    bad = ScannerProfile("keyboard", "de", False, INVERTED, {"GS": DROPPED}, "none")
    english = advice(bad, "en")
    assert (
        english[0].startswith("Scanner inverts upper and lower case") and "CAPS_LOCK_OVERRIDE" in english[0]
    )
    assert any("AIM_ID_ON" in line for line in english)
    assert any("drops the group separator" in line for line in english)
    assert any("German (QWERTZ)" in line for line in english)
    assert is_blocking(bad)
    assert advice(bad, "fr")[0].startswith("Le scanner inverse") and advice(bad, "de")[0].startswith(
        "Scanner vertauscht"
    )
    french_layout = ScannerProfile("keyboard", "fr", True, NORMAL, {"GS": "ctrl"}, "CR")
    assert advice(french_layout, "fr")[0] == "Scanner OK"  # works; US only recommended


def test_profile_round_trips_through_a_dict():
    profile = infer_keys(_typed(C1, "fr", "alt")).profile.merged(infer_keys(_typed(C2, "fr", "alt")).profile)
    assert profile.controls == {"GS": "alt", "RS": "alt", "EOT": "alt"}
    assert ScannerProfile.from_dict(profile.as_dict()) == profile


def test_calibration_codes_are_recognised_in_normal_use_and_never_passed():
    profile = ScannerProfile("keyboard", "us", True, NORMAL, {"GS": "ctrl"}, "CR")
    verdict = guard(_typed(C1, "de", "ctrl"), profile)
    assert verdict.action == CALIBRATION and verdict.calibration.profile.layout == "de"
    assert guard(C2 + "\r", ScannerProfile("serial", "", True, NORMAL, {}, "CR")).action == CALIBRATION


# --- protection --------------------------------------------------------------------------------------

# stored profiles: the recommended US setting, and French and German scanners with other GS modes
PROFILES = [("us", "ctrl"), ("fr", "ctrl_layout"), ("de", "alt")]


def _profile(layout, mode):
    method = {"ctrl": "ctrl", "ctrl_layout": "ctrl_layout", "alt": "alt"}[mode]
    return ScannerProfile("keyboard", layout, True, NORMAL, {"GS": method}, "CR")


@pytest.mark.parametrize(("layout", "mode"), PROFILES)
def test_no_false_warning_for_any_valid_code_under_the_right_configuration(layout, mode):
    profile = _profile(layout, mode)
    warned = []
    typed = 0
    for case_id, prefix, content in PACK_CODES:
        try:
            events = _typed(prefix + content, layout, mode)
        except KeyboardError:
            continue  # a character this keyboard country cannot type (``^`` on German)
        typed += 1
        verdict = guard(events, profile)
        if verdict.action != PASS or verdict.text != prefix + content:
            warned.append((case_id, verdict))
    assert typed > 100
    assert warned == []


def _wrong_configurations(layout):
    """Every configuration a calibrated scanner can drift to and one scan can show: any keyboard
    country not blind to the stored one (a factory reset to US included), any GS mode, Caps Lock on
    or off, AIM on or off; the stored configuration itself excluded. A scanner whose GS mode alone
    changed is not "wrong" (the decoder reads every mode) unless it now drops GS."""
    for wrong_layout in LAYOUT_ORDER:
        if wrong_layout != layout and blind(layout, wrong_layout):
            continue
        # Alt codes read exactly as Ctrl combinations (tables/keyboard_roundtrip.py), so "ctrl" covers both
        for wrong_mode in ("ctrl", "substitute", "dropped"):
            for caps in (False, True):
                for aim in (True, False):
                    if (wrong_layout, caps, aim) != (layout, False, True) or wrong_mode == "dropped":
                        yield wrong_layout, wrong_mode, caps, aim


def test_blind_layout_pairs_are_the_known_ones():
    """Measured over every profile and every decoder-table code (all layouts, Ctrl/Alt/dropped,
    Caps Lock, AIM), garbled codes the guard let through: us 0, fr 0, be 0; de 16 (from es, it),
    es 8 and it 8 (from de), gb 130 (from de, es, it): exactly the blind pairs below."""
    pairs = {
        (stored, other)
        for stored in LAYOUT_ORDER
        for other in LAYOUT_ORDER
        if stored != other and blind(stored, other)
    }
    assert pairs == {
        ("us", "gb"),
        ("gb", "us"),
        ("gb", "de"),
        ("gb", "es"),
        ("gb", "it"),
        ("de", "es"),
        ("de", "it"),
        ("es", "de"),
        ("es", "it"),
        ("it", "de"),
        ("it", "es"),
    }


def test_blind_partners_are_the_blind_countries_that_can_garble_set82_data():
    """Computed from the layout tables: of the blind pairs above, those where some set-82 character
    reads as other set-82 text. A UK scanner behind a US profile garbles nothing silently (its only
    different set-82 character, '"', reads as '@', outside set 82); nor does a US scanner behind a UK
    profile ('"' as '@', '<' as '\\'), nor Spanish and Italian behind each other (identical on set 82)."""
    partners = {layout: blind_partners(layout) for layout in LAYOUT_ORDER}
    assert partners == {
        "us": (),
        "gb": ("de", "es", "it"),
        "fr": (),
        "be": (),
        "de": ("es", "it"),
        "es": ("de",),
        "it": ("de",),
    }
    assert garbles("us", "gb") == [] and garbles("gb", "us") == [] and garbles("es", "it") == []
    assert decode_keys(type_text('"', "gb", suffix=""), "us")[0] == "@" and "@" not in CSET82
    assert ("y", "z") in garbles("de", "es") and ("(", "*") in garbles("gb", "es")
    assert garbles("us", "de") != [] and not blind("us", "de")  # garbles, but one scan shows it
    for layout in LAYOUT_ORDER:
        for other in partners[layout]:
            assert blind(layout, other) and garbles(layout, other)


def test_a_uk_scanner_behind_a_us_profile_never_sends_a_code_with_a_quote_garbled():
    profile = _profile("us", "ctrl")
    code = "]d2010340093001234521A\"B" + GS + "10LOT1" + GS + "17270630"
    assert decode_scan(code).ok
    verdict = guard(_typed(code, "gb", "ctrl"), profile)
    assert verdict.action == HOLD and verdict.reason == "settings_changed"
    assert ("gb", NORMAL, True) in verdict.alternatives


@pytest.mark.parametrize("layout", ["gb", "de", "es", "it"])
def test_a_country_with_blind_partners_is_ok_with_advice_to_set_us(layout):
    profile = ScannerProfile("keyboard", layout, True, NORMAL, {"GS": "ctrl"}, "CR")
    assert [problem for problem, _ in problems(profile)] == ["layout_blind"]
    assert not is_blocking(profile)
    partners = "/".join(other.upper() for other in blind_partners(layout))
    english = advice(profile, "en")
    assert english[0] == "Scanner OK" and len(english) == 2
    assert "would go unnoticed" in english[1] and partners in english[1]
    assert english[1].endswith("set the scanner's keyboard to US (scan 'KEYBOARD_US' on the set-up sheet)")
    french = advice(profile, "fr")
    assert french[0] == "Scanner OK" and "régler le clavier du scanner en US" in french[1]
    assert "KEYBOARD_US" in french[1]
    german = advice(profile, "de")
    assert german[0] == "Scanner OK" and "Scanner-Tastatur auf US stellen" in german[1]
    assert "KEYBOARD_US" in german[1]


@pytest.mark.parametrize("layout", ["us", "fr", "be"])
def test_a_country_without_blind_partners_keeps_its_advice(layout):
    profile = ScannerProfile("keyboard", layout, True, NORMAL, {"GS": "ctrl"}, "CR")
    lines = advice(profile, "en")
    assert lines[0] == "Scanner OK" and not any("unnoticed" in line for line in lines)
    if layout == "us":
        assert lines == ["Scanner OK"]  # the UK partner cannot garble set-82 data: plain OK
    else:
        country = {"fr": "French (AZERTY)", "be": "Belgian (AZERTY)"}[layout]
        assert lines[1:] == [f"Scanner keyboard is {country}: it works; US is recommended"]


@pytest.mark.parametrize(("layout", "mode"), PROFILES)
def test_no_garbled_code_is_sent_under_any_wrong_configuration(layout, mode):
    profile = _profile(layout, mode)
    garbled = []
    scans = held = 0
    for wrong_layout, wrong_mode, caps, aim in _wrong_configurations(layout):
        for case_id, prefix, content in PACK_CODES:
            try:
                events = _typed(prefix + content if aim else content, wrong_layout, wrong_mode, caps)
            except KeyboardError:
                continue  # that scanner cannot type this code at all
            scans += 1
            verdict = guard(events, profile)
            held += verdict.action == HOLD
            if verdict.action != PASS or verdict.text is None:
                continue
            sent = decode_scan(verdict.text)
            if sent.ok and sent.as_dict() != decode_scan(prefix + content).as_dict():
                garbled.append((wrong_layout, wrong_mode, caps, aim, case_id, verdict.text))
    assert scans > 3000
    assert garbled == []
    assert held > scans // 2  # most wrong scans are stopped with a clear "settings changed"


def test_a_german_scanner_scanned_with_a_us_profile_is_held_as_settings_changed():
    profile = _profile("us", "ctrl")
    _case, prefix, content = next(
        code for code in PACK_CODES if "y" in code[2].lower() or "z" in code[2].lower()
    )
    verdict = guard(_typed(prefix + content, "de", "ctrl"), profile)
    assert verdict.action == HOLD and verdict.reason == "settings_changed"
    assert ("de", NORMAL, True) in verdict.alternatives


def test_with_a_dropped_separator_no_gs1_code_with_two_variable_length_elements_is_sent():
    profile = ScannerProfile("keyboard", "us", True, NORMAL, {"GS": DROPPED}, "CR")
    sent_gs1 = []
    for case_id, prefix, content in PACK_CODES:
        verdict = guard(_typed(prefix + content, "us", "dropped"), profile)
        result = decode_scan(prefix + content)
        sent = verdict.action == PASS and decode_scan(verdict.text or "").ok
        if sent and result.scheme == "GS1" and result.serial is not None and result.batch is not None:
            sent_gs1.append(case_id)
    assert sent_gs1 == []
    envelope = next(code for code in PACK_CODES if code[2].startswith("[)>" + RS + "05"))
    assert guard(_typed(envelope[1] + envelope[2], "us", "dropped"), profile).reason == "gs_dropped"
    linear = next(code for code in PACK_CODES if code[1] == "]E0")
    assert guard(_typed(linear[1] + linear[2], "us", "dropped"), profile).action == PASS


def test_a_profile_that_fails_calibration_holds_every_scan():
    profile = ScannerProfile("keyboard", "us", False, NORMAL, {"GS": "ctrl"}, "CR")
    _case, prefix, content = PACK_CODES[0]
    verdict = guard(_typed(content, "us", "ctrl"), profile)
    assert verdict.action == HOLD and verdict.reason == "calibration_failed"


def test_portable_calibration_table():
    """The sample that tests/core/micropython_run.py also replays under MicroPython."""
    module = load_table("calibration")
    assert [error for error in map(module.check, module.CASES) if error] == []
