"""``fmd-provision write-boot``: first-boot settings on a Raspberry Pi OS boot partition.

Raspberry Pi OS images from Trixie on (October 2025) run **cloud-init** with the NoCloud data source
on the boot partition (SCANNERS-AND-HARDWARE.md section 6, "Provisioning"). We write there:

- ``user-data``: ``#cloud-config`` (written as JSON, which YAML 1.2 reads unchanged, so no value
  can break the quoting): host name, an administrator with the given SSH keys and no password,
  ``ssh_pwauth: false``, SSH on, I2C on (Raspberry Pi's ``rpi`` cloud-init module), the time zone,
  and a ``runcmd`` that moves the bundle's secrets off the FAT partition into ``etc/fmd-terminal``
  (mode 0600) at first boot;
- ``network-config``: netplan version 2, Ethernet by DHCP and, when given, one Wi-Fi network. The
  passphrase is stored as its WPA-PSK (PBKDF2-HMAC-SHA1, IEEE 802.11i H.4), never in clear;
- ``meta-data``: an ``instance-id`` derived from the two files above, so writing new settings makes
  cloud-init apply them again;
- ``ssh``: an empty file, Raspberry Pi OS's older way to turn the SSH server on (``enable_ssh`` in
  ``user-data`` is the cloud-init one; which one a given image honours is to confirm on hardware);
- ``fmd/``: the device bundle of ``fmd-provision new-device``, for ``install.sh``.

The target is either a **mounted** boot partition (a directory that is a mount point of a FAT file
system, checked in ``proc/self/mountinfo``) or a **FAT image file**: a partition image, or a whole
disk image whose first MBR partition is FAT (a stock ``.img``). Images are edited with pyfatfs on a
copy that is renamed over the original at the end: no root, no loop mount, nothing half-written.
On a mounted partition every file is written to a temporary name and renamed, and ``fmd/`` is
built beside the old one and swapped in.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from fmd_provision.bundle import read_bundle
from fmd_provision.errors import InputError, TargetError
from fmd_provision.files import read_input_file, read_private_key_file, write_atomic, write_directory

log = logging.getLogger(__name__)

BUNDLE_DIR = "fmd"
BOOT_MOUNT_ON_PI = "/boot/firmware"
FAT_TYPES = {"vfat", "msdos", "fat"}
# MBR partition types of FAT file systems (FAT12, FAT16 <32M, FAT16, FAT32 CHS, FAT32 LBA, FAT16 LBA).
MBR_FAT_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-")
ADMIN_GROUPS = "adm,sudo,dialout,input,gpio,i2c,netdev,plugdev,video"
IMAGE_WITH_KEY_MODE = 0o600
# Debian's useradd NAME_REGEX (adduser.conf), within POSIX's portable user-name characters, at most 32.
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# root and the terminal's own service account (device/system sysusers) are not administrator names.
RESERVED_USERS = {"root", "fmd"}


# Run once by cloud-init at first boot: the bundle goes to etc/fmd-terminal; secrets leave the FAT
# partition (no permissions there); an installed terminal (image built with image-config) restarts
# on its new identity. Without the terminal yet, `fmd-provision deploy` installs it later.
_B = f"{BOOT_MOUNT_ON_PI}/{BUNDLE_DIR}"
FIRST_BOOT_SCRIPT = (
    f"[ -d {_B} ] || exit 0; "
    "install -d -m 0750 /etc/fmd-terminal; "
    "for f in device.key secrets.toml; do "
    f"if [ -f {_B}/$f ]; then install -m 0600 {_B}/$f /etc/fmd-terminal/$f && rm -f {_B}/$f; fi; done; "
    "for f in fmd-terminal.toml device.crt ca.crt; do "
    f"if [ -f {_B}/$f ]; then install -m 0640 {_B}/$f /etc/fmd-terminal/$f; fi; done; "
    "if id fmd >/dev/null 2>&1; then "
    "chown -R root:fmd /etc/fmd-terminal; "
    "for f in device.key secrets.toml device.crt ca.crt; do "
    "if [ -f /etc/fmd-terminal/$f ]; then chown fmd:fmd /etc/fmd-terminal/$f; fi; done; "
    "systemctl try-restart fmd-terminal.service; fi"
)


def wpa_psk(ssid: str, passphrase: str) -> str:
    """The 256-bit WPA pre-shared key of a passphrase, in hex (IEEE 802.11i-2004, H.4)."""
    if not 8 <= len(passphrase) <= 63 or any(not 32 <= ord(c) <= 126 for c in passphrase):
        raise InputError("the Wi-Fi passphrase must be 8 to 63 printable ASCII characters")
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode("ascii"), ssid.encode("utf-8"), 4096, 32).hex()


def read_ssh_keys(paths: Iterable[Path]) -> list[str]:
    """The public keys in the given files (one per line); a private key or anything else is refused."""
    keys = []
    for path in paths:
        text = read_input_file(path, "SSH public key file").decode("utf-8", "replace")
        if "PRIVATE KEY" in text:
            raise InputError(f"{str(path)!r} is a private key: give the public one ({path}.pub)")
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not line.startswith(SSH_KEY_TYPES) or len(line.split()) < 2:
                raise InputError(f"{str(path)!r} holds {line[:20]!r}..., not an OpenSSH public key")
            keys.append(line)
    if not keys:
        raise InputError("no SSH public key given: the terminal would be unreachable (use --ssh-key FILE)")
    return keys


def _check_hostname(name: str) -> None:
    """RFC 1123 host name label: letters, digits and '-', 1 to 63 characters, no '-' at either end."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
    if not 1 <= len(name) <= 63 or not set(name) <= allowed or name[0] == "-" or name[-1] == "-":
        raise InputError(f"host name {name!r} is not valid: expected 1-63 letters, digits or '-' (RFC 1123)")


def _check_user(name: str) -> None:
    """The administrator account: a POSIX user name as Debian's useradd accepts it, and not root."""
    if name in RESERVED_USERS:
        raise InputError(f"user {name!r} is reserved (root, or the terminal's service account): choose an "
                         "administrator name such as fmdadmin")
    if not USER_NAME.fullmatch(name):
        raise InputError(f"user name {name!r} is not valid: expected 1-32 lower-case letters, digits, '_' or '-', "
                         "starting with a letter or '_' (e.g. fmdadmin)")


def cloud_init_files(
    hostname: str,
    ssh_keys: list[str],
    *,
    user: str = "fmdadmin",
    timezone: str = "Europe/Paris",
    wifi: tuple[str, str, str] | None = None,
) -> dict[str, bytes]:
    """``user-data``, ``network-config`` and ``meta-data`` for cloud-init's NoCloud data source.

    ``wifi`` is ``(ssid, passphrase, country)``; the country is the regulatory domain (ISO 3166-1).
    """
    _check_hostname(hostname)
    _check_user(user)
    user_data = {
        "hostname": hostname,
        "manage_etc_hosts": True,
        "timezone": timezone,
        "users": [
            {
                "name": user,
                "groups": ADMIN_GROUPS,
                "shell": "/bin/bash",
                "lock_passwd": True,
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "ssh_authorized_keys": ssh_keys,
            }
        ],
        "ssh_pwauth": False,
        "enable_ssh": True,
        "rpi": {"interfaces": {"i2c": True}},
        "runcmd": [["sh", "-c", FIRST_BOOT_SCRIPT]],
    }
    network: dict[str, object] = {
        "version": 2,
        "ethernets": {"eth0": {"dhcp4": True, "optional": True}},
    }
    if wifi is not None:
        ssid, passphrase, country = wifi
        if not 1 <= len(ssid.encode("utf-8")) <= 32:
            raise InputError(f"Wi-Fi network name {ssid!r} must be 1 to 32 bytes")
        if len(country) != 2 or not country.isalpha():
            raise InputError(f"Wi-Fi country {country!r} must be two letters (ISO 3166-1), e.g. FR")
        network["wifis"] = {
            "renderer": "NetworkManager",
            "wlan0": {
                "dhcp4": True,
                "optional": True,
                "regulatory-domain": country.upper(),
                "access-points": {ssid: {"password": wpa_psk(ssid, passphrase)}},
            },
        }
    files = {
        "user-data": ("#cloud-config\n" + json.dumps(user_data, indent=2) + "\n").encode("utf-8"),
        "network-config": (json.dumps({"network": network}, indent=2) + "\n").encode("utf-8"),
    }
    digest = hashlib.sha256(files["user-data"] + files["network-config"]).hexdigest()[:12]
    files["meta-data"] = f"instance-id: fmd-{hostname}-{digest}\nlocal-hostname: {hostname}\n".encode()
    files["ssh"] = b""  # Raspberry Pi OS's older switch for the SSH server, beside enable_ssh
    return files


# ---- where to write: a mounted partition or an image file ------------------------------------------


def _unescape_mount_path(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo octal (proc(5))."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounted_fs_type(directory: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> str | None:
    """The file system type mounted exactly at ``directory``, or None when it is not a mount point."""
    target = os.path.realpath(directory)
    found = None
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError as error:
        raise TargetError(f"cannot read the mount table {str(mountinfo)!r}: {error.strerror}") from None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) >= 5 and right and _unescape_mount_path(fields[4]) == target:
            found = right.split()[0]  # the last mount at a place hides the ones below it
    return found


def fat_offset(image: Path) -> int:
    """Byte offset of the FAT file system in ``image``: 0 for a partition image, the first MBR
    partition's start for a disk image. Anything else is refused (Microsoft FAT specification,
    boot sector and BPB; MBR partition table at byte 446)."""
    try:
        with open(image, "rb") as handle:
            first = handle.read(512)
            if _is_fat_boot_sector(first):
                return 0
            if len(first) == 512 and first[510:512] == b"\x55\xaa":
                for index in range(4):
                    entry = first[446 + 16 * index : 462 + 16 * index]
                    start = struct.unpack("<I", entry[8:12])[0]
                    if entry[4] in MBR_FAT_TYPES and start:
                        handle.seek(start * 512)
                        if _is_fat_boot_sector(handle.read(512)):
                            return start * 512
    except OSError as error:
        raise TargetError(f"cannot read {str(image)!r}: {error.strerror}") from None
    raise TargetError(
        f"{str(image)!r} is not a FAT file system image, nor a disk image with a FAT first partition"
    )


def _is_fat_boot_sector(sector: bytes) -> bool:
    if len(sector) < 512 or sector[510:512] != b"\x55\xaa" or sector[0] not in (0xEB, 0xE9):
        return False
    bytes_per_sector = struct.unpack("<H", sector[11:13])[0]
    sectors_per_cluster = sector[13]
    fat_count = sector[16]
    power_of_two = sectors_per_cluster and not sectors_per_cluster & (sectors_per_cluster - 1)
    return bytes_per_sector in (512, 1024, 2048, 4096) and bool(power_of_two) and fat_count in (1, 2)


def write_to_image(image: Path, files: dict[str, bytes], bundle: dict[str, tuple[bytes, int]]) -> None:
    """Write into a copy of the image with pyfatfs, then rename the copy over the original."""
    from fs.errors import FSError
    from pyfatfs import PyFATException

    offset = fat_offset(image)
    try:
        fd, temporary = tempfile.mkstemp(prefix="." + image.name + ".", suffix=".tmp", dir=image.parent)
        os.close(fd)
        shutil.copyfile(image, temporary)
        if bundle:  # the image will hold the device's private key: owner only, whatever it was before
            os.chmod(temporary, IMAGE_WITH_KEY_MODE)
        else:
            shutil.copymode(image, temporary)
    except OSError as error:
        raise TargetError(f"cannot copy {str(image)!r} beside itself: {error.strerror}") from None
    try:
        fat = open_fat(temporary, offset)
        try:
            for name, data in files.items():
                # remove first: pyfatfs 1.1 corrupts the cluster chain when it overwrites a file
                # of more than one cluster in place ("FREE_CLUSTER mark found in FAT cluster chain")
                if fat.exists("/" + name):
                    fat.remove("/" + name)
                fat.writebytes("/" + name, data)
            if bundle:
                if fat.exists("/" + BUNDLE_DIR):
                    fat.removetree("/" + BUNDLE_DIR)
                fat.makedir("/" + BUNDLE_DIR)
                for name, (data, _mode) in bundle.items():
                    fat.writebytes(f"/{BUNDLE_DIR}/{name}", data)
        finally:
            fat.close()
        with open(temporary, "rb+") as handle:
            _forget_fat32_free_count(handle, offset)
            os.fsync(handle.fileno())
        os.replace(temporary, image)
    except (FSError, PyFATException, OSError, ValueError) as error:
        _remove(temporary)
        raise TargetError(f"cannot write into the FAT image {str(image)!r}: {error}") from None
    except BaseException:
        _remove(temporary)
        raise


def open_fat(path: str, offset: int = 0, read_only: bool = False) -> Any:
    """A pyfatfs ``PyFatFS`` on the FAT file system at ``offset`` in ``path``, of the right FAT type
    (read-only on request, e.g. to read an image back in the tests).

    pyfatfs 1.1 counts the data clusters, which decide FAT12/16/32 (Microsoft FAT specification, "FAT
    type determination"), before it has computed the root directory's size (``root_dir_sectors`` is
    still 0), so it overcounts: mkfs.fat's 8 MiB FAT12 volume has 4,081 clusters, pyfatfs counts 4,089,
    past the 4,085 limit, and then reads and writes the 12-bit FAT as a 16-bit one (fsck.fat: "Contains
    a free cluster"). The subclass computes the root directory's size first; the rest is pyfatfs's own.
    """
    import datetime as dt

    from fs.base import FS
    from pyfatfs.PyFat import PyFat
    from pyfatfs.PyFatFS import PyFatFS

    class RootDirectoryFirst(PyFat):
        def _PyFat__determine_fat_type(self) -> Any:  # pyfatfs's private (name-mangled) method
            bytes_per_sector = self.bpb_header["BPB_BytsPerSec"]
            self.root_dir_sectors = (self.bpb_header["BPB_RootEntCnt"] * 32 + bytes_per_sector - 1) // bytes_per_sector
            return PyFat._PyFat__determine_fat_type(self)  # type: ignore[attr-defined]

    class FatFS(PyFatFS):
        def __init__(self) -> None:  # PyFatFS.__init__ with our PyFat (it names its class directly)
            FS.__init__(self)
            self.preserve_case = True
            self.fs = RootDirectoryFirst(offset=offset, lazy_load=True)
            self.fs.open(path, read_only=read_only)
            self.tz = dt.datetime.now(dt.UTC).astimezone().tzinfo

    return FatFS()


def _forget_fat32_free_count(handle: BinaryIO, offset: int) -> None:
    """Mark FAT32's cached free-cluster count and next-free hint unknown (0xFFFFFFFF).

    pyfatfs does not update the FSInfo sector, so the cached count would be stale; "unknown" is
    legal and makes the next reader count (Microsoft FAT specification, "FSInfo structure").
    """
    handle.seek(offset)
    sector = handle.read(512)
    if sector[82:87] != b"FAT32":
        return
    fsinfo = struct.unpack("<H", sector[48:50])[0]
    handle.seek(offset + fsinfo * 512)
    if fsinfo in (0, 0xFFFF) or handle.read(4) != b"RRaA":
        return
    handle.seek(offset + fsinfo * 512 + 488)
    handle.write(b"\xff" * 8)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_to_directory(directory: Path, files: dict[str, bytes], bundle: dict[str, tuple[bytes, int]]) -> None:
    """Each file through a temporary name; ``fmd/`` built beside the old one and swapped in.

    Modes are left alone: FAT has no permissions (and chmod there may fail with EPERM).
    """
    for name, data in files.items():
        write_atomic(directory / name, data, None)
    if bundle:
        write_directory(directory / BUNDLE_DIR, {name: (data, None) for name, (data, _mode) in bundle.items()},
                        mode=None)


def write_boot(
    target: Path,
    files: dict[str, bytes],
    bundle: dict[str, tuple[bytes, int]],
    mountinfo: Path = Path("/proc/self/mountinfo"),
) -> str:
    """Write to a mounted FAT partition or into a FAT image file; return "image" or "partition"."""
    target = Path(target)
    if target.is_file():
        write_to_image(target, files, bundle)
        return "image"
    if target.is_block_device():
        raise TargetError(
            f"{str(target)!r} is a block device: mount it (e.g. udisksctl mount -b {target}) and give the "
            "mount point, or give an image file"
        )
    if not target.is_dir():
        raise TargetError(f"{str(target)!r} does not exist: give the mounted boot partition or an image file")
    fs_type = mounted_fs_type(target, mountinfo)
    if fs_type is None:
        raise TargetError(
            f"{str(target)!r} is not mounted: give the mount point of the SD card's boot partition "
            "(e.g. /media/$USER/bootfs), or the image file"
        )
    if fs_type not in FAT_TYPES:
        raise TargetError(f"{str(target)!r} is a {fs_type} file system, not FAT: it is not a boot partition")
    if not (target / "config.txt").exists():
        log.warning("%s has no config.txt: is it a Raspberry Pi boot partition?", target)
    write_to_directory(target, files, bundle)
    return "partition"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, help="mounted boot partition (directory) or FAT image file")
    parser.add_argument("--hostname", required=True, help="the terminal's host name")
    parser.add_argument("--ssh-key", action="append", type=Path, default=[], required=True,
                        help="OpenSSH public key file for the administrator (repeatable)")
    parser.add_argument("--user", default="fmdadmin", help="administrator account (default fmdadmin)")
    parser.add_argument("--timezone", default="Europe/Paris", help="time zone (default Europe/Paris)")
    parser.add_argument("--bundle", type=Path, help="device bundle from `fmd-provision new-device`")
    parser.add_argument("--wifi-ssid", help="Wi-Fi network name")
    parser.add_argument("--wifi-password-file", type=Path,
                        help="file (mode 0600) holding the Wi-Fi passphrase; or set FMD_WIFI_PASSWORD")
    parser.add_argument("--wifi-country", default="FR", help="Wi-Fi regulatory domain (default FR)")


def execute(args: argparse.Namespace) -> int:
    wifi = None
    if args.wifi_ssid:
        if args.wifi_password_file:
            passphrase = read_private_key_file(args.wifi_password_file, "Wi-Fi password file").decode(
                "utf-8", "replace").strip("\r\n")
        elif os.environ.get("FMD_WIFI_PASSWORD"):
            passphrase = os.environ["FMD_WIFI_PASSWORD"]
        else:
            raise InputError("--wifi-ssid needs --wifi-password-file FILE or FMD_WIFI_PASSWORD")
        wifi = (args.wifi_ssid, passphrase, args.wifi_country)
    files = cloud_init_files(args.hostname, read_ssh_keys(args.ssh_key), user=args.user,
                             timezone=args.timezone, wifi=wifi)
    bundle = read_bundle(args.bundle) if args.bundle else {}
    kind = write_boot(args.target, files, bundle)
    written = sorted(files) + ([BUNDLE_DIR + "/"] if bundle else [])
    print(f"{args.target} ({kind}): {', '.join(written)}")
    if bundle and kind == "image":
        print(f"{args.target}: mode set to {IMAGE_WITH_KEY_MODE:04o} (owner only): the image holds the device's "
              "private key; keep every copy of it as private")
    elif bundle:
        print(f"{args.target}: the device's private key is on the FAT partition, readable as its mount options "
              "allow, until the first boot moves it to /etc/fmd-terminal (0600); unmount the card now")
    return 0
