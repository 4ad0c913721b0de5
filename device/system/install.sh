#!/bin/sh
# Install or update the FMD scan terminal on a Raspberry Pi (Raspberry Pi OS Bookworm or Trixie).
#
#   sudo sh device/system/install.sh [BUNDLE_DIR]
#
# Run from a copy of the source tree on the Pi (`fmd-provision deploy --host` copies it to
# /opt/fmd-terminal/src and runs this script). BUNDLE_DIR is a device bundle made by
# `fmd-provision new-device` (default: the bundle `fmd-provision write-boot` put on the boot
# partition, /boot/firmware/fmd, when it exists). Safe to run again: it updates in place.
#
# What it does (docs/scanners-and-hardware.md, hardware/README.md section 5):
#  1. apt: python3-venv, python3-pip, python3-lgpio, python3-gpiozero, python3-evdev,
#     python3-cryptography, i2c-tools (lgpio and evdev need their C libraries: Raspberry Pi OS's
#     packages; plain Debian has no python3-lgpio, so there the LEDs stay off);
#  2. the service user `fmd` in input, dialout, gpio and i2c (sysusers.d);
#  3. a virtual environment /opt/fmd-terminal/releases/VERSION (--system-site-packages) with the
#     terminal, and the link /opt/fmd-terminal/venv to it (the layout `fmd-terminal update` keeps);
#  4. the configuration and key from the bundle into /etc/fmd-terminal (root:fmd 0640, key 0600 fmd),
#     and release.pub, the key release bundles are checked with;
#  5. I2C on, getty on tty1 masked (a scan before the grab must not type into a login prompt);
#  6. udev rules, the unit, `systemctl enable --now fmd-terminal`; the udev rule and unit that mount a
#     USB stick of delivery notes read-only at /media/fmd-usb (docs/receiving.md).
#
# FMD_PYTHON (default python3) is the interpreter the virtual environment is made from.
# FMD_NO_START=1 installs and enables without starting (inside an image build's chroot, where no
# udev or systemd runs). DESTDIR (default empty) installs under another root; it is for tests, which
# also put fake apt-get/systemctl/udevadm/... on PATH. Exit codes: 0 done, 1 a step failed, 2 usage.
set -eu

DESTDIR="${DESTDIR:-}"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
PREFIX="$DESTDIR/opt/fmd-terminal"
ETC="$DESTDIR/etc/fmd-terminal"
BUNDLE="${1:-}"
if [ -z "$BUNDLE" ] && [ -d "$DESTDIR/boot/firmware/fmd" ]; then
    BUNDLE="$DESTDIR/boot/firmware/fmd"
fi

say() { printf 'fmd-install: %s\n' "$*"; }
die() { printf 'fmd-install: %s\n' "$*" >&2; exit 1; }

[ "$#" -le 1 ] || { echo "usage: sudo sh install.sh [BUNDLE_DIR]" >&2; exit 2; }
[ -f "$SRC/pyproject.toml" ] || die "no source tree at $SRC (pyproject.toml missing)"
if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo)"; fi
if [ -n "$BUNDLE" ] && [ ! -f "$BUNDLE/fmd-terminal.toml" ]; then die "bundle $BUNDLE has no fmd-terminal.toml"; fi

say "installing Debian packages"
# python3-lgpio and python3-gpiozero 2 come from Raspberry Pi OS's archive. Plain Debian has no
# python3-lgpio (and PyPI's lgpio is source only, or an empty placeholder wheel) and gpiozero 1.6:
# there gpiozero 2 comes from PyPI and the indicators fall back to none:// (doctor says so).
LGPIO=python3-lgpio
if ! apt-cache show python3-lgpio >/dev/null 2>&1; then
    say "python3-lgpio is not in this system's archives (plain Debian, not Raspberry Pi OS): LEDs and buzzer stay off"
    LGPIO=""
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-venv python3-pip $LGPIO python3-gpiozero python3-evdev python3-cryptography i2c-tools libengine-pkcs11-openssl

say "service user fmd"
install -D -m 0644 "$SRC/device/system/fmd-terminal.sysusers" "$DESTDIR/etc/sysusers.d/fmd-terminal.conf"
systemd-sysusers "$DESTDIR/etc/sysusers.d/fmd-terminal.conf"

# One environment per version, releases/VERSION, and the link venv -> releases/VERSION that the unit
# starts through; `fmd-terminal update` installs signed release bundles into the same layout.
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/pyproject.toml" | head -n 1)"
[ -n "$VERSION" ] || die "no version in $SRC/pyproject.toml"
RELEASE="$PREFIX/releases/$VERSION"
say "virtual environment $RELEASE"
[ -x "$RELEASE/bin/python" ] || "${FMD_PYTHON:-python3}" -m venv --system-site-packages "$RELEASE"
"$RELEASE/bin/python" -m pip install --quiet --upgrade "$SRC[device]"
echo "$VERSION" > "$RELEASE/.complete"
if [ -d "$PREFIX/venv" ] && [ ! -L "$PREFIX/venv" ]; then
    mv "$PREFIX/venv" "$PREFIX/venv.before-releases"  # an install from before releases/ existed
fi
ln -sfn "releases/$VERSION" "$PREFIX/venv.new"
mv -T "$PREFIX/venv.new" "$PREFIX/venv"  # rename(2): the link is the old one or the new one, never none
rm -rf "$PREFIX/venv.before-releases"

say "configuration $ETC"
install -d -m 0750 "$ETC"
if [ -n "$BUNDLE" ]; then
    install -m 0640 "$BUNDLE/fmd-terminal.toml" "$ETC/fmd-terminal.toml"
    for file in device.key device.crt ca.crt secrets.toml; do
        if [ -f "$BUNDLE/$file" ]; then install -m 0600 "$BUNDLE/$file" "$ETC/$file"; fi
    done
    # The public key `fmd-terminal update` checks release bundles with (fmd-provision bundle --new-key).
    if [ -f "$BUNDLE/release.pub" ]; then install -m 0644 "$BUNDLE/release.pub" "$ETC/release.pub"; fi
elif [ ! -f "$ETC/fmd-terminal.toml" ]; then
    install -m 0640 "$SRC/device/system/fmd-terminal.example.toml" "$ETC/fmd-terminal.toml"
fi
if [ -n "$BUNDLE" ] && [ "$BUNDLE" = "$DESTDIR/boot/firmware/fmd" ]; then
    # The boot partition is FAT (no permissions): secrets do not stay there once copied.
    rm -f "$BUNDLE/device.key" "$BUNDLE/secrets.toml"
fi
chown -R root:fmd "$ETC"
for file in device.key device.crt ca.crt secrets.toml; do
    if [ -f "$ETC/$file" ]; then chown fmd:fmd "$ETC/$file"; fi
done

say "I2C on, console login off tty1"
if command -v raspi-config >/dev/null 2>&1; then raspi-config nonint do_i2c 0; fi
systemctl mask getty@tty1.service

say "udev rules and service"
install -D -m 0644 "$SRC/device/system/70-fmd-scanner.rules" "$DESTDIR/etc/udev/rules.d/70-fmd-scanner.rules"
install -D -m 0644 "$SRC/device/system/fmd-terminal.service" "$DESTDIR/etc/systemd/system/fmd-terminal.service"
# A USB stick with delivery notes: mounted read-only at /media/fmd-usb by a unit the udev rule asks for.
install -D -m 0644 "$SRC/device/system/71-fmd-usb-stick.rules" "$DESTDIR/etc/udev/rules.d/71-fmd-usb-stick.rules"
install -D -m 0644 "$SRC/device/system/fmd-usb-stick@.service" "$DESTDIR/etc/systemd/system/fmd-usb-stick@.service"
install -d -m 0755 "$DESTDIR/media/fmd-usb"
systemctl enable fmd-terminal.service
if [ "${FMD_NO_START:-0}" = 1 ]; then
    say "done: fmd-terminal starts at the next boot"
    exit 0
fi
udevadm control --reload
udevadm trigger --subsystem-match=input --subsystem-match=tty
systemctl daemon-reload
systemctl restart fmd-terminal.service
say "done: systemctl status fmd-terminal; journalctl -u fmd-terminal -f"
