"""Durable file replacement: a rename is on disk only once its folder is flushed too.

A file written through a temporary file, flushed and renamed over the old one is old or new after a
power cut, never torn; ``fsync_directory`` makes the rename itself survive the cut.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(path: str | Path) -> None:
    """Flush the folder ``path`` (its entries: a rename or a new file in it)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
