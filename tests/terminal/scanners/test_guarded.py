"""The guarded scan source: the stored profile applied to every scan (issue 8, items 2 and 3)."""

from __future__ import annotations

from scanner_doubles import FakeClock, PipeEventSource
from test_evdev_keyboard import NAME, Plug, next_event

from fmd_core.calibration import C1, C2
from fmd_core.keyboard import GS
from fmd_terminal.scanners import CALIBRATED, FAULT, MODE, SCAN, ScanEvent
from fmd_terminal.scanners.evdev_keyboard import EvdevScanSource
from fmd_terminal.scanners.guarded import GuardedScanSource, load_profile
from fmd_terminal.scanners.script import ScriptedScanSource

PACK = "]d2010340093001234521Yz9" + GS + "10LOT1" + GS + "17270630"


def keyboard(tmp_path, layout="us"):
    device = PipeEventSource()
    plug = Plug(tmp_path, [device])
    source = EvdevScanSource(
        NAME, layout=layout, clock_ns=FakeClock(), open_device=plug.open, input_dir=str(plug.input_dir)
    ).start()
    return device, source


def test_calibration_then_scans_read_with_the_found_country_and_a_changed_scanner_held(tmp_path):
    device, source = keyboard(tmp_path, layout="us")  # configured US, but the scanner is German
    profile_path = tmp_path / "state" / "scanner-profile.json"
    guarded = GuardedScanSource(source, str(profile_path), lang="en")
    try:
        t = device.type(C1, "de", t0_ms=5000)
        reply = next_event(guarded, FAULT)
        assert reply.text.startswith("Scanner OK") and "German" in reply.text
        # German works, but a drift to Spanish or Italian would swap y/z unseen: the tip is to set US
        assert (reply.check.reason, reply.check.problems) == (
            CALIBRATED,
            (("layout_blind", {"layout": "German (QWERTZ)", "partners": "ES/IT"}),),
        )
        assert "would go unnoticed" in reply.text and "KEYBOARD_US" in reply.text
        assert load_profile(str(profile_path)).layout == "de"
        t = device.type(PACK, "de", t0_ms=t + 1000)
        assert next_event(guarded, SCAN).text == PACK  # read as German from now on, y and z right
        device.type(PACK, "us", t0_ms=t + 1000)  # someone resets the scanner to US
        held = next_event(guarded, FAULT)
        assert held.text == "Scanner settings changed: scan the calibration code"
        # for the screen: why, what seems changed (no longer the German keyboard), the text as read
        assert (held.check.reason, held.check.problems) == (
            "settings_changed",
            (("keyboard_changed", {"layout": "DE"}),),
        )
        assert held.check.raw is not None and held.check.raw != PACK
    finally:
        guarded.close()


def test_c2_adds_rs_and_eot_and_caps_trouble_blocks_scans(tmp_path):
    device, source = keyboard(tmp_path)
    profile_path = tmp_path / "p.json"
    guarded = GuardedScanSource(source, str(profile_path), lang="fr")
    try:
        t = device.type(C1, "us", t0_ms=5000)
        assert next_event(guarded, FAULT).text == "Scanner OK"
        t = device.type(C2, "us", t0_ms=t + 1000, control="alt")
        assert next_event(guarded, FAULT).text == "Scanner OK"
        assert load_profile(str(profile_path)).controls == {
            "GS": "alt",
            "RS": "alt",
            "EOT": "alt",
        }  # the latest wins
        t = device.type(C1, "us", t0_ms=t + 1000, caps_inverted=True)
        assert "Verr. Maj" in next_event(guarded, FAULT).text
        device.type(PACK, "us", t0_ms=t + 1000)
        assert "Verr. Maj" in next_event(guarded, FAULT).text  # held until the scanner is fixed
    finally:
        guarded.close()


def test_without_a_profile_scans_pass_and_calibration_codes_are_still_caught(tmp_path):
    script = ScriptedScanSource(
        [ScanEvent(SCAN, PACK), ScanEvent(MODE, "verify"), ScanEvent(SCAN, C1), ScanEvent(SCAN, PACK[3:])]
    )
    guarded = GuardedScanSource(script, str(tmp_path / "p.json"), lang="de")
    assert guarded.read(0).text == PACK
    assert guarded.read(0).kind == MODE
    assert guarded.read(0).text == "Scanner OK"
    held = guarded.read(0)  # the serial scanner was calibrated with AIM on; now it sends none
    assert held.kind == FAULT and held.text == "Scanner-Einstellungen geändert: Kalibriercode scannen"
    assert (held.check.reason, held.check.problems, held.check.raw) == (
        "settings_changed",
        (("aim_off", {}),),
        PACK[3:],
    )


def test_require_calibration_holds_scans_until_calibrated(tmp_path):
    script = ScriptedScanSource([ScanEvent(SCAN, PACK), ScanEvent(SCAN, C1 + "\r"), ScanEvent(SCAN, PACK)])
    guarded = GuardedScanSource(script, str(tmp_path / "p.json"), lang="en", require_calibration=True)
    held = guarded.read(0)
    assert held.text == "Scanner not calibrated: scan the calibration code"
    assert (held.check.reason, held.check.raw) == ("not_calibrated", PACK)
    calibrated = guarded.read(0)
    assert (calibrated.text, calibrated.check.reason, calibrated.check.problems) == (
        "Scanner OK",
        CALIBRATED,
        (),
    )
    assert guarded.read(0) == ScanEvent(SCAN, PACK)


def test_the_factory_guards_a_source_whose_url_names_a_profile(tmp_path):
    import json

    import pytest

    from fmd_terminal.errors import ConfigError, StorageError
    from fmd_terminal.scanners.factory import open_scanner

    script = tmp_path / "demo.jsonl"
    script.write_text("\n".join(json.dumps({"raw": raw}) for raw in (C1, PACK)) + "\n")
    profile = tmp_path / "scanner-profile.json"
    source = open_scanner(f"script://{script}?profile={profile}&lang=en")
    assert isinstance(source, GuardedScanSource)
    assert source.read(0).text == "Scanner OK"
    assert source.read(0) == ScanEvent(SCAN, PACK)
    assert profile.exists()
    assert not isinstance(open_scanner(f"script://{script}"), GuardedScanSource)
    with pytest.raises(ConfigError, match="lang must be fr, en or de"):
        open_scanner(f"script://{script}?profile={profile}&lang=it")
    profile.write_text("{")
    with pytest.raises(StorageError, match="cannot be read"):
        open_scanner(f"script://{script}?profile={profile}")
