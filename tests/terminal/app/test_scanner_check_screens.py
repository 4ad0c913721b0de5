"""Calibration results and held scans on the screen (issue 8): the presenter, and the main loop over the
twins with the scan guard in front of the scripted scanner."""

import pytest
from test_terminal_twins import Rig, pack_code

from fmd_core import calibration
from fmd_core.calibration import C1
from fmd_core.flow import Flow, Notice
from fmd_core.outcomes import of_scanner_hold
from fmd_terminal.i18n import LANGUAGES, Translator
from fmd_terminal.presenter import LINE_CHARS, MAX_LINES, Presenter
from fmd_terminal.scanners import SCAN, ScanEvent
from fmd_terminal.scanners.guarded import GuardedScanSource, load_profile
from fmd_terminal.scanners.script import ScriptedScanSource
from fmd_terminal.verification.scripted import ScriptedVerificationClient, success_answer


def held_verdict(reason, problems):
    return Flow(mode="dispense").held("raw", reason, problems, 0)[0].payload


def test_scanner_ok_is_a_notice_without_light_or_fault_title():
    p = Presenter(Translator("en"))
    model = p.notice(Notice("scanner_ok", "dispense", signal="ready"))
    assert (model.light, model.headline, model.lines) == (None, "Scanner OK", ())
    advised = Presenter(Translator("fr")).notice(
        Notice("scanner_ok", "verify", problems=(("layout_not_us", {"layout": "French (AZERTY)"}),)))
    assert (advised.headline, advised.lines) == ("Lecteur OK", ("Clavier US conseillé",))  # advice: no code


def test_a_failed_calibration_names_the_change_then_the_set_up_sheet_code():
    model = Presenter(Translator("en")).notice(Notice("scanner_adjust", "dispense", problems=(("case_inverted", {}),)))
    assert (model.light, model.headline) == (None, "Change scanner settings")
    assert model.lines == ("Caps Lock override on", "CAPS_LOCK_OVERRIDE")


def test_a_held_scan_of_a_changed_scanner_says_scan_the_calibration_code_then_what_changed():
    model = Presenter(Translator("en")).verdict(held_verdict("settings_changed", (("aim_off", {}),)))
    assert (model.light, model.headline) == ("amber", "Scanner settings changed")
    # a two-row headline keeps its two rows: two detail lines, the set-up code left for recalibration
    assert model.lines == ("Scan calibration code", "AIM ID prefix on")
    german = Presenter(Translator("de")).verdict(
        held_verdict("settings_changed", (("keyboard_changed", {"layout": "DE"}),)))
    assert (german.headline, german.lines) == (
        "Scanner-Einstellungen geändert", ("Kalibriercode scannen", "Tastatur war DE"))


def test_a_held_gs1_code_of_a_scanner_that_drops_gs_says_what_to_change():
    model = Presenter(Translator("fr")).verdict(held_verdict("gs_dropped", (("gs_dropped", {}),)))
    assert (model.light, model.headline) == ("amber", "Le lecteur supprime le GS")
    assert model.lines[0] == "Activer car. contrôle" and model.lines[1].startswith("CONTROL_CHARACTERS")
    assert all(len(line) <= LINE_CHARS for line in model.lines)


def test_many_problems_keep_to_three_lines_changes_first():
    problems = (("case_inverted", {}), ("aim_off", {}), ("gs_dropped", {}), ("suffix_missing", {}))
    model = Presenter(Translator("fr")).verdict(held_verdict("calibration_failed", problems))
    assert model.headline == "Lecteur mal réglé"  # one row: three detail lines
    assert model.lines == ("Ignorer Verr. Maj", "Activer préfixe AIM", "Activer car. contrôle")
    english = Presenter(Translator("en")).verdict(held_verdict("calibration_failed", problems))
    assert (english.headline, english.lines) == ("Scanner settings wrong", ("Caps Lock override on", "AIM ID prefix on"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_change_line_is_translated_and_fits_uncut(lang):
    p = Presenter(Translator(lang))
    for problem in list(calibration.PROBLEMS) + ["keyboard_changed"]:
        (line,) = p.scanner_lines(((problem, {"layout": "FR", "char": "%"}),))[:1]
        assert line != problem and len(line) <= LINE_CHARS and "…" not in line, (problem, line)
    for reason in ("settings_changed", "gs_dropped", "calibration_failed", "not_calibrated", "other"):
        headline = p.headline(held_verdict(reason, ()))
        assert headline != of_scanner_hold(reason).message_id and len(headline) <= 2 * LINE_CHARS
    assert len(p.scanner_lines((), recalibrate=True)) <= MAX_LINES


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_headline_is_never_cut_on_the_oled(lang):
    """The renderer gives the headline one 21-character row under three detail lines, two under two."""
    p = Presenter(Translator(lang))
    problems = (("case_inverted", {}), ("aim_off", {}))
    models = [p.verdict(held_verdict(reason, problems)) for reason in ("settings_changed", "gs_dropped",
                                                                        "calibration_failed", "not_calibrated")]
    models += [p.notice(Flow().calibrated(problems, 0)[0].payload), p.notice(Flow().calibrated((), 0)[0].payload)]
    for model in models:
        rows = 1 if len(model.lines) == MAX_LINES else 2
        assert len(model.headline) <= rows * LINE_CHARS, (model.headline, model.lines)


def test_the_main_loop_shows_calibration_holds_a_changed_scanner_and_sends_only_good_scans(tmp_path):
    """C1 through the guard: "Scanner OK" (a chirp, no light); the same scanner then loses its AIM
    prefix: the scan is held, amber, journaled, never recorded or sent; a good scan goes through, green."""
    profile = tmp_path / "scanner-profile.json"
    script = ScriptedScanSource([ScanEvent(SCAN, text) for text in (C1, pack_code()[3:], pack_code())])
    rig = Rig([], ScriptedVerificationClient(default=success_answer), tmp_path, lang="en",
              scanner=GuardedScanSource(script, str(profile), lang="en"))
    events = rig.run()
    assert load_profile(str(profile)).aim is True
    ok = [m for m in rig.screen.models if m.headline == "Scanner OK"]
    assert len(ok) == 1 and ok[0].light is None
    held = [m for m in rig.screen.models if m.headline == "Scanner settings changed"]
    assert len(held) == 1 and held[0].light == "amber"
    assert held[0].lines == ("Scan calibration code", "AIM ID prefix on")
    assert not any(m.headline == "Scanner problem" for m in rig.screen.models)
    assert [(e["event"], e["outcome"], e["light"], e["recorded"]) for e in events] == [
        ("scan", "scanner_settings", "amber", False), ("scan", "decommissioned", "green", True)]
    assert events[0]["raw"] == pack_code()[3:] and events[0]["pack"] is None
    assert rig.indicators.lights == ["amber", "green"]  # the held scan is never green
    assert rig.indicators.signals[:2] == ["ready", "ready"]  # start-up, then the Scanner OK chirp
    (call,) = rig.service.calls_to("change_state")  # only the good scan reached the service
    assert call.pack.serial == "SER0001"


@pytest.mark.parametrize(("lang", "headline", "tip"), [
    ("fr", "Lecteur OK", "Conseil : clavier US"),
    ("en", "Scanner OK", "Tip: set keyboard US"),
    ("de", "Scanner OK", "Tipp: Tastatur US"),
])
def test_a_keyboard_country_with_blind_partners_is_ok_with_a_tip_to_set_us(lang, headline, tip):
    """A German scanner works, but a drift to Spanish or Italian would swap y/z unseen: "Scanner OK"
    (a ready chirp, no light) with the tip and the set-up sheet code; a US scanner is plainly OK."""
    german = calibration.ScannerProfile("keyboard", "de", True, "normal", {"GS": "ctrl"}, "CR")
    (effect,) = Flow(mode="dispense").calibrated(calibration.problems(german), 0)
    assert effect.payload.message_id == "scanner_ok" and effect.payload.signal == "ready"
    model = Presenter(Translator(lang)).notice(effect.payload)
    assert (model.light, model.headline, model.lines) == (None, headline, (tip, "KEYBOARD_US"))
    assert all(len(line) <= LINE_CHARS for line in model.lines)
    us = calibration.ScannerProfile("keyboard", "us", True, "normal", {"GS": "ctrl"}, "CR")
    (plain,) = Flow(mode="dispense").calibrated(calibration.problems(us), 0)
    assert Presenter(Translator(lang)).notice(plain.payload).lines == ()
