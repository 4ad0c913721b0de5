#!/bin/sh
# `make test-trixie`: the whole test suite on Debian Trixie's own Python 3.13, in a chroot built from
# Debian's packages (tools/platform/debian-root.sh).
#
# The device extra comes from Trixie's packages where Debian has them in a version pyproject.toml
# accepts (python3-evdev, python3-serial, python3-requests, python3-pil, python3-cryptography,
# python3-defusedxml; the virtual environment sees them through
# --system-site-packages) and from PyPI otherwise: Debian's python3-gpiozero is 1.6 (we need 2.0) and
# Debian has no python3-lgpio at all (Raspberry Pi OS's archive has both). The script prints where
# each came from, then runs ruff, the MicroPython replay of the core and pytest -n 2, as `make test`.
# Needs root, debootstrap and the network to Debian's mirror and PyPI. Run it under `nice -n 19`.
set -eu

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="${TRIXIE_ROOT:-$SRC/build/platform/trixie-amd64}"
. "$SRC/tools/platform/chroot-mounts.sh"
# Trixie's packages for the device extra, and the Debian packages the tests use (Makefile DEB_PACKAGES).
DEBS="python3-evdev,python3-gpiozero,python3-serial,python3-requests,python3-pil,python3-cryptography,python3-defusedxml"
DEBS="$DEBS,systemd,openssh-client,openssh-server,dosfstools,libxkbcommon0,xkb-data,faketime,fiu-utils,procps"

start=$(date +%s)
sh "$SRC/tools/platform/debian-root.sh" amd64 "$ROOT" "$DEBS"
built=$(date +%s)
trap 'umount_root "$ROOT"' EXIT INT TERM
mount_root "$ROOT"
# shellcheck disable=SC2086
chroot "$ROOT" $(root_env) sh -ec "apt-get install -y -q --no-install-recommends $(echo "$DEBS" | tr , ' ') >/dev/null"
copy_tree "$SRC" "$ROOT/src"
ENV="$(root_env)"
# shellcheck disable=SC2086
chroot "$ROOT" $ENV sh -euc '
cd /src
python3 --version
rm -rf /opt/venv && python3 -m venv --system-site-packages /opt/venv
/opt/venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
/opt/venv/bin/python -m pip install --quiet -e ".[device,host]" --group dev
/opt/venv/bin/python tools/platform/provenance.py evdev pyserial requests pillow cryptography defusedxml gpiozero lgpio
/opt/venv/bin/ruff check device host tests benchmarks tools
/opt/venv/bin/python tests/core/micropython_run.py
/opt/venv/bin/python -m pytest -n 2 -q -p no:cacheprovider
'
end=$(date +%s)
echo "test-trixie: passed; root $((built - start)) s, install and suite $((end - built)) s, total $((end - start)) s"
