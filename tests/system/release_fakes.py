"""Tiny wheels standing in for the terminal's release: built here, in a few milliseconds, no network.

``tiny_wheel`` writes a real wheel (PEP 427: METADATA, WHEEL, entry points, RECORD with digests)
named ``fmd_scan_terminal-VERSION-py3-none-any.whl`` whose ``fmd-terminal`` console script answers
``--version`` and ``doctor`` (exit code chosen by the test), and which depends on a second tiny
wheel, ``tinydep``, so pip's hash-checked install resolves a dependency from the bundle too.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

TERMINAL = """import sys

import tinydep

VERSION = {version!r}


def main():
    args = sys.argv[1:]
    if args[:1] == ["--version"]:
        print("fmd-terminal", VERSION, tinydep.NAME)
        return 0
    if args[:1] == ["doctor"]:
        print("doctor of", VERSION, "with", " ".join(args[1:]))
        return {doctor_exit}
    return 2
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(directory: Path, project: str, version: str, files: dict[str, str], metadata: str = "") -> Path:
    dist = f"{project}-{version}"
    files = dict(files)
    files[f"{dist}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {project.replace('_', '-')}\nVersion: {version}\n{metadata}"
    )
    files[f"{dist}.dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = [_record_line(name, text.encode()) for name, text in files.items()]
    files[f"{dist}.dist-info/RECORD"] = "\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n"
    path = Path(directory) / f"{dist}-py3-none-any.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
    return path


def tiny_wheels(directory: Path, version: str, doctor_exit: int = 0) -> Path:
    """Write the terminal's tiny wheel at ``version`` and its dependency into ``directory``; return it."""
    _wheel(directory, "tinydep", "1.0", {"tinydep.py": "NAME = 'tinydep 1.0'\n"})
    _wheel(
        directory,
        "fmd_scan_terminal",
        version,
        {
            "tiny_terminal.py": TERMINAL.format(version=version, doctor_exit=doctor_exit),
            f"fmd_scan_terminal-{version}.dist-info/entry_points.txt":
                "[console_scripts]\nfmd-terminal = tiny_terminal:main\n",
        },
        metadata="Requires-Dist: tinydep==1.0\n",
    )
    return Path(directory)
