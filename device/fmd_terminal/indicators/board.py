"""Which Raspberry Pi this is and which GPIO chip drives its 40-pin header, found from the board.

The header's GPIO chip is not a fixed number: on a Pi 5 it was ``gpiochip4`` until kernel 6.6.45
renumbered RP1's chip to ``gpiochip0`` (gpiozero issue 1166, whose lgpio factory guesses 4 or 0).
So the chip is found the way the kernel names it:

1. the device tree's ``compatible`` (``/sys/firmware/devicetree/base/compatible``, the same as
   ``/proc/device-tree``) names the SoC; each SoC's header is driven by one pin controller whose
   GPIO chip carries a fixed *label* (``HEADER_LABELS``: ``pinctrl-bcm2835`` on the Pi 1, 2, 3,
   Zero and Zero 2 W, ``pinctrl-bcm2711`` on the Pi 4, 400 and CM4, ``pinctrl-rp1`` on the Pi 5,
   500 and CM5);
2. each GPIO chip ``/sys/bus/gpio/devices/gpiochipN`` gets its label from the GPIO character
   device (``GPIO_GET_CHIPINFO_IOCTL`` on ``/dev/gpiochipN``, linux/gpio.h) or, where that cannot be
   opened, from the legacy sysfs class entry beside it (``<parent>/gpio/gpiochipBASE/label``);
3. the chip whose label is the SoC's is the header's: its number ``N`` goes to gpiozero's
   ``LGPIOFactory(chip=N)``.

``root`` is the file system root to read (``/`` on a terminal; a recorded tree in tests).
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from fmd_terminal.errors import DeviceError

# Device-tree SoC compatible -> label of the GPIO chip on the 40-pin header (the kernel's
# pinctrl-bcm2835.c names both its chips' labels; pinctrl-rp1.c names RP1's).
HEADER_LABELS = {
    "brcm,bcm2712": "pinctrl-rp1",
    "brcm,bcm2711": "pinctrl-bcm2711",
    "brcm,bcm2837": "pinctrl-bcm2835",
    "brcm,bcm2836": "pinctrl-bcm2835",
    "brcm,bcm2835": "pinctrl-bcm2835",
}
DEVICE_TREE = ("sys/firmware/devicetree/base", "proc/device-tree")
# _IOR(0xB4, 0x01, struct gpiochip_info { char name[32]; char label[32]; __u32 lines; })
GPIO_GET_CHIPINFO_IOCTL = 0x8044B401
CHIPINFO = struct.Struct("32s32sI")


@dataclass(frozen=True)
class Board:
    """A Raspberry Pi: its model, its SoC, and the number and label of its header's GPIO chip."""

    model: str
    soc: str
    chip: int
    label: str


def _device_tree_strings(root: Path, name: str) -> list[str]:
    """A device-tree property as its NUL-separated strings; [] when no device tree has it."""
    for base in DEVICE_TREE:
        try:
            data = (root / base / name).read_bytes()
        except OSError:
            continue
        return [part.decode("ascii", "replace") for part in data.split(b"\0") if part]
    return []


def _ioctl_label(device: Path) -> str | None:
    """The chip's label from its character device, or None when it cannot be opened as one."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = fcntl.ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, bytes(CHIPINFO.size))
    except OSError:
        return None
    finally:
        os.close(fd)
    return CHIPINFO.unpack(info)[1].split(b"\0", 1)[0].decode("ascii", "replace")


def _sysfs_label(chip: Path) -> str | None:
    """The label of the legacy sysfs entry beside ``chip``, when its parent device has only that one."""
    legacy = sorted((chip.resolve().parent / "gpio").glob("gpiochip*"))
    if len(legacy) != 1:
        return None  # a device with several chips (two banks): which label is whose is not recorded
    try:
        return (legacy[0] / "label").read_text(encoding="ascii").strip()
    except OSError:
        return None


def gpio_chips(root: Path = Path("/")) -> dict[int, str | None]:
    """Every GPIO chip number with its label (None when the label cannot be read)."""
    chips: dict[int, str | None] = {}
    for chip in (root / "sys/bus/gpio/devices").glob("gpiochip*"):
        number = chip.name.removeprefix("gpiochip")
        if number.isdigit():
            chips[int(number)] = _ioctl_label(root / "dev" / chip.name) or _sysfs_label(chip)
    return dict(sorted(chips.items()))


def find_board(root: Path = Path("/")) -> Board | None:
    """The Pi at ``root`` and its header's GPIO chip; None when this is no Raspberry Pi.

    Raises ``DeviceError`` on a Pi whose header chip is missing (a kernel without its pin controller).
    """
    model = " ".join(_device_tree_strings(root, "model"))
    socs = [name for name in _device_tree_strings(root, "compatible") if name in HEADER_LABELS]
    if not socs:
        return None
    soc = socs[0]
    label = HEADER_LABELS[soc]
    chips = gpio_chips(root)
    for number, chip_label in chips.items():
        if chip_label == label:
            return Board(model=model or soc, soc=soc, chip=number, label=label)
    found = ", ".join(f"gpiochip{n} {lbl or '(no label)'}" for n, lbl in chips.items()) or "none"
    raise DeviceError.text("gpio_chip_missing", board=model or soc, label=label, found=found)
