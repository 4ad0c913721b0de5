"""The udev rule and systemd unit that mount a USB stick of delivery notes read-only (issue 17).

``systemd-analyze verify`` checks the unit as systemd reads it (Debian's systemd 252 has no
``udevadm verify``, so the rule is parsed here); the parse tests check what matters for safety: the
mount is read-only, nosuid, nodev, noexec, at the folder the terminal's watcher looks at, made outside
any private mount namespace, and only FAT/exFAT sticks on USB are taken.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from fmd_terminal.receiving.usb import MOUNT_POINT

SYSTEM = Path(__file__).resolve().parents[2] / "device" / "system"
UNIT = SYSTEM / "fmd-usb-stick@.service"
RULES = SYSTEM / "71-fmd-usb-stick.rules"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)")


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def verify(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    instance = tmp_path / "fmd-usb-stick@sda1.service"
    instance.write_text(text)
    return subprocess.run([ANALYZE, "verify", str(instance)], capture_output=True, text=True, timeout=60)


@needs_analyze
def test_systemd_analyze_verify_passes_on_an_instance(tmp_path):
    result = verify(tmp_path, UNIT.read_text())
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "fmd-usb-stick" in line] == []


@needs_analyze
def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path):
    result = verify(tmp_path, UNIT.read_text().replace("Type=oneshot", "Type=one-shot"))
    assert "one-shot" in result.stderr or "Type" in result.stderr


def mount_command() -> list[str]:
    return shlex.split(unit()["Service"]["ExecStart"])


def test_the_stick_is_mounted_read_only_nosuid_nodev_noexec_at_the_watched_folder():
    command = mount_command()
    assert command[0] == "/usr/bin/mount"
    options = set(command[command.index("-o") + 1].split(","))
    assert {"ro", "nosuid", "nodev", "noexec"} <= options
    assert "rw" not in options and not any(o.startswith(("exec", "suid", "dev")) for o in options)
    assert command[command.index("-t") + 1] == "vfat,exfat"
    assert command[-2:] == ["/dev/%I", str(MOUNT_POINT)]
    assert unit()["Service"]["ExecStop"] == f"/usr/bin/umount --lazy {MOUNT_POINT}"


def test_the_mount_follows_the_device_and_takes_one_stick_at_a_time():
    section = unit()["Unit"]
    assert section["BindsTo"] == "dev-%i.device"  # pulled out: the unit stops, so the stick is unmounted
    assert section["After"] == "dev-%i.device"
    assert section["ConditionPathIsMountPoint"] == f"!{MOUNT_POINT}"
    assert unit()["Service"]["Type"] == "oneshot" and unit()["Service"]["RemainAfterExit"] == "yes"


def test_the_mount_unit_makes_no_mount_namespace_of_its_own():
    """Any of these would keep the mount inside the unit: the terminal would never see the stick."""
    namespacing = ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "MountFlags",
                   "ReadOnlyPaths", "ReadWritePaths", "InaccessiblePaths", "TemporaryFileSystem", "BindPaths",
                   "ProtectKernelTunables", "ProtectControlGroups", "RootDirectory")
    assert [key for key in unit()["Service"] if key in namespacing] == []


def rule_lines() -> list[str]:
    return [line for line in RULES.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_the_udev_rule_asks_systemd_for_the_mount_unit_for_usb_fat_sticks_only():
    [rule] = rule_lines()
    pairs = dict(re.findall(r'([A-Z_]+(?:\{[A-Za-z_]+\})?)(?:==|\+=|=)"([^"]*)"', rule))
    assert pairs["ACTION"] == "add"
    assert pairs["SUBSYSTEM"] == "block"
    assert pairs["ENV{ID_BUS}"] == "usb"
    assert pairs["ENV{ID_FS_USAGE}"] == "filesystem"
    assert pairs["ENV{ID_FS_TYPE}"] == "vfat|exfat"
    assert pairs["TAG"] == "systemd"
    assert pairs["ENV{UDISKS_IGNORE}"] == "1"
    wanted = pairs["ENV{SYSTEMD_WANTS}"]
    assert wanted == "fmd-usb-stick@%k.service"
    assert (SYSTEM / wanted.replace("%k", "")).is_file()  # the unit the rule names exists
    assert "RUN" not in rule  # udevd's own mount namespace would hide a mount made from the rule
    # every key is one udev knows, written with a valid operator
    for key, operator in re.findall(r'([A-Z_]+(?:\{[A-Za-z_]+\})?)(==|!=|\+=|=)"', rule):
        assert key.split("{")[0] in {"ACTION", "SUBSYSTEM", "ENV", "TAG"}, key
        assert operator in ("==", "=", "+=")


def test_the_filesystem_types_agree_between_rule_and_unit():
    [rule] = rule_lines()
    rule_types = set(re.search(r'ENV\{ID_FS_TYPE\}=="([^"]+)"', rule).group(1).split("|"))  # type: ignore[union-attr]
    command = mount_command()
    assert rule_types == set(command[command.index("-t") + 1].split(","))
