"""``fmd-provision deploy --host``: install or update the terminal on a running Pi over SSH.

Uses the system's OpenSSH client (``ssh``; Debian ``openssh-client``), so the operator's keys,
agent, ``~/.ssh/config`` and known hosts apply as for any other login. Two connections:

1. ``ssh HOST true`` with ``BatchMode=yes`` and a connect timeout: an unreachable host, a refused
   key or an unknown host key stop here with ssh's own reason (exit code 5);
2. ``ssh HOST sudo -n sh -c SCRIPT`` with a gzip tar of the source tree on standard input: the tree
   is unpacked beside the old one and swapped in, then ``device/system/install.sh`` runs
   (SCANNERS-AND-HARDWARE.md section 6; the unit, udev rules, service user, venv). A device bundle,
   when given, travels in the same archive (its key keeps mode 0600, owned by root) and is
   deleted from the source directory whatever the outcome.

Nothing is copied to the Pi before the first step succeeds.
"""

from __future__ import annotations

import argparse
import io
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from fmd_provision.bundle import read_bundle
from fmd_provision.errors import InputError, RemoteError

REMOTE_DIR = "/opt/fmd-terminal"
SOURCE_PARTS = ("pyproject.toml", "README.md", "device", "host", "hardware")
SKIPPED = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
EXIT_UNREACHABLE = 255  # ssh's own exit status when the connection itself fails


def default_source() -> Path:
    """The checkout this package runs from (``host/fmd_provision`` -> its root)."""
    return Path(__file__).resolve().parents[2]


def source_archive(source: Path, bundle: dict[str, tuple[bytes, int]]) -> bytes:
    """A gzip tar of the parts of ``source`` the Pi needs, plus ``bundle/`` when given."""
    if not (source / "pyproject.toml").is_file() or not (source / "device" / "system" / "install.sh").is_file():
        raise InputError(f"{str(source)!r} is not a source tree of the terminal (pyproject.toml, device/system)")
    buffer = io.BytesIO()

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if set(Path(info.name).parts) & SKIPPED or info.name.endswith(".pyc"):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for part in SOURCE_PARTS:
            if (source / part).exists():
                archive.add(source / part, arcname=part, filter=owned_by_root)
        if bundle:
            directory = tarfile.TarInfo("bundle")
            directory.type, directory.mode = tarfile.DIRTYPE, 0o700
            archive.addfile(directory)
            for name, (data, mode) in sorted(bundle.items()):
                info = tarfile.TarInfo(f"bundle/{name}")
                info.size, info.mode = len(data), mode
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# Run as root on the Pi as ``sh -c REMOTE_SCRIPT fmd-deploy DIR WITH_BUNDLE``: the directory arrives as a
# positional parameter and is only ever used quoted ("$d"), so no value of --remote-dir can become shell
# syntax, not even inside the trap (which is expanded when it runs, from the variable).
REMOTE_SCRIPT = """set -e
d=$1
trap 'rm -rf -- "$d/src/bundle" "$d/src.new"' EXIT
mkdir -p -- "$d"
rm -rf -- "$d/src.new" "$d/src.old"
mkdir -m 0755 -- "$d/src.new"
tar -xzf - -C "$d/src.new" --no-same-owner
if [ -d "$d/src" ]; then mv -- "$d/src" "$d/src.old"; fi
mv -- "$d/src.new" "$d/src"
rm -rf -- "$d/src.old"
if [ "$2" = bundle ]; then sh "$d/src/device/system/install.sh" "$d/src/bundle"
else sh "$d/src/device/system/install.sh"; fi
"""


def check_remote_dir(remote_dir: str) -> str:
    """An absolute directory other than ``/``, without control characters (it is removed and replaced)."""
    if not remote_dir.startswith("/") or remote_dir.rstrip("/") == "" or any(ord(c) < 32 or c == "\x7f"
                                                                            for c in remote_dir):
        raise InputError(f"--remote-dir {remote_dir!r} must be an absolute directory other than / "
                         "(e.g. /opt/fmd-terminal), without control characters")
    return remote_dir


def remote_command(remote_dir: str, with_bundle: bool, as_root: bool) -> str:
    """The command line ssh hands to the Pi's login shell: every word quoted on its own (shlex.quote)."""
    words = ["sh", "-c", REMOTE_SCRIPT, "fmd-deploy", check_remote_dir(remote_dir),
             "bundle" if with_bundle else "no-bundle"]
    return " ".join(shlex.quote(word) for word in (words if as_root else ["sudo", "-n", *words]))


def ssh_command(host: str, port: int | None, identity: Path | None, timeout_s: int,
                options: list[str]) -> list[str]:
    ssh = shutil.which("ssh")
    if ssh is None:
        raise RemoteError("ssh is not installed here (Debian: apt install openssh-client)")
    command = [ssh, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout_s}"]
    for option in options:
        command += ["-o", option]
    if port:
        command += ["-p", str(port)]
    if identity is not None:
        command += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    return command + ["--", host]


def _last_line(text: bytes) -> str:
    lines = [line.strip() for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def deploy(
    host: str,
    *,
    port: int | None = None,
    identity: Path | None = None,
    bundle_dir: Path | None = None,
    source: Path | None = None,
    remote_dir: str = REMOTE_DIR,
    timeout_s: int = 10,
    ssh_options: list[str] | None = None,
) -> bytes:
    """Install on ``host``; return what the install printed. Raises ``RemoteError`` on failure."""
    if not host or host.startswith("-"):
        raise InputError(f"host {host!r} is not a host name")
    check_remote_dir(remote_dir)
    bundle = read_bundle(bundle_dir) if bundle_dir else {}
    archive = source_archive(source or default_source(), bundle)
    base = ssh_command(host, port, identity, timeout_s, ssh_options or [])
    try:
        probe = subprocess.run([*base, "true"], capture_output=True, stdin=subprocess.DEVNULL,
                               timeout=timeout_s * 3 + 5)
    except subprocess.TimeoutExpired:
        raise RemoteError(f"cannot reach {host}: no answer within {timeout_s * 3 + 5} s") from None
    if probe.returncode != 0:
        reason = _last_line(probe.stderr)
        if "Host key verification failed" in reason:
            reason += (" (a new Pi: check its key fingerprint, then add "
                       "--ssh-option StrictHostKeyChecking=accept-new)")
        raise RemoteError(f"cannot reach {host}: {reason}")
    user = host.split("@", 1)[0] if "@" in host else ""
    command = remote_command(remote_dir, bool(bundle), as_root=user == "root")
    result = subprocess.run([*base, command], input=archive, capture_output=True)
    if result.returncode == EXIT_UNREACHABLE:
        raise RemoteError(f"lost the connection to {host}: {_last_line(result.stderr)}")
    if result.returncode != 0:
        raise RemoteError(f"install on {host} failed (exit {result.returncode}): {_last_line(result.stderr)}")
    return result.stdout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", required=True, help="the Pi: [user@]host, as for ssh")
    parser.add_argument("--port", type=int, help="SSH port (default: ssh's)")
    parser.add_argument("--identity", type=Path, help="SSH private key file (default: ssh's)")
    parser.add_argument("--bundle", type=Path, help="device bundle to install with it (new-device)")
    parser.add_argument("--source", type=Path, help="source tree to install (default: this checkout)")
    parser.add_argument("--remote-dir", default=REMOTE_DIR, help=f"install directory (default {REMOTE_DIR})")
    parser.add_argument("--timeout", type=int, default=10, help="SSH connect timeout in seconds (default 10)")
    parser.add_argument("--ssh-option", action="append", default=[], metavar="KEY=VALUE",
                        help="extra ssh -o option (repeatable), e.g. StrictHostKeyChecking=accept-new")


def execute(args: argparse.Namespace) -> int:
    output = deploy(args.host, port=args.port, identity=args.identity, bundle_dir=args.bundle,
                    source=args.source, remote_dir=args.remote_dir, timeout_s=args.timeout,
                    ssh_options=args.ssh_option)
    sys.stdout.write(output.decode("utf-8", "replace"))
    print(f"{args.host}: fmd-terminal installed")
    return 0
