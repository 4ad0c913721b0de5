"""device/requirements.txt pins every device dependency of pyproject.toml, each with its SHA-256."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)")


def pinned():
    """name -> (version, hashes) of device/requirements.txt; fails on a line that is not pin + hashes."""
    text = (ROOT / "device" / "requirements.txt").read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.fullmatch(line.strip())
        assert match, f"not a pinned, hash-checked line: {line!r}"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"{name} pinned twice"
        pins[name] = (Version(match["version"]), re.findall(r"sha256:([0-9a-f]{64})", match["hashes"]))
    return pins


def device_extra():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(text) for text in pyproject["project"]["optional-dependencies"]["device"]]


def test_every_device_dependency_is_pinned_within_pyprojects_range():
    pins = pinned()
    for requirement in [*device_extra(), Requirement("pip")]:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} of pyproject.toml is not pinned in device/requirements.txt"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), f"{name}=={version} is outside {requirement}"
        assert hashes, name


def test_the_dependencies_of_the_dependencies_are_pinned_too():
    pins = pinned()
    direct = {canonicalize_name(r.name) for r in device_extra()} | {"pip"}
    # requests, luma.oled, cryptography and gpiozero bring these; an unpinned one would install unchecked.
    for name in ("urllib3", "idna", "certifi", "charset-normalizer", "luma-core", "cffi", "colorzero"):
        assert name in pins, name
    assert set(pins) > direct


def test_no_hash_appears_twice():
    hashes = [digest for _version, digests in pinned().values() for digest in digests]
    assert len(hashes) == len(set(hashes))
