"""Fixtures for the screen adapters: golden PNG comparison, a recording I2C interface, a fake clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "screens"


class RecordingSerial:
    """Stands in for luma's I2C interface: keeps every ``command`` and ``data`` call in order."""

    def __init__(self, fail_with: BaseException | None = None):
        self.calls: list[tuple[str, tuple[int, ...] | bytes]] = []
        self.fail_with = fail_with
        self.cleaned_up = False

    def command(self, *cmd: int) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(("command", tuple(cmd)))

    def data(self, data) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(("data", bytes(data)))

    def cleanup(self) -> None:
        self.cleaned_up = True

    def data_calls(self) -> list[bytes]:
        return [payload for kind, payload in self.calls if kind == "data"]

    def commands(self) -> list[tuple[int, ...]]:
        return [payload for kind, payload in self.calls if kind == "command"]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def recording_serial() -> RecordingSerial:
    return RecordingSerial()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def assert_golden(tmp_path):
    """Compare an image with ``tests/golden/screens/<name>.png`` pixel for pixel.

    With ``FMD_REGENERATE_GOLDEN=1`` (``make golden``) the golden file is written instead. On a
    mismatch the actual image is saved under the test's ``tmp_path`` and the failure names it.
    """

    def check(name: str, image: Image.Image) -> None:
        golden = GOLDEN_DIR / f"{name}.png"
        if os.environ.get("FMD_REGENERATE_GOLDEN") == "1":
            GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
            image.save(golden, optimize=True)
            return
        actual = tmp_path / f"{name}.actual.png"
        if not golden.exists():
            image.save(actual)
            pytest.fail(
                f"no golden image {golden}; actual saved as {actual}; run `make golden` and review it"
            )
        with Image.open(golden) as stored:
            expected = stored.convert("1")
        if expected.size != image.size or expected.tobytes() != image.tobytes():
            image.save(actual)
            pytest.fail(f"screen {name!r} differs from {golden}; actual image: {actual}")

    return check
