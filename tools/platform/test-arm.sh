#!/bin/sh
# `make test-arm`: an emulated Raspberry Pi install. Builds a Debian Trixie arm64 root with debootstrap
# and qemu-user-static (tools/platform/debian-root.sh), then tools/platform/arm_session.py installs the
# terminal there with install.sh from a provisioning bundle, runs `fmd-terminal doctor`, a scripted
# `fmd-terminal run` against the simulator on the host's loopback, and `systemd-analyze verify` of the
# installed unit. Needs root, debootstrap, qemu-user-static, binfmt-support and the network to Debian's
# mirror and PyPI. Run it under `nice -n 19`: everything inside the root runs through qemu.
set -eu

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="${ARM_ROOT:-$SRC/build/platform/trixie-arm64}"
PYTHON="${PYTHON:-$SRC/.venv/bin/python}"
. "$SRC/tools/platform/chroot-mounts.sh"

start=$(date +%s)
sh "$SRC/tools/platform/debian-root.sh" arm64 "$ROOT" systemd,udev
built=$(date +%s)
trap 'umount_root "$ROOT"' EXIT INT TERM
mount_root "$ROOT"
"$PYTHON" "$SRC/tools/platform/arm_session.py" "$ROOT"
end=$(date +%s)
echo "test-arm: passed; root $((built - start)) s, session $((end - built)) s, total $((end - start)) s"
