"""``fmd-terminal calibrate`` (issue 8, item 4): a person at a desk scans the calibration codes."""

from __future__ import annotations

import json

import pytest

from fmd_core.calibration import C1, C2, ScannerProfile
from fmd_core.keyboard import ALT, CTRL, type_text
from fmd_terminal import cli
from fmd_terminal.commands.calibrate import load_profile
from fmd_terminal.errors import StorageError


def test_recorded_keys_of_a_german_scanner_with_caps_lock_trouble(tmp_path, capsys):
    recording = tmp_path / "c1.jsonl"
    events = type_text(C1, "de", ALT, caps_inverted=True)
    recording.write_text("\n".join(json.dumps({"type": 1, "code": c, "value": v}) for c, v in events) + "\n")
    profile_path = tmp_path / "state" / "scanner-profile.json"
    status = cli.main(["calibrate", "--keys", str(recording), "--profile", str(profile_path), "--lang", "en"])
    out = capsys.readouterr().out
    assert status == 1  # case inversion blocks scanning until fixed
    assert "keyboard German (QWERTZ)" in out and "GS Alt + numeric keypad" in out and "case inverted (Caps Lock)" in out
    assert "Scanner inverts upper and lower case" in out and "CAPS_LOCK_OVERRIDE" in out
    stored = load_profile(str(profile_path))
    assert stored.layout == "de" and stored.case == "inverted" and stored.control("GS") == "alt"


def test_serial_scans_of_both_codes_merge_and_say_ok_in_french(tmp_path, capsys):
    script = tmp_path / "scans.jsonl"
    script.write_text("\n".join(json.dumps({"raw": raw}) for raw in ("]d2NOT-A-CODE", C1, C2)) + "\n")
    profile_path = tmp_path / "p.json"
    status = cli.main(["calibrate", "--scanner", f"script://{script}", "--profile", str(profile_path)])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.splitlines()[-1] == "Scanner OK"
    assert "Ce n'est pas un code de calibrage" in captured.err
    assert load_profile(str(profile_path)).controls == {"GS": "byte", "RS": "byte", "EOT": "byte"}


def test_a_scan_that_is_no_calibration_code_reaches_no_profile(tmp_path, capsys):
    profile_path = tmp_path / "p.json"
    status = cli.main(
        [
            "calibrate",
            "--text",
            "]d201034009300123452112\\x1d10AB",
            "--profile",
            str(profile_path),
            "--lang",
            "de",
        ]
    )
    assert status == 1
    assert "Kein Kalibriercode gelesen" in capsys.readouterr().out
    assert not profile_path.exists()


def test_print_codes_names_control_characters(capsys):
    assert cli.main(["calibrate", "--print-codes"]) == 0
    out = capsys.readouterr().out
    assert "<GS>91AaQqWwZzYyMm" in out and out.rstrip().endswith("<RS><EOT>")


def test_profile_file_errors_are_storage_errors(tmp_path):
    assert load_profile(str(tmp_path / "absent.json")) is None
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(StorageError, match="cannot be read"):
        load_profile(str(broken))
    broken.write_text("{}")
    with pytest.raises(StorageError, match="not a scanner profile"):
        load_profile(str(broken))
    good = ScannerProfile("keyboard", "fr", True, "normal", {"GS": "ctrl"}, "CR")
    (tmp_path / "good.json").write_text(json.dumps(good.as_dict()))
    assert load_profile(str(tmp_path / "good.json")) == good


def test_a_bad_key_recording_is_a_configuration_error(tmp_path, capsys):
    recording = tmp_path / "bad.jsonl"
    recording.write_text('["x"]\n')
    assert cli.main(["calibrate", "--keys", str(recording), "--profile", str(tmp_path / "p.json")]) == 3
    assert "Ligne 1 : [sec, usec, type, code, valeur] ou [code, valeur] attendu" in capsys.readouterr().err


@pytest.mark.parametrize(("layout", "lang", "advice"), [
    ("gb", "en", "Scanner keyboard is UK: it works, but a change to DE/ES/IT would go unnoticed"),
    ("de", "fr", "Clavier du scanner : allemand (QWERTZ). Cela fonctionne, mais un passage en ES/IT"),
    ("es", "de", "Scanner-Tastatur ist Spanisch oder Italienisch (gleich getippt): funktioniert, aber ein Wechsel auf DE bliebe unbemerkt"),
])
def test_a_keyboard_country_with_blind_partners_prints_ok_and_advice_to_set_us(tmp_path, capsys, layout, lang, advice):
    recording = tmp_path / "c1.jsonl"
    recording.write_text("\n".join(json.dumps([c, v]) for c, v in type_text(C1, layout, CTRL)) + "\n")
    profile_path = tmp_path / "p.json"
    status = cli.main(["calibrate", "--keys", str(recording), "--profile", str(profile_path), "--lang", lang])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0  # it works: advice, nothing blocks scanning
    assert lines[-2] == "Scanner OK"
    assert lines[-1].startswith(advice) and "KEYBOARD_US" in lines[-1]
    assert load_profile(str(profile_path)).layout == layout


def test_a_us_scanner_prints_a_plain_ok(tmp_path, capsys):
    recording = tmp_path / "c1.jsonl"
    recording.write_text("\n".join(json.dumps([c, v]) for c, v in type_text(C1, "us", CTRL)) + "\n")
    status = cli.main(["calibrate", "--keys", str(recording), "--profile", str(tmp_path / "p.json"), "--lang", "en"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and lines[-1] == "Scanner OK" and len(lines) == 2  # the code read, then OK


def test_without_lang_calibrate_speaks_fmd_lang(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FMD_LANG", "de")
    profile_path = tmp_path / "p.json"
    assert cli.main(["calibrate", "--text", "]d201034009300123452112\\x1d10AB", "--profile", str(profile_path)]) == 1
    assert "Kein Kalibriercode gelesen" in capsys.readouterr().out
