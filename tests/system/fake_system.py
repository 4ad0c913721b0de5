"""Recorders standing in for the commands install.sh runs that change a machine.

apt-cache, apt-get, systemd-sysusers, python3 -m venv / pip, chown, raspi-config, systemctl, udevadm and sudo
are replaced by a script that appends its name and arguments to ``$FMD_FAKE_LOG`` (sudo runs its
command). On a Pi these are the real tools; here they must never run.
"""

from __future__ import annotations

from pathlib import Path

RECORDED = ("apt-cache", "apt-get", "systemd-sysusers", "python3", "chown", "raspi-config", "systemctl", "udevadm")
RECORDER = """#!/bin/sh
printf '%s' "$(basename "$0")" >> "$FMD_FAKE_LOG"
for arg in "$@"; do printf ' %s' "$arg" >> "$FMD_FAKE_LOG"; done
printf '\\n' >> "$FMD_FAKE_LOG"
if [ "$(basename "$0")" = python3 ] && [ "$1" = -m ] && [ "$2" = venv ]; then
    eval "target=\\${$#}"
    mkdir -p "$target/bin" && cp "$0" "$target/bin/python"
fi
"""
SUDO = """#!/bin/sh
[ "$1" = -n ] && shift
exec "$@"
"""


def make_fakes(directory: Path) -> Path:
    """Write the recorders (and a pass-through sudo) into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in RECORDED:
        (directory / name).write_text(RECORDER)
        (directory / name).chmod(0o755)
    (directory / "sudo").write_text(SUDO)
    (directory / "sudo").chmod(0o755)
    return directory


def recorded(log: Path) -> list[str]:
    """The commands recorded so far, one string each."""
    return log.read_text().splitlines() if log.exists() else []
