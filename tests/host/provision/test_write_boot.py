"""fmd-provision write-boot into FAT images the tests build themselves, and onto a "mounted" partition.

Images are made and read back in pure Python (pyfatfs); where dosfstools is installed, an image made
by mkfs.fat (as on a Raspberry Pi OS card) is also checked with fsck.fat after our writes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import struct
import subprocess

import pytest
import yaml
from pyfatfs.PyFat import PyFat

from fmd_provision import boot
from fmd_provision.bundle import new_device

MIB = 1024 * 1024


def make_fat(path, size_mib=8, fat_type=PyFat.FAT_TYPE_FAT16):
    with open(path, "wb") as handle:
        handle.truncate(size_mib * MIB)
    fat = PyFat()
    fat.mkfs(str(path), fat_type=fat_type, size=size_mib * MIB, label="bootfs")
    fat.close()
    return path


def make_disk(path, partition):
    """A disk image: an MBR whose first partition (type 0x0c, FAT32 LBA) starts at sector 2048."""
    start = 2048
    sectors = partition.stat().st_size // 512
    mbr = bytearray(512)
    mbr[446:462] = bytes([0, 0, 0, 0, 0x0C, 0, 0, 0]) + struct.pack("<II", start, sectors)
    mbr[510:512] = b"\x55\xaa"
    with open(path, "wb") as disk:
        disk.write(mbr)
        disk.seek(start * 512)
        disk.write(partition.read_bytes())
    return start * 512


def read_fat(image, offset=0):
    fat = boot.open_fat(str(image), offset, read_only=True)
    try:
        files = {}
        for path in fat.walk.files():
            files[path] = fat.readbytes(path)
        return files
    finally:
        fat.close()


@pytest.fixture
def ssh_key(tmp_path):
    path = tmp_path / "admin.pub"
    path.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq7n0F1yGf3e4vYx0m0b2QGQqZ7n3u8Y3eQb1Yx6ZzA admin@desk\n")
    return path


@pytest.fixture
def bundle(tmp_path):
    path = tmp_path / "bundle"
    new_device(path, "pharm-01", "https://mvs.example.test")
    return path


@pytest.fixture
def wifi_password(tmp_path):
    path = tmp_path / "wifi.txt"
    path.write_text("correct horse battery\n")
    path.chmod(0o600)
    return path


def test_partition_image(provision, tmp_path, ssh_key, bundle, wifi_password):
    image = make_fat(tmp_path / "boot.img")
    run = provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key, "--bundle", bundle,
                    "--wifi-ssid", "Pharmacie", "--wifi-password-file", wifi_password, "--wifi-country", "fr")
    assert run.code == 0, run.err
    files = read_fat(image)
    assert sorted(files) == ["/fmd/device.csr", "/fmd/device.key", "/fmd/fmd-terminal.toml", "/meta-data",
                             "/network-config", "/ssh", "/user-data"]
    assert config_enables_i2c_and_ssh(files)
    assert files["/fmd/device.key"] == (bundle / "device.key").read_bytes()
    user_data = files["/user-data"].decode()
    assert user_data.startswith("#cloud-config\n")
    config = yaml.safe_load(user_data)
    assert config["hostname"] == "fmd-01"
    assert config["ssh_pwauth"] is False
    assert config["users"][0]["ssh_authorized_keys"] == [ssh_key.read_text().strip()]
    assert config["users"][0]["lock_passwd"] is True
    assert config["runcmd"] == [["sh", "-c", boot.FIRST_BOOT_SCRIPT]]
    network = yaml.safe_load(files["/network-config"])["network"]
    assert network["version"] == 2
    wlan = network["wifis"]["wlan0"]
    assert wlan["regulatory-domain"] == "FR"
    assert wlan["access-points"]["Pharmacie"]["password"] == boot.wpa_psk("Pharmacie", "correct horse battery")
    assert b"correct horse" not in b"".join(files.values())
    assert yaml.safe_load(files["/meta-data"])["instance-id"].startswith("fmd-fmd-01-")


def config_enables_i2c_and_ssh(files):
    """Raspberry Pi's cloud-init module (cc_raspberry_pi: rpi.interfaces) and the SSH switches."""
    config = yaml.safe_load(files["/user-data"])
    return config["rpi"]["interfaces"]["i2c"] is True and config["enable_ssh"] is True and files["/ssh"] == b""


def test_wpa_psk_matches_the_ieee_test_vector():
    # IEEE 802.11i-2004, H.4.3 test vector 1
    assert boot.wpa_psk("IEEE", "password") == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"


def test_new_settings_replace_the_old_and_change_the_instance_id(provision, tmp_path, ssh_key, bundle):
    image = make_fat(tmp_path / "boot.img")
    assert provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key, "--bundle", bundle).code == 0
    first = read_fat(image)
    second_bundle = tmp_path / "other"
    new_device(second_bundle, "pharm-02", "https://mvs.example.test")
    (second_bundle / "device.csr").unlink()
    many_keys = tmp_path / "team.pub"  # a user-data of several clusters replaces a smaller one
    many_keys.write_text(ssh_key.read_text() * 60)
    assert provision("write-boot", image, "--hostname", "fmd-02", "--ssh-key", many_keys,
                     "--bundle", second_bundle).code == 0
    second = read_fat(image)
    assert len(second["/user-data"]) > 4096
    assert len(yaml.safe_load(second["/user-data"])["users"][0]["ssh_authorized_keys"]) == 60
    assert "/fmd/device.csr" not in second
    assert second["/fmd/device.key"] == (second_bundle / "device.key").read_bytes()
    assert yaml.safe_load(second["/meta-data"])["instance-id"] != yaml.safe_load(first["/meta-data"])["instance-id"]


def test_disk_image_with_mbr_and_fat32(provision, tmp_path, ssh_key):
    partition = make_fat(tmp_path / "part.img", size_mib=40, fat_type=PyFat.FAT_TYPE_FAT32)
    disk = tmp_path / "disk.img"
    offset = make_disk(disk, partition)
    disk.chmod(0o644)
    run = provision("write-boot", disk, "--hostname", "fmd-03", "--ssh-key", ssh_key)
    assert run.code == 0, run.err
    assert yaml.safe_load(read_fat(disk, offset)["/user-data"])["hostname"] == "fmd-03"
    assert disk.stat().st_mode & 0o777 == 0o644
    raw = disk.read_bytes()
    fsinfo = offset + struct.unpack("<H", raw[offset + 48: offset + 50])[0] * 512
    assert raw[fsinfo + 488: fsinfo + 496] == b"\xff" * 8  # free count "unknown", not stale
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.pub", "disk.img", "part.img"]


@pytest.mark.skipif(shutil.which("mkfs.fat") is None or shutil.which("fsck.fat") is None,
                    reason="dosfstools (mkfs.fat, fsck.fat) is not installed")
def test_mkfs_fat_image_stays_consistent_for_fsck(provision, tmp_path, ssh_key, bundle):
    image = tmp_path / "bootfs.img"
    with open(image, "wb") as handle:
        handle.truncate(64 * MIB)
    subprocess.run(["mkfs.fat", "-F", "32", "-n", "BOOTFS", str(image)], check=True, capture_output=True)
    for hostname in ("fmd-04", "fmd-05"):  # a rewrite keeps the file system consistent too
        run = provision("write-boot", image, "--hostname", hostname, "--ssh-key", ssh_key, "--bundle", bundle)
        assert run.code == 0, run.err
    check = subprocess.run(["fsck.fat", "-n", str(image)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert yaml.safe_load(read_fat(image)["/user-data"])["hostname"] == "fmd-05"


def test_not_fat_is_refused_and_left_alone(provision, tmp_path, ssh_key):
    image = tmp_path / "notfat.img"
    image.write_bytes(b"\x00" * 4096)
    run = provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key)
    assert run.code == 4
    assert "is not a FAT file system image" in run.err
    assert image.read_bytes() == b"\x00" * 4096
    assert sorted(p.name for p in tmp_path.iterdir()) == ["admin.pub", "notfat.img"]


def test_unmounted_directory_is_refused(provision, tmp_path, ssh_key):
    card = tmp_path / "bootfs"
    card.mkdir()
    run = provision("write-boot", card, "--hostname", "fmd-01", "--ssh-key", ssh_key)
    assert run.code == 4
    assert "is not mounted" in run.err
    assert list(card.iterdir()) == []


def test_missing_target(provision, tmp_path, ssh_key):
    run = provision("write-boot", tmp_path / "nowhere", "--hostname", "fmd-01", "--ssh-key", ssh_key)
    assert run.code == 4
    assert "does not exist" in run.err


def fake_mountinfo(tmp_path, mount_point, fs_type):
    escaped = str(mount_point).replace(" ", "\\040")
    path = tmp_path / "mountinfo"
    path.write_text(
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
        f"98 22 179:1 / {escaped} rw,relatime shared:50 - {fs_type} /dev/mmcblk0p1 rw,fmask=0022\n"
    )
    return path


def test_mounted_fat_partition(tmp_path, ssh_key, bundle):
    card = tmp_path / "boot fs"  # a space, escaped as \040 in mountinfo
    card.mkdir()
    (card / "config.txt").write_text("dtparam=i2c_arm=on\n")
    mountinfo = fake_mountinfo(tmp_path, card, "vfat")
    files = boot.cloud_init_files("fmd-01", boot.read_ssh_keys([ssh_key]))
    assert boot.write_boot(card, files, boot.read_bundle(bundle), mountinfo) == "partition"
    assert sorted(p.name for p in card.iterdir()) == ["config.txt", "fmd", "meta-data", "network-config", "ssh",
                                                       "user-data"]
    assert (card / "fmd" / "device.key").read_bytes() == (bundle / "device.key").read_bytes()
    assert json.loads((card / "network-config").read_text())["network"]["version"] == 2
    # a second run swaps the bundle without leaving temporary directories
    assert boot.write_boot(card, files, boot.read_bundle(bundle), mountinfo) == "partition"
    assert sorted(p.name for p in card.iterdir()) == ["config.txt", "fmd", "meta-data", "network-config", "ssh",
                                                       "user-data"]


def test_mounted_but_not_fat_is_refused(tmp_path, ssh_key):
    card = tmp_path / "rootfs"
    card.mkdir()
    files = boot.cloud_init_files("fmd-01", boot.read_ssh_keys([ssh_key]))
    with pytest.raises(boot.TargetError, match="is a ext4 file system, not FAT"):
        boot.write_boot(card, files, {}, fake_mountinfo(tmp_path, card, "ext4"))
    assert list(card.iterdir()) == []


@pytest.mark.parametrize(
    ("case", "message", "code"),
    [
        ("private-ssh-key", "is a private key", 3),
        ("loose-wifi-file", "has mode 0644, expected 0600", 3),
        ("no-wifi-password", "needs --wifi-password-file", 3),
        ("bad-hostname", "host name 'fmd_01' is not valid", 3),
        ("bundle-without-key", "device.key' does not exist", 3),
        ("short-passphrase", "8 to 63 printable ASCII", 3),
    ],
)
def test_bad_input_leaves_the_image_untouched(provision, tmp_path, ssh_key, bundle, monkeypatch, case, message,
                                              code):
    monkeypatch.delenv("FMD_WIFI_PASSWORD", raising=False)
    image = make_fat(tmp_path / "boot.img")
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    args = ["--hostname", "fmd-01", "--ssh-key", ssh_key]
    if case == "private-ssh-key":
        private = tmp_path / "id_ed25519"
        private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
        args = ["--hostname", "fmd-01", "--ssh-key", private]
    elif case == "loose-wifi-file":
        loose = tmp_path / "wifi.txt"
        loose.write_text("correct horse battery\n")
        loose.chmod(0o644)
        args += ["--wifi-ssid", "Pharmacie", "--wifi-password-file", loose]
    elif case == "no-wifi-password":
        args += ["--wifi-ssid", "Pharmacie"]
    elif case == "bad-hostname":
        args[1] = "fmd_01"
    elif case == "bundle-without-key":
        (bundle / "device.key").unlink()
        args += ["--bundle", bundle]
    elif case == "short-passphrase":
        monkeypatch.setenv("FMD_WIFI_PASSWORD", "short")
        args += ["--wifi-ssid", "Pharmacie"]
    run = provision("write-boot", image, *args)
    assert run.code == code
    assert run.err.startswith("fmd-provision: ")
    assert message in run.err
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before


def test_a_block_device_is_refused_with_how_to_mount_it(provision, tmp_path, ssh_key, monkeypatch):
    """An SD card's partition node (hardware, so its block-device test is faked) is not written raw."""
    device = tmp_path / "sdb1"
    monkeypatch.setattr(boot.Path, "is_block_device", lambda self: self == device)
    run = provision("write-boot", device, "--hostname", "fmd-01", "--ssh-key", ssh_key)
    assert run.code == 4
    assert "is a block device: mount it (e.g. udisksctl mount -b" in run.err


@pytest.mark.parametrize(("user", "message"), [
    ("root", "is reserved"), ("fmd", "is reserved"), ("../../etc", "is not valid"), ("admin\nroot", "is not valid"),
    ("o'brien", "is not valid"), ("two words", "is not valid"), ("Admin", "is not valid"), ("-admin", "is not valid"),
    ("", "is not valid"), ("a" * 33, "is not valid"), ("9lives", "is not valid"),
])
def test_an_administrator_name_that_is_not_a_posix_user_name_or_is_root_is_refused(provision, tmp_path, ssh_key,
                                                                                     user, message):
    image = make_fat(tmp_path / "boot.img")
    before = hashlib.sha256(image.read_bytes()).hexdigest()
    run = provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key, f"--user={user}")
    assert run.code == 3
    assert run.err.startswith("fmd-provision: ") and message in run.err and "Traceback" not in run.err
    assert hashlib.sha256(image.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("user", ["fmdadmin", "_svc", "ops-2", "a" * 32])
def test_posix_user_names_are_accepted(provision, tmp_path, ssh_key, user):
    image = make_fat(tmp_path / "boot.img")
    run = provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key, f"--user={user}")
    assert run.code == 0, run.err
    assert yaml.safe_load(read_fat(image)["/user-data"])["users"][0]["name"] == user


def test_an_image_given_the_private_key_becomes_owner_only_and_says_so(provision, tmp_path, ssh_key, bundle):
    image = make_fat(tmp_path / "boot.img")
    image.chmod(0o644)
    run = provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key, "--bundle", bundle)
    assert run.code == 0, run.err
    assert stat.S_IMODE(image.stat().st_mode) == 0o600
    assert "0600" in run.out and "private key" in run.out
    assert read_fat(image)["/fmd/device.key"] == (bundle / "device.key").read_bytes()


def test_an_image_without_a_bundle_keeps_its_mode(provision, tmp_path, ssh_key):
    image = make_fat(tmp_path / "boot.img")
    image.chmod(0o644)
    assert provision("write-boot", image, "--hostname", "fmd-01", "--ssh-key", ssh_key).code == 0
    assert stat.S_IMODE(image.stat().st_mode) == 0o644


@pytest.mark.skipif(shutil.which("mkfs.fat") is None or shutil.which("fsck.fat") is None,
                    reason="dosfstools (mkfs.fat, fsck.fat) is not installed")
@pytest.mark.parametrize(("fat", "size_mib"), [("12", 8), ("12", 4), ("16", 32), ("32", 64)])
def test_writing_twice_keeps_mkfs_fat_images_of_every_fat_type_clean(provision, tmp_path, ssh_key, bundle, fat,
                                                                     size_mib):
    """mkfs.fat's 8 MiB FAT12 volume has 4,081 clusters, just under FAT16's 4,085: pyfatfs used to take it
    for FAT16 and wrote a 16-bit FAT over the 12-bit one (fsck.fat: "Contains a free cluster")."""
    image = tmp_path / "bootfs.img"
    with open(image, "wb") as handle:
        handle.truncate(size_mib * MIB)
    subprocess.run(["mkfs.fat", "-F", fat, "-n", "BOOTFS", str(image)], check=True, capture_output=True)
    for hostname in ("fmd-04", "fmd-05"):
        run = provision("write-boot", image, "--hostname", hostname, "--ssh-key", ssh_key, "--bundle", bundle)
        assert run.code == 0, run.err
        check = subprocess.run(["fsck.fat", "-n", str(image)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    files = read_fat(image)
    assert yaml.safe_load(files["/user-data"])["hostname"] == "fmd-05"
    assert files["/fmd/device.key"] == (bundle / "device.key").read_bytes()
