"""The header's GPIO chip is found from the board, over device-tree/sysfs samples of four Pi models."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from fmd_terminal.errors import DeviceError
from fmd_terminal.indicators.board import find_board, gpio_chips
from fmd_terminal.indicators.gpio import load_pin_factory

BOARDS = Path(__file__).parent / "boards"
SAMPLES = {
    "pi-zero-2-w": ("Raspberry Pi Zero 2 W Rev 1.0", "brcm,bcm2837", 0, "pinctrl-bcm2835"),
    "pi-3-model-b-plus": ("Raspberry Pi 3 Model B Plus Rev 1.3", "brcm,bcm2837", 0, "pinctrl-bcm2835"),
    "pi-4-model-b": ("Raspberry Pi 4 Model B Rev 1.5", "brcm,bcm2711", 0, "pinctrl-bcm2711"),
    "pi-5-model-b-kernel-6.6.31": ("Raspberry Pi 5 Model B Rev 1.0", "brcm,bcm2712", 4, "pinctrl-rp1"),
    "pi-5-model-b-kernel-6.12": ("Raspberry Pi 5 Model B Rev 1.1", "brcm,bcm2712", 0, "pinctrl-rp1"),
}


def test_every_sample_is_tested():
    assert sorted(path.name for path in BOARDS.iterdir() if path.is_dir()) == sorted(SAMPLES)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_the_header_chip_is_the_one_labelled_for_the_soc(sample):
    model, soc, chip, label = SAMPLES[sample]
    board = find_board(BOARDS / sample)
    assert (board.model, board.soc, board.chip, board.label) == (model, soc, chip, label)


def test_the_pi_5_chip_follows_the_kernel_renumbering():
    old = gpio_chips(BOARDS / "pi-5-model-b-kernel-6.6.31")
    new = gpio_chips(BOARDS / "pi-5-model-b-kernel-6.12")
    assert old[4] == new[0] == "pinctrl-rp1"
    assert sorted(old) == [0, 1, 2, 3, 4] and sorted(new) == [0, 10, 11, 12, 13]
    # The BCM2712's own banks share one device per two chips: no label is guessed for them.
    assert old[0] is None and new[10] is None


def test_the_firmware_expander_is_listed_but_never_chosen():
    assert gpio_chips(BOARDS / "pi-4-model-b") == {0: "pinctrl-bcm2711", 1: "raspberrypi-exp-gpio"}


def test_a_machine_without_a_pi_device_tree_is_no_board(tmp_path):
    assert find_board(tmp_path) is None
    dt = tmp_path / "sys/firmware/devicetree/base"
    dt.mkdir(parents=True)
    (dt / "compatible").write_bytes(b"pine64,rock64\0rockchip,rk3328\0")
    assert find_board(tmp_path) is None


def test_the_proc_device_tree_is_read_when_sysfs_has_none(tmp_path):
    dt = tmp_path / "proc/device-tree"
    dt.mkdir(parents=True)
    (dt / "model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\0")
    (dt / "compatible").write_bytes(b"raspberrypi,4-model-b\0brcm,bcm2711\0")
    with pytest.raises(DeviceError, match=r"Raspberry Pi 4 Model B Rev 1\.4: no GPIO chip labelled pinctrl-bcm2711"):
        find_board(tmp_path)


def test_a_pi_whose_kernel_lacks_the_pin_controller_is_told_so(tmp_path):
    import shutil

    shutil.copytree(BOARDS / "pi-4-model-b", tmp_path, symlinks=True, dirs_exist_ok=True)
    (tmp_path / "sys/devices/platform/soc/fe200000.gpio/gpio/gpiochip512/label").write_text("something-else\n")
    with pytest.raises(DeviceError) as error:
        find_board(tmp_path)
    assert "no GPIO chip labelled pinctrl-bcm2711" in str(error.value)
    assert "gpiochip0 something-else, gpiochip1 raspberrypi-exp-gpio" in str(error.value)


@pytest.fixture
def fake_lgpio(monkeypatch):
    """A stand-in for the lgpio C library under gpiozero's real ``LGPIOFactory``: records the chip opened."""
    opened: list[int] = []
    module = types.ModuleType("lgpio")

    class error(Exception):  # noqa: N801 (lgpio's own name)
        pass

    def gpiochip_open(chip):
        opened.append(chip)
        return 100 + chip

    module.error = error

    def constant(name):  # lgpio's flag constants (SET_PULL_NONE, BOTH_EDGES, ...): any distinct number
        if name.isupper():
            return hash(name) & 0xFFFF
        raise AttributeError(name)

    module.__getattr__ = constant
    module.gpiochip_open = gpiochip_open
    module.gpiochip_close = lambda handle: None
    monkeypatch.setitem(sys.modules, "lgpio", module)
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    return opened


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_the_lgpio_factory_opens_the_boards_chip(sample, fake_lgpio):
    factory = load_pin_factory("lgpio", root=BOARDS / sample)
    try:
        assert fake_lgpio == [SAMPLES[sample][2]]
        assert factory._chip == SAMPLES[sample][2]
    finally:
        factory.close()


def test_lgpio_off_a_pi_is_a_device_error_naming_the_cause(tmp_path, fake_lgpio):
    with pytest.raises(DeviceError, match="cannot start here: this is not a Raspberry Pi"):
        load_pin_factory("lgpio", root=tmp_path)
    assert fake_lgpio == []
