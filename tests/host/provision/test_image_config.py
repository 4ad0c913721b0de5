"""fmd-provision image-config: the pi-gen stage runs the real install.sh into a scratch root file system.

pi-gen's ``on_chroot`` is replaced by a function that runs the same commands with the root's paths
rewritten and DESTDIR set, and the commands that change a machine are recorders (tests/system).
A real pi-gen build (Docker, loop devices, root) does not run here.
"""

from __future__ import annotations

import importlib.util
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("fake_system", ROOT / "tests" / "system" / "fake_system.py")
fake_system = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_system)

ON_CHROOT = 'on_chroot() { sed "s#/opt/#$ROOTFS_DIR/opt/#g" | DESTDIR="$ROOTFS_DIR" sh -e; }'


def test_image_config_and_its_pi_gen_stage(provision, tmp_path):
    out = tmp_path / "build" / "image-config"
    run = provision("image-config", "--out", out)
    assert run.code == 0, run.err
    stage = out / "pi-gen" / "stage-fmd"
    for script in (stage / "prerun.sh", stage / "00-fmd-terminal" / "00-run.sh", out / "install-in-chroot.sh"):
        assert stat.S_IMODE(script.stat().st_mode) == 0o755
        shell = "bash" if script.read_text().startswith("#!/bin/bash") else "sh"
        assert subprocess.run([shell, "-n", str(script)], capture_output=True).returncode == 0
    with tarfile.open(out / "fmd-terminal-src.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"pyproject.toml", "device/system/install.sh", "device/system/fmd-terminal.service"} <= names
    assert not any("__pycache__" in name for name in names)

    rootfs = tmp_path / "rootfs"
    fakes = fake_system.make_fakes(tmp_path / "fakes")
    log = tmp_path / "commands.log"
    step = stage / "00-fmd-terminal"
    result = subprocess.run(
        ["bash", "-e", "-c", f"{ON_CHROOT}; . ./00-run.sh"],
        cwd=step, capture_output=True, text=True, timeout=120,
        env={"PATH": f"{fakes}:/usr/bin:/bin", "ROOTFS_DIR": str(rootfs), "FMD_FAKE_LOG": str(log)},
    )
    assert result.returncode == 0, result.stderr
    assert (rootfs / "etc/systemd/system/fmd-terminal.service").is_file()
    assert (rootfs / "etc/fmd-terminal/fmd-terminal.toml").read_bytes() == (
        ROOT / "device/system/fmd-terminal.example.toml").read_bytes()
    commands = fake_system.recorded(log)
    assert "systemctl enable fmd-terminal.service" in commands
    assert not any(c.startswith(("systemctl restart", "udevadm")) for c in commands)


FAKE_CHROOT = """#!/bin/sh
# chroot ROOT COMMAND...: runs COMMAND here, with /opt/ paths moved under ROOT and DESTDIR=ROOT
root="$1"; shift
for arg in "$@"; do
    set -- "$@" "$(printf '%s' "$arg" | sed "s#^/opt/#$root/opt/#")"; shift
done
exec env DESTDIR="$root" "$@"
"""


def test_install_in_chroot_script(provision, tmp_path):
    out = tmp_path / "image-config"
    assert provision("image-config", "--out", out).code == 0
    fakes = fake_system.make_fakes(tmp_path / "fakes")
    (fakes / "chroot").write_text(FAKE_CHROOT)
    (fakes / "chroot").chmod(0o755)
    rootfs, log = tmp_path / "rootfs", tmp_path / "commands.log"
    result = subprocess.run(["sh", str(out / "install-in-chroot.sh"), str(rootfs)], capture_output=True, text=True,
                            timeout=120, env={"PATH": f"{fakes}:/usr/bin:/bin", "FMD_FAKE_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    assert (rootfs / "opt/fmd-terminal/src/device/system/install.sh").is_file()
    assert (rootfs / "etc/systemd/system/fmd-terminal.service").is_file()
    commands = fake_system.recorded(log)
    assert "systemctl enable fmd-terminal.service" in commands
    assert not any(c.startswith("systemctl restart") for c in commands)


def test_rerun_replaces_its_own_output(provision, tmp_path):
    out = tmp_path / "image-config"
    assert provision("image-config", "--out", out).code == 0
    (out / "stale").write_text("old\n")
    assert provision("image-config", "--out", out).code == 0
    assert not (out / "stale").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image-config"]


@pytest.mark.parametrize("kind", ["foreign-directory", "file"])
def test_refuses_to_replace_what_it_did_not_make(provision, tmp_path, kind):
    out = tmp_path / "precious"
    if kind == "file":
        out.write_text("keep me\n")
    else:
        out.mkdir()
        (out / "notes.txt").write_text("keep me\n")
    run = provision("image-config", "--out", out)
    assert run.code == 4
    assert run.err.startswith("fmd-provision: ")
    kept = out if kind == "file" else out / "notes.txt"
    assert kept.read_text() == "keep me\n"
