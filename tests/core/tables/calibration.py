"""Calibration inference and scan protection, a portable sample (issue 8; the full sweeps over every
combination and every decoder-table code are in tests/core/test_calibration.py).

An inference case: ``{"id", "code", "layout", "control", "caps", "aim", "expect": {profile fields}}``.
A guard case: ``{"id", "profile": {...}, "typed": [layout, control, caps, text], "action", "reason"}``.
A blind-partner case: ``{"id", "partners_of": layout, "expect": (layouts, in LAYOUT_ORDER)}``.
An advice case: ``{"id", "profile": {...}, "lang", "problems": [names], "advice": [line starts]}``.
"""

from fmd_core.calibration import (
    C1,
    C2,
    CODES,
    ScannerProfile,
    advice,
    blind_partners,
    guard,
    infer_keys,
    is_blocking,
    problems,
)
from fmd_core.keyboard import ALT, CTRL, DROP, GS, type_text

PACK = "]d2010340093001234521Yz9" + GS + "10LOT1" + GS + "17270630"
US = {
    "interface": "keyboard",
    "layout": "us",
    "aim": True,
    "case": "normal",
    "controls": {"GS": "ctrl"},
    "suffix": "CR",
}


def _profile(**changes):
    data = dict(US)
    data.update(changes)
    return data


CASES = [
    {
        "id": "us-ctrl",
        "code": "C1",
        "layout": "us",
        "control": CTRL,
        "caps": False,
        "aim": True,
        "expect": US,
    },
    {
        "id": "fr-alt-caps",
        "code": "C1",
        "layout": "fr",
        "control": ALT,
        "caps": True,
        "aim": True,
        "expect": _profile(layout="fr", case="inverted", controls={"GS": "alt"}),
    },
    {
        "id": "de-dropped-no-aim",
        "code": "C1",
        "layout": "de",
        "control": DROP,
        "caps": False,
        "aim": False,
        "expect": _profile(layout="de", aim=False, controls={"GS": "dropped"}),
    },
    {
        "id": "be-c2-ctrl",
        "code": "C2",
        "layout": "be",
        "control": CTRL,
        "caps": False,
        "aim": True,
        "expect": _profile(layout="be", controls={"GS": "ctrl", "RS": "ctrl", "EOT": "ctrl"}),
    },
    {"id": "guard-pass", "profile": US, "typed": ["us", CTRL, False, PACK], "action": "pass", "reason": ""},
    {
        "id": "guard-de-scanner",
        "profile": US,
        "typed": ["de", CTRL, False, PACK],
        "action": "hold",
        "reason": "settings_changed",
    },
    {
        "id": "guard-caps",
        "profile": US,
        "typed": ["us", CTRL, True, PACK],
        "action": "hold",
        "reason": "settings_changed",
    },
    {
        "id": "guard-no-aim",
        "profile": US,
        "typed": ["us", CTRL, False, PACK[3:]],
        "action": "hold",
        "reason": "settings_changed",
    },
    {
        "id": "guard-dropped",
        "profile": _profile(controls={"GS": "dropped"}),
        "typed": ["us", DROP, False, PACK],
        "action": "hold",
        "reason": "gs_dropped",
    },
    {
        "id": "guard-calibration",
        "profile": US,
        "typed": ["fr", CTRL, False, C1],
        "action": "calibration",
        "reason": "",
    },
]


CASES += [
    {"id": "partners-us", "partners_of": "us", "expect": ()},  # UK types '"' as '@': outside set 82
    {"id": "partners-gb", "partners_of": "gb", "expect": ("de", "es", "it")},
    {"id": "partners-fr", "partners_of": "fr", "expect": ()},
    {"id": "partners-de", "partners_of": "de", "expect": ("es", "it")},
    {"id": "partners-es", "partners_of": "es", "expect": ("de",)},
    {"id": "partners-it", "partners_of": "it", "expect": ("de",)},
    {"id": "advice-us-plain-ok", "profile": US, "lang": "en", "problems": [], "advice": ["Scanner OK"]},
    {
        "id": "advice-de-blind",
        "profile": _profile(layout="de"),
        "lang": "de",
        "problems": ["layout_blind"],
        "advice": ["Scanner OK", "Scanner-Tastatur ist Deutsch (QWERTZ): funktioniert, aber ein Wechsel auf ES/IT"],
    },
    {
        "id": "advice-gb-blind",
        "profile": _profile(layout="gb"),
        "lang": "fr",
        "problems": ["layout_blind"],
        "advice": ["Scanner OK", "Clavier du scanner : britannique (UK). Cela fonctionne, mais un passage en DE/ES/IT"],
    },
    {
        "id": "advice-fr-not-us",
        "profile": _profile(layout="fr"),
        "lang": "en",
        "problems": ["layout_not_us"],
        "advice": ["Scanner OK", "Scanner keyboard is French (AZERTY): it works; US is recommended"],
    },
]


# Spanish and Italian type every set-82 character alike: name both, never guess one (issue 18).
CASES += [
    {
        "id": "advice-es-it-typed-alike",
        "profile": _profile(layout="es", equivalent=["it"]),
        "lang": "en",
        "problems": ["layout_blind"],
        "advice": ["Scanner OK", "Scanner keyboard is Spanish or Italian (typed alike): it works, but a change to DE"],
    },
    {
        "id": "advice-es-it-typed-alike-de",
        "profile": _profile(layout="it", equivalent=["es"]),
        "lang": "de",
        "problems": ["layout_blind"],
        "advice": ["Scanner OK", "Scanner-Tastatur ist Italienisch oder Spanisch (gleich getippt)"],
    },
    {
        "id": "advice-es-it-typed-alike-fr",
        "profile": _profile(layout="es", equivalent=["it"]),
        "lang": "fr",
        "problems": ["layout_blind"],
        "advice": ["Scanner OK", "Clavier du scanner : espagnol ou italien (saisis à l'identique)"],
    },
]
# C2 alone reads German, Spanish and Italian alike but they type set 82 differently: no country is
# known (not "Scanner OK", nothing passes) until C1 is scanned.
for _layout in ("it", "de", "es"):
    CASES.append(
        {"id": "c2-alone-" + _layout, "c2_alone": _layout, "problems": ["layout_undetermined"], "lang": "en"}
    )
CASES.append({"id": "c1-it-knows", "c1_layout": "it", "problems": ["layout_blind"], "lang": "en"})


def _check_alone(case):
    code, layout = (C2, case["c2_alone"]) if "c2_alone" in case else (C1, case["c1_layout"])
    found = infer_keys(type_text(code, layout, CTRL))
    names = [problem for problem, _parameters in problems(found.profile)]
    if names != case["problems"]:
        return "{}: problems {!r}, expected {!r}".format(case["id"], names, case["problems"])
    lines = advice(found.profile, case["lang"])
    if ("c2_alone" in case) == (lines[0] == "Scanner OK"):
        return "{}: advice {!r}".format(case["id"], lines)
    if "c2_alone" in case and not is_blocking(found.profile):
        return "{}: an undetermined keyboard country must hold scans".format(case["id"])
    return None


def _check_advice(case):
    profile = ScannerProfile.from_dict(case["profile"])
    names = [problem for problem, _parameters in problems(profile)]
    if names != case["problems"]:
        return "{}: problems {!r}, expected {!r}".format(case["id"], names, case["problems"])
    lines = advice(profile, case["lang"])
    starts = case["advice"]
    if len(lines) != len(starts) or [line[: len(start)] for line, start in zip(lines, starts)] != starts:
        return "{}: advice {!r}, expected lines starting {!r}".format(case["id"], lines, starts)
    return None


def check(case):
    if "c2_alone" in case or "c1_layout" in case:
        return _check_alone(case)
    if "partners_of" in case:
        got = blind_partners(case["partners_of"])
        if got != case["expect"]:
            return "{}: blind partners {!r}, expected {!r}".format(case["id"], got, case["expect"])
        return None
    if "advice" in case:
        return _check_advice(case)
    if "typed" in case:
        layout, control, caps, text = case["typed"]
        verdict = guard(
            type_text(text, layout, control, caps_inverted=caps), ScannerProfile.from_dict(case["profile"])
        )
        if (verdict.action, verdict.reason) != (case["action"], case["reason"]):
            return "{}: expected {} {}, got {!r}".format(case["id"], case["action"], case["reason"], verdict)
        return None
    code = CODES[case["code"]]
    events = type_text(
        code if case["aim"] else code[3:], case["layout"], case["control"], caps_inverted=case["caps"]
    )
    found = infer_keys(events)
    if found is None:
        return "{}: not recognised as {}".format(case["id"], case["code"])
    got = found.profile.as_dict()
    for key in case["expect"]:
        if got[key] != case["expect"][key]:
            return "{}: {} expected {!r}, inferred {!r}".format(
                case["id"], key, case["expect"][key], got[key]
            )
    if found.code != case["code"] or (C1 if found.code == "C1" else C2) != code:
        return "{}: recognised as {}".format(case["id"], found.code)
    return None
