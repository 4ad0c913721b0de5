"""The systemd unit, sysusers file and udev rules (SCANNERS-AND-HARDWARE.md, sections 1.9 and 6)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEM = Path(__file__).resolve().parents[2] / "device" / "system"
UNIT = SYSTEM / "fmd-terminal.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)")


def unit_sections():
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def runnable_copy(tmp_path):
    """The unit with its ExecStart binary swapped for an executable that exists here, arguments kept."""
    fake = tmp_path / "fmd-terminal"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    text = UNIT.read_text()
    assert "ExecStart=/opt/fmd-terminal/venv/bin/fmd-terminal " in text
    copy = tmp_path / "fmd-terminal.service"
    copy.write_text(text.replace("ExecStart=/opt/fmd-terminal/venv/bin/fmd-terminal ", f"ExecStart={fake} "))
    return copy


@needs_analyze
def test_systemd_analyze_verify_passes_without_warnings(tmp_path):
    result = subprocess.run([ANALYZE, "verify", str(runnable_copy(tmp_path))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # verify exits 0 on "Unknown key" and "Failed to parse ... ignoring": any line about our unit fails
    ours = [line for line in result.stderr.splitlines() if "fmd-terminal.service" in line]
    assert ours == []


@needs_analyze
def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: a mistyped directive is reported."""
    copy = runnable_copy(tmp_path)
    copy.write_text(copy.read_text().replace("WatchdogSec=15s", "WatchdogSec=fifteen"))
    result = subprocess.run([ANALYZE, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert "WatchdogSec" in result.stderr or "fifteen" in result.stderr


@needs_analyze
def test_sandboxing_scores_ok(tmp_path):
    """`systemd-analyze security` rates the draft of the design doc 8.5 EXPOSED; ours must stay under 3."""
    result = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", str(runnable_copy(tmp_path))],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for fmd-terminal.service: (\d+\.\d)", result.stdout)
    assert match, result.stdout[-500:] + result.stderr
    assert float(match.group(1)) < 3.0


def test_unit_has_the_appliance_settings():
    service = unit_sections()["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] == "15s"
    assert service["Restart"] == "always"
    assert service["User"] == "fmd"
    assert set(service["SupplementaryGroups"].split()) == {"input", "dialout", "gpio", "i2c"}
    assert service["StateDirectory"] == "fmd-terminal"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert "Environment=GPIOZERO_PIN_FACTORY=lgpio" in UNIT.read_text().splitlines()
    assert unit_sections()["Install"]["WantedBy"] == "multi-user.target"


def test_unit_never_hides_the_devices():
    """PrivateDevices=, DeviceAllow= and ProtectClock= (which implies DeviceAllow=) hide dev/input, gpiochip, i2c."""
    service = unit_sections()["Service"]
    for key in ("PrivateDevices", "DeviceAllow", "DevicePolicy", "ProtectClock", "PrivateUsers"):
        assert key not in service


def test_unit_does_not_wait_for_the_network():
    unit = unit_sections()["Unit"]
    for key in ("After", "Wants", "Requires"):
        assert "network-online" not in unit.get(key, "")


def test_sysusers_puts_fmd_in_the_units_groups():
    lines = [line.split() for line in (SYSTEM / "fmd-terminal.sysusers").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0][:2] == ["u", "fmd"]
    groups = {fields[2] for fields in lines if fields[0] == "m" and fields[1] == "fmd"}
    assert groups == set(unit_sections()["Service"]["SupplementaryGroups"].split())


def rules():
    text = (SYSTEM / "70-fmd-scanner.rules").read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


RULE_KEY = re.compile(r'^(?P<key>[A-Z_]+)(\{(?P<attr>[A-Za-z_]+)\})?(?P<op>==|!=|\+=|:=|=)"(?P<value>[^"]*)"$')
MATCH_KEYS = {"SUBSYSTEM", "KERNEL", "ATTRS", "ENV"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "ENV"}


def parsed(line):
    """The (key, attr, op, value) of each comma-separated item; fails on anything udev would reject."""
    items = []
    for part in line.split(", "):
        match = RULE_KEY.match(part.strip())
        assert match, f"not a udev rule item: {part!r}"
        items.append((match["key"], match["attr"], match["op"], match["value"]))
        if match["op"] == "==":
            assert match["key"] in MATCH_KEYS, part
        else:
            assert match["key"] in ASSIGN_KEYS, part
    return items


def test_udev_rules_are_well_formed_and_cover_both_interfaces():
    vendors = {"05e0", "0c2e", "0536", "05f9", "1eab"}
    seen = {"input": set(), "tty": set()}
    for line in rules():
        items = parsed(line)
        subsystem = next(v for k, _, op, v in items if k == "SUBSYSTEM")
        vendor = next(v for k, a, op, v in items if k == "ATTRS" and a == "idVendor")
        assert re.fullmatch(r"[0-9a-f]{4}", vendor)
        seen[subsystem].add(vendor)
        assignments = {(k, a): v for k, a, op, v in items if op != "=="}
        if subsystem == "input":
            assert ("ENV", "ID_INPUT_KEYBOARD", "==", "1") in items
            assert assignments[("SYMLINK", None)] == "input/fmd-scanner"
            assert assignments[("ENV", "LIBINPUT_IGNORE_DEVICE")] == "1"
            assert assignments[("GROUP", None)] == "fmd"
        else:
            assert assignments[("SYMLINK", None)] == "fmd-scanner-serial"
            assert assignments[("ENV", "ID_MM_DEVICE_IGNORE")] == "1"
            assert assignments[("GROUP", None)] == "dialout"
        assert assignments[("MODE", None)] == "0660"
    assert seen == {"input": vendors, "tty": vendors}


def test_rules_file_is_numbered_between_input_id_and_modemmanager():
    number = int((SYSTEM / "70-fmd-scanner.rules").name.split("-")[0])
    assert 60 < number < 77


def test_the_service_may_write_its_settings_file_and_not_its_configuration():
    """The console saves settings in ``settings.toml`` of the state folder (``settings_file``): the
    unit's StateDirectory= is that folder, writable under ProtectSystem=strict and owned by the service's
    user; nothing makes ``/etc`` writable, so the configuration file and the keys beside it stay the
    installer's."""
    from fmd_terminal import settings_file

    service = unit_sections()["Service"]
    state = "/var/lib/" + service["StateDirectory"]
    assert settings_file.location({}) == Path(state) / "settings.toml"  # the folder used outside systemd too
    assert settings_file.location({"STATE_DIRECTORY": state}) == Path(state) / "settings.toml"  # set by systemd
    assert service["StateDirectoryMode"] == "0700"
    writable = service.get("ReadWritePaths", "").split()
    assert not any(path.lstrip("-+").startswith("/etc") for path in writable)
    hidden = service.get("ReadOnlyPaths", "").split() + service.get("InaccessiblePaths", "").split()
    assert not any(state.startswith(path.lstrip("-+").rstrip("/")) for path in hidden)
    assert service["ProtectSystem"] == "strict" and service["UMask"] == "0077"
    assert "--config /etc/fmd-terminal/" in service["ExecStart"]
