"""Print where each device dependency of the running environment comes from: a Debian package or PyPI."""

from __future__ import annotations

import importlib.metadata as metadata
import sys

NAMES = sys.argv[1:] or ["evdev", "pyserial", "requests", "gpiozero", "lgpio", "cryptography", "pillow"]

for name in NAMES:
    try:
        where = str(metadata.distribution(name).locate_file(""))
    except metadata.PackageNotFoundError:
        print(f"{name}: not installed")
        continue
    origin = "Debian package" if where.startswith("/usr/lib/python3/") else "PyPI"
    print(f"{name} {metadata.version(name)}: {origin} ({where})")
