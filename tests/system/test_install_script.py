"""device/system/install.sh into a scratch root, with the system's tools replaced by recorders.

What runs for real: the script itself under /bin/sh, every `install` of a file and its mode, the
bundle hand-over. What is recorded instead of run: apt-get, systemd-sysusers, python3 -m venv / pip,
chown, raspi-config, systemctl and udevadm (they change the machine; on a Pi they are the real ones).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from fake_system import make_fakes, recorded

from fmd_provision.bundle import new_device
from fmd_provision.release_bundle import new_key

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "device" / "system" / "install.sh"


def run_install(tmp_path, *args, environ=None, replaced=None):
    fakes = make_fakes(tmp_path / "fakes")
    for name, script in (replaced or {}).items():  # a tool that answers differently from the recorder
        (fakes / name).write_text(script)
    log = tmp_path / "commands.log"
    env = {"PATH": f"{fakes}:/usr/bin:/bin", "DESTDIR": str(tmp_path / "root"), "FMD_FAKE_LOG": str(log)}
    env.update(environ or {})
    result = subprocess.run(["sh", str(SCRIPT), *map(str, args)], env=env, capture_output=True, text=True,
                            timeout=60)
    return result, recorded(log)


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def bundle(tmp_path):
    path = tmp_path / "bundle"
    new_device(path, "pharm-01", "https://mvs.example.test")
    new_key(tmp_path / "release.key")
    os.replace(tmp_path / "release.key.pub", path / "release.pub")
    return path


def test_install_with_a_bundle(tmp_path, bundle):
    result, commands = run_install(tmp_path, bundle)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "root"
    etc = root / "etc" / "fmd-terminal"
    assert (etc / "fmd-terminal.toml").read_bytes() == (bundle / "fmd-terminal.toml").read_bytes()
    assert (etc / "device.key").read_bytes() == (bundle / "device.key").read_bytes()
    assert mode_of(etc / "device.key") == 0o600
    assert mode_of(etc / "fmd-terminal.toml") == 0o640
    assert mode_of(etc) == 0o750
    assert (root / "etc/systemd/system/fmd-terminal.service").read_bytes() == (
        ROOT / "device/system/fmd-terminal.service").read_bytes()
    assert (root / "etc/udev/rules.d/70-fmd-scanner.rules").is_file()
    assert (root / "etc/udev/rules.d/71-fmd-usb-stick.rules").is_file()
    assert (root / "etc/systemd/system/fmd-usb-stick@.service").read_bytes() == (
        ROOT / "device/system/fmd-usb-stick@.service").read_bytes()
    assert (root / "media/fmd-usb").is_dir()  # the mount point the udev rule's unit mounts the stick at
    assert (root / "etc/sysusers.d/fmd-terminal.conf").is_file()
    release = root / "opt/fmd-terminal/releases/0.1.0"
    names = [line.split()[0] for line in commands]
    assert names[:2] == ["apt-cache", "apt-get"]
    assert "python3-lgpio" in commands[1] and "python3-evdev" in commands[1]
    assert f"python3 -m venv --system-site-packages {release}" in commands
    assert f"python -m pip install --quiet --upgrade {ROOT}[device]" in commands
    assert os.readlink(root / "opt/fmd-terminal/venv") == "releases/0.1.0"
    assert (release / ".complete").read_text() == "0.1.0\n"
    assert (etc / "release.pub").read_bytes() == (bundle / "release.pub").read_bytes()
    assert mode_of(etc / "release.pub") == 0o644
    assert f"chown fmd:fmd {etc}/device.key" in commands
    assert "systemctl mask getty@tty1.service" in commands
    assert "systemctl enable fmd-terminal.service" in commands
    assert commands[-1] == "systemctl restart fmd-terminal.service"
    assert "udevadm control --reload" in commands


def test_bundle_on_the_boot_partition_is_taken_and_its_key_removed(tmp_path, bundle):
    boot = tmp_path / "root" / "boot" / "firmware" / "fmd"
    boot.parent.mkdir(parents=True)
    os.rename(bundle, boot)
    key = (boot / "device.key").read_bytes()
    result, commands = run_install(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "root/etc/fmd-terminal/device.key").read_bytes() == key
    assert not (boot / "device.key").exists()
    assert (boot / "fmd-terminal.toml").exists()


def test_no_start_inside_an_image_build(tmp_path, bundle):
    result, commands = run_install(tmp_path, bundle, environ={"FMD_NO_START": "1"})
    assert result.returncode == 0, result.stderr
    assert "systemctl enable fmd-terminal.service" in commands
    assert not any(c.startswith(("udevadm", "systemctl restart", "systemctl daemon-reload")) for c in commands)


def test_a_directory_without_terminal_toml_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result, commands = run_install(tmp_path, empty)
    assert result.returncode == 1
    assert "has no fmd-terminal.toml" in result.stderr
    assert commands == []


def test_a_failing_step_stops_the_install(tmp_path, bundle):
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    (fakes / "apt-get").write_text("#!/bin/sh\necho 'E: Unable to locate package' >&2\nexit 100\n")
    (fakes / "apt-get").chmod(0o755)
    env = {"PATH": f"{fakes}:/usr/bin:/bin", "DESTDIR": str(tmp_path / "root"),
           "FMD_FAKE_LOG": str(tmp_path / "log")}
    result = subprocess.run(["sh", str(SCRIPT), str(bundle)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert not (tmp_path / "root" / "etc" / "systemd").exists()


def test_plain_debian_without_python3_lgpio_installs_the_rest(tmp_path, bundle):
    missing = "#!/bin/sh\necho 'N: Unable to locate package python3-lgpio' >&2\nexit 100\n"
    result, commands = run_install(tmp_path, bundle, replaced={"apt-cache": missing})
    assert result.returncode == 0, result.stderr
    assert "python3-lgpio is not in this system's archives" in result.stdout
    apt = next(line for line in commands if line.startswith("apt-get"))
    assert "python3-lgpio" not in apt and "python3-gpiozero" in apt and "python3-evdev" in apt


def test_an_install_from_before_releases_is_moved_to_the_release_layout(tmp_path, bundle):
    old = tmp_path / "root/opt/fmd-terminal/venv"
    (old / "bin").mkdir(parents=True)
    result, _commands = run_install(tmp_path, bundle)
    assert result.returncode == 0, result.stderr
    assert os.readlink(old) == "releases/0.1.0"
    assert not (tmp_path / "root/opt/fmd-terminal/venv.before-releases").exists()
