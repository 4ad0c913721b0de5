"""Whole-or-nothing file writes (issue 7, "Bad input": nothing half-written).

A file is written to a temporary name in its own directory, flushed to disk and renamed over the
target (``os.replace`` is atomic on POSIX file systems, FAT included for a single rename). Private
keys are created with mode 0600 from the start, never widened afterwards.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from fmd_provision.errors import InputError, TargetError

PRIVATE = 0o600
PUBLIC = 0o644


def write_atomic(path: Path, data: bytes, mode: int | None = PUBLIC) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, with ``mode``.

    ``mode=None`` leaves the mode alone: on FAT, chmod can fail with EPERM and means nothing.
    """
    path = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise TargetError(f"cannot write in {str(path.parent)!r}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise TargetError(f"cannot write {str(path)!r}: {error.strerror}") from None
    except BaseException:
        _remove_quietly(temporary)
        raise


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def read_private_key_file(path: Path, what: str = "key file") -> bytes:
    """The bytes of a file holding a secret, refused when missing or readable by group or others."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} does not exist") from None
    except OSError as error:
        raise InputError(f"cannot read {what} {str(path)!r}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {str(path)!r} is not a regular file")
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise InputError(
            f"{what} {str(path)!r} has mode {stat.S_IMODE(info.st_mode):04o}, expected 0600 "
            f"(readable by the owner only): run chmod 600 {str(path)!r}"
        )
    return read_input_file(path, what)


def read_input_file(path: Path, what: str) -> bytes:
    """The bytes of an input file, or an ``InputError`` naming it."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {str(path)!r} is a directory, expected a file") from None
    except OSError as error:
        raise InputError(f"cannot read {what} {str(path)!r}: {error.strerror}") from None


def write_directory(out: Path, files: dict[str, tuple[bytes, int | None]], mode: int | None = 0o700) -> None:
    """Build directory ``out`` (``files``: relative name -> data and mode) beside it, then swap it in.

    The old directory, if any, is renamed away first and removed last, so ``out`` is at every moment
    either the old one or the complete new one.
    """
    out = Path(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="." + out.name + ".", dir=parent))
    except OSError as error:
        raise TargetError(f"cannot write in {str(parent)!r}: {error.strerror}") from None
    old = None
    try:
        for name, (data, file_mode) in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(staging / name, data, file_mode)
        if mode is not None:
            staging.chmod(mode)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix="." + out.name + ".old.", dir=parent))
            os.replace(out, old / out.name)
        os.replace(staging, out)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise TargetError(f"cannot write {str(out)!r}: {error.strerror}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
