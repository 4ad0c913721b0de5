"""fmd-provision deploy over a real SSH connection to a real sshd, and to a closed port.

The "Pi" is an OpenSSH server started per test in inetd mode (``ProxyCommand=sshd -i``: no port to
choose, nothing left listening) with a throwaway host key and user key. Its sessions get a PATH
where the commands that would change this machine (apt-get, systemctl, ...) are recorders, and
DESTDIR, so device/system/install.sh runs for real into a scratch root.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from fmd_provision.bundle import new_device

ROOT = Path(__file__).resolve().parents[3]
SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
_spec = importlib.util.spec_from_file_location("fake_system", ROOT / "tests" / "system" / "fake_system.py")
fake_system = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_system)

needs_ssh = pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("ssh-keygen") is None,
                               reason="the OpenSSH client is not installed (Debian package openssh-client)")
needs_sshd = pytest.mark.skipif(SSHD is None, reason="sshd is not installed (Debian package openssh-server)")


class FakePi:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "pi"
        self.dir.mkdir()
        for name in ("host_key", "user_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / name)],
                           check=True, capture_output=True)
        shutil.copy(self.dir / "user_key.pub", self.dir / "authorized_keys")
        self.fakes = fake_system.make_fakes(self.dir / "fakes")
        self.root = self.dir / "root"
        self.log = self.dir / "commands.log"
        self.remote_dir = self.dir / "opt"
        config = self.dir / "sshd_config"
        config.write_text(
            f"HostKey {self.dir / 'host_key'}\n"
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nPidFile none\nLogLevel ERROR\n"
            f"SetEnv PATH={self.fakes}:/usr/bin:/bin DESTDIR={self.root} FMD_FAKE_LOG={self.log} "
            f"FMD_PYTHON={self.fakes / 'python3'}\n"
        )
        if os.geteuid() == 0:
            # sshd run by root insists on its privilege-separation directory (systemd-tmpfiles makes it).
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.options = [
            f"ProxyCommand={SSHD} -i -f {config}",
            f"UserKnownHostsFile={self.dir / 'known_hosts'}",
            "StrictHostKeyChecking=accept-new",
        ]
        self.host = f"{pwd.getpwuid(os.geteuid()).pw_name}@pi.test"

    def args(self):
        out = ["--host", self.host, "--identity", self.dir / "user_key", "--remote-dir", self.remote_dir]
        for option in self.options:
            out += ["--ssh-option", option]
        return out

    def resolve(self, *names):
        """Where the remote session finds each command: must be the recorders, never the real tools."""
        command = ["ssh", "-o", "BatchMode=yes", "-i", str(self.dir / "user_key")]
        for option in self.options:
            command += ["-o", option]
        script = "; ".join(f"command -v {name}" for name in names)
        result = subprocess.run([*command, self.host, script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()


@pytest.fixture
def pi(tmp_path):
    fake = FakePi(tmp_path)
    names = (*fake_system.RECORDED, "sudo")
    places = fake.resolve(*[n for n in names if n != "python3"])
    assert all(place.startswith(str(fake.fakes)) for place in places), places
    return fake


@needs_ssh
@needs_sshd
def test_deploy_installs_over_ssh(provision, tmp_path, pi):
    bundle = tmp_path / "bundle"
    new_device(bundle, "pharm-01", "https://mvs.example.test")
    run = provision("deploy", *pi.args(), "--bundle", bundle)
    assert run.code == 0, run.err
    assert f"{pi.host}: fmd-terminal installed" in run.out
    src = pi.remote_dir / "src"
    assert (src / "device" / "system" / "install.sh").read_bytes() == (
        ROOT / "device" / "system" / "install.sh").read_bytes()
    assert (src / "pyproject.toml").is_file()
    assert not list(src.rglob("__pycache__"))
    assert not (src / "bundle").exists()  # the key does not stay in the source directory
    etc = pi.root / "etc" / "fmd-terminal"
    assert (etc / "device.key").read_bytes() == (bundle / "device.key").read_bytes()
    assert stat.S_IMODE((etc / "device.key").stat().st_mode) == 0o600
    commands = fake_system.recorded(pi.log)
    assert f"python -m pip install --quiet --upgrade {src}[device]" in commands
    assert commands[-1] == "systemctl restart fmd-terminal.service"


@needs_ssh
@needs_sshd
def test_deploy_again_replaces_the_source(provision, tmp_path, pi):
    assert provision("deploy", *pi.args()).code == 0
    stale = pi.remote_dir / "src" / "stale.txt"
    stale.write_text("from an older version\n")
    run = provision("deploy", *pi.args())
    assert run.code == 0, run.err
    assert not stale.exists()
    assert sorted(p.name for p in pi.remote_dir.iterdir()) == ["src"]


@needs_ssh
@needs_sshd
def test_failed_install_is_reported(provision, tmp_path, pi):
    (pi.fakes / "apt-get").write_text("#!/bin/sh\necho 'E: Unable to locate package python3-lgpio' >&2\nexit 100\n")
    run = provision("deploy", *pi.args())
    assert run.code == 5
    assert run.err.startswith(f"fmd-provision: install on {pi.host} failed (exit 100): ")
    assert "Unable to locate package python3-lgpio" in run.err


@needs_ssh
@needs_sshd
def test_refused_key_is_reported_before_copying(provision, tmp_path, pi):
    (pi.dir / "authorized_keys").write_text("")
    run = provision("deploy", *pi.args())
    assert run.code == 5
    assert "cannot reach" in run.err and "Permission denied" in run.err
    assert not pi.remote_dir.exists()


@needs_ssh
@needs_sshd
def test_unknown_host_key_is_refused_with_a_hint(provision, tmp_path, pi):
    args = [str(a) for a in pi.args()]
    args[args.index("StrictHostKeyChecking=accept-new")] = "StrictHostKeyChecking=yes"
    (pi.dir / "known_hosts").unlink()  # the fixture's probe had accepted the key
    run = provision("deploy", *args)
    assert run.code == 5
    assert "Host key verification failed" in run.err
    assert "StrictHostKeyChecking=accept-new" in run.err
    assert not pi.remote_dir.exists()


@needs_ssh
def test_unreachable_host(provision, tmp_path):
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = provision("deploy", "--host", "127.0.0.1", "--port", port, "--timeout", "5",
                    "--ssh-option", f"UserKnownHostsFile={tmp_path / 'known_hosts'}")
    assert run.code == 5
    assert run.err.startswith("fmd-provision: cannot reach 127.0.0.1: ")
    assert "Connection refused" in run.err
    assert "Traceback" not in run.err


def test_missing_ssh_client(provision, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    run = provision("deploy", "--host", "pi.test")
    assert run.code == 5
    assert "ssh is not installed here" in run.err


def test_bundle_with_a_loose_key_is_refused_before_connecting(provision, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ssh at all: the bundle check must come first
    bundle = tmp_path / "bundle"
    new_device(bundle, "pharm-01", "https://mvs.example.test")
    (bundle / "device.key").chmod(0o644)
    run = provision("deploy", "--host", "pi.test", "--bundle", bundle)
    assert run.code == 3
    assert "has mode 0644, expected 0600" in run.err


@needs_ssh
@needs_sshd
def test_a_remote_dir_with_a_space_installs(provision, tmp_path, pi):
    pi.remote_dir = pi.dir / "opt with space" / "fmd terminal"
    run = provision("deploy", *pi.args())
    assert run.code == 0, run.err
    assert (pi.remote_dir / "src" / "device" / "system" / "install.sh").is_file()
    assert sorted(p.name for p in pi.remote_dir.iterdir()) == ["src"]


@needs_ssh
@needs_sshd
@pytest.mark.parametrize("crafted", ["x'; touch {canary}; '", "x\"; touch {canary}; \"", "x$(touch {canary})",
                                     "x`touch {canary}`", "x' EXIT; touch {canary}; trap '"])
def test_a_crafted_remote_dir_runs_no_command(provision, tmp_path, pi, crafted):
    """The old trap string broke out of its quotes: the directory name ran commands as root on the Pi."""
    canary = pi.dir / "canary"
    pi.remote_dir = pi.dir / crafted.format(canary=canary)
    run = provision("deploy", *pi.args())
    assert not canary.exists(), run.err
    assert run.code == 0, run.err  # an odd but legal directory name: installed there, literally
    assert (pi.remote_dir / "src" / "pyproject.toml").is_file()


@pytest.mark.parametrize("remote_dir", ["opt/fmd", "/", "//", "/opt/fmd\nrm", ""])
def test_a_remote_dir_that_is_not_an_absolute_directory_is_refused_before_connecting(provision, tmp_path,
                                                                                      monkeypatch, remote_dir):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ssh at all: the refusal must come first
    run = provision("deploy", "--host", "pi.test", "--remote-dir", remote_dir)
    assert run.code == 3
    assert run.err.startswith("fmd-provision: --remote-dir ") and "absolute directory" in run.err
