"""Write ``device/requirements.txt``: the device extra and pip, every package pinned with its hashes.

    .venv/bin/python tools/pin_device_requirements.py     # needs PyPI; review the diff, commit it

pip resolves ``pyproject.toml``'s ``device`` extra (``pip install --dry-run --report``, a maintained
resolver, no other tool) once for each target the terminal runs on (``TARGETS``: Raspberry Pi OS
Trixie and Bookworm on aarch64, and Trixie on amd64 for the emulated and CI runs), wheels only. The
versions must agree across targets; each line carries the SHA-256 of every target's file, so
``pip install --require-hashes -r device/requirements.txt`` installs exactly these files anywhere.
``evdev`` is published as source only: its source archive is pinned (the Pi takes python3-evdev from
apt). ``tests/system/test_device_requirements.py`` checks the file against ``pyproject.toml``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "device" / "requirements.txt"
# (platform tags, Python version): Raspberry Pi OS / Debian Trixie (3.13) and Bookworm (3.11).
TARGETS = [
    (["manylinux_2_36_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"], "3.13"),
    (["manylinux_2_36_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"], "3.11"),
    (["manylinux_2_36_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"], "3.13"),
]
SOURCE_ONLY = {"evdev"}  # no wheels on PyPI: the source archive is pinned
EXTRA = ["pip"]  # each release's environment carries the pip that installs the next release


def canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def device_requirements() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [*pyproject["project"]["optional-dependencies"]["device"], *EXTRA]


def resolve(requirements: list[str], extra_args: list[str]) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256) of what pip would install with ``extra_args``."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--report", str(report), "--target", str(Path(scratch) / "target"), *extra_args, *requirements],
            check=True,
        )
        items = json.loads(report.read_text())["install"]
    return {canonical(item["metadata"]["name"]): (item["metadata"]["version"],
                                                 item["download_info"]["archive_info"]["hashes"]["sha256"])
            for item in items}


def main() -> int:
    wanted = device_requirements()
    binary = [r for r in wanted if canonical(r.split(";")[0].split(">")[0].split("=")[0].strip()) not in SOURCE_ONLY]
    source = [r.split(";")[0].strip() for r in wanted if r not in binary]
    pins: dict[str, tuple[str, set[str]]] = {}
    for platforms, python in TARGETS:
        args = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
        args += [part for platform in platforms for part in ("--platform", platform)]
        for name, (version, digest) in resolve(binary, args).items():
            known = pins.setdefault(name, (version, set()))
            if known[0] != version:
                raise SystemExit(f"{name}: {known[0]} on one target, {version} on {platforms[0]} {python}")
            known[1].add(digest)
    for name, (version, digest) in resolve(source, ["--no-binary=:all:", "--no-deps"]).items():
        pins[name] = (version, {digest})
    lines = [
        "# The device extra of pyproject.toml and pip, pinned with the SHA-256 of each target's file.",
        "# Written by tools/pin_device_requirements.py; checked by tests/system/test_device_requirements.py.",
        "# Install: pip install --require-hashes -r device/requirements.txt",
    ]
    for name, (version, digests) in sorted(pins.items()):
        hashes = " \\\n    ".join(f"--hash=sha256:{digest}" for digest in sorted(digests))
        lines.append(f"{name}=={version} \\\n    {hashes}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
