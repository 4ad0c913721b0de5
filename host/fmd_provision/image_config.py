"""``fmd-provision image-config``: everything to turn a stock Raspberry Pi OS image into a terminal.

Writes a directory (SCANNERS-AND-HARDWARE.md section 6, "Provisioning" and "Fleet updates"):

- ``fmd-terminal-src.tar.gz``: the source tree the Pi installs from (as ``deploy`` sends it);
- ``pi-gen/stage-fmd/``: a pi-gen stage that unpacks it into the image and runs
  ``device/system/install.sh`` in the chroot with ``FMD_NO_START=1`` (packages, service user, venv,
  unit enabled, udev rules, getty on tty1 masked). Add it after ``stage2`` (Raspberry Pi OS Lite);
- ``install-in-chroot.sh``: the same step for any other builder that gives a root directory
  (an rpi-image-gen customisation hook, a ``systemd-nspawn`` session, a mounted image);
- ``README.md``: the steps, and what stays per device (``write-boot``: host name, keys, Wi-Fi,
  bundle) so one image serves the whole fleet.

The image holds no device identity: each card gets its own through ``write-boot``. Every file is
written whole (temporary name, then rename); the directory is built beside its target and swapped in.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fmd_provision.deploy import default_source, source_archive
from fmd_provision.errors import TargetError
from fmd_provision.files import write_directory

TARBALL = "fmd-terminal-src.tar.gz"
EXECUTABLE = 0o755

INSTALL_IN_ROOT = f"""#!/bin/sh
# Install the FMD terminal into a Raspberry Pi OS root file system being built.
#   sh install-in-chroot.sh ROOTFS_DIR
# Unpacks {TARBALL} (beside this script) into ROOTFS_DIR/opt/fmd-terminal/src and runs its
# install.sh inside the root with FMD_NO_START=1 (nothing is started; the unit is enabled).
set -eu
ROOTFS_DIR="${{1:?usage: install-in-chroot.sh ROOTFS_DIR}}"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$ROOTFS_DIR/opt/fmd-terminal/src"
install -d "$ROOTFS_DIR/opt/fmd-terminal/src"
tar -xzf "$HERE/{TARBALL}" -C "$ROOTFS_DIR/opt/fmd-terminal/src" --no-same-owner
chroot "$ROOTFS_DIR" /usr/bin/env FMD_NO_START=1 sh /opt/fmd-terminal/src/device/system/install.sh
"""

PI_GEN_PRERUN = """#!/bin/bash -e
# pi-gen: start this stage from the previous stage's root file system.
if [ ! -d "${ROOTFS_DIR}" ]; then
    copy_previous
fi
"""

PI_GEN_RUN = f"""#!/bin/bash -e
# pi-gen step: the FMD scan terminal (fmd-provision image-config).
rm -rf "${{ROOTFS_DIR}}/opt/fmd-terminal/src"
install -d "${{ROOTFS_DIR}}/opt/fmd-terminal/src"
tar -xzf files/{TARBALL} -C "${{ROOTFS_DIR}}/opt/fmd-terminal/src" --no-same-owner
on_chroot << EOF
FMD_NO_START=1 sh /opt/fmd-terminal/src/device/system/install.sh
EOF
"""

PI_GEN_EXPORT = 'IMG_SUFFIX="-fmd-terminal"\n'

README = f"""# FMD terminal image configuration

Made by `fmd-provision image-config`. The image carries the software; each card gets its own
identity at flashing time with `fmd-provision write-boot` (host name, SSH key, Wi-Fi, device bundle).

## With pi-gen (stage-based)

1. Copy `pi-gen/stage-fmd` into your pi-gen checkout.
2. In pi-gen's `config`: `STAGE_LIST="stage0 stage1 stage2 stage-fmd"` (Lite image plus the
   terminal), and `touch stage2/SKIP_IMAGES` so only the terminal image is exported.
3. `./build-docker.sh` (or `sudo ./build.sh`). The image is `deploy/*-fmd-terminal.img`.

## With rpi-image-gen or another builder

Run `sh install-in-chroot.sh ROOTFS_DIR` as root once the root file system has Raspberry Pi OS Lite's
packages (from an rpi-image-gen customisation hook, or on a mounted image). It needs network access
for apt and pip, as the build does anyway.

## Per card

    fmd-provision new-device --out pharm-01 --device-id pharm-01 --service https://...
    fmd-provision write-boot terminal.img --hostname pharm-01 --ssh-key ~/.ssh/id_ed25519.pub \\
        --bundle pharm-01 --wifi-ssid Pharmacie --wifi-password-file wifi.txt

then flash `terminal.img` (Raspberry Pi Imager "Use custom", `rpi-imager --cli`, or `dd`). At first
boot cloud-init applies the settings, moves the key off the boot partition into
`/etc/fmd-terminal` (mode 0600) and restarts the terminal on its identity.

## Source

`{TARBALL}` is the source tree the image was built from; `install.sh` inside it is the same
one-command install used on a running Pi (`fmd-provision deploy --host`).
"""


def image_config(out: Path, source: Path | None = None) -> list[str]:
    """Write the image configuration directory ``out``; return the files written (relative)."""
    out = Path(out)
    archive = source_archive(source or default_source(), {})
    files: dict[str, tuple[bytes, int]] = {
        TARBALL: (archive, 0o644),
        "install-in-chroot.sh": (INSTALL_IN_ROOT.encode(), EXECUTABLE),
        "README.md": (README.encode(), 0o644),
        "pi-gen/stage-fmd/prerun.sh": (PI_GEN_PRERUN.encode(), EXECUTABLE),
        "pi-gen/stage-fmd/00-fmd-terminal/00-run.sh": (PI_GEN_RUN.encode(), EXECUTABLE),
        f"pi-gen/stage-fmd/00-fmd-terminal/files/{TARBALL}": (archive, 0o644),
        "pi-gen/stage-fmd/EXPORT_IMAGE": (PI_GEN_EXPORT.encode(), 0o644),
    }
    if out.exists() and any(out.iterdir()) and not (out / TARBALL).is_file():
        raise TargetError(f"{str(out)!r} is not empty and was not made by image-config: refusing to replace it")
    write_directory(out, dict(files), mode=0o755)
    return sorted(files)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("build/image-config"),
                        help="directory to write (default build/image-config; replaced if it exists)")
    parser.add_argument("--source", type=Path, help="source tree to package (default: this checkout)")


def execute(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise TargetError(f"{str(args.out)!r} exists and is not a directory")
    written = image_config(args.out, args.source)
    print(f"{args.out}: {len(written)} files; see {args.out / 'README.md'}")
    return 0
