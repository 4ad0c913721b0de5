"""The thin storage interface under the outbox (OFFLINE-QUEUE.md section 9, T3).

The outbox speaks SQL to a ``Storage``: ``execute(sql, params) -> list of dict rows``, ``close()``.
Production uses the standard library's ``sqlite3`` (``Sqlite3Storage``); the power-loss test runs
the same outbox on APSW with a VFS that records every write (``tests/terminal/outbox/harness``).
Library errors are translated here, once, into ``StorageError`` / ``StorageFullError``.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Protocol

from fmd_terminal.errors import StorageError
from fmd_terminal.outbox import StorageFullError

log = logging.getLogger(__name__)

SQLITE_FULL = 13
SQLITE_IOERR = 10
SQLITE_NOTADB = 26
SQLITE_CORRUPT = 11


class StorageCorruptError(StorageError):
    """The database file is damaged or is not a database (OFFLINE-QUEUE.md 2.3, "Failed check")."""


class Storage(Protocol):
    where: str

    def execute(self, sql: str, params: Any = ()) -> list[dict[str, Any]]: ...

    def executescript(self, sql: str) -> None: ...

    def close(self) -> None: ...


def translate(error: Exception, where: str, during: str) -> StorageError:
    """One translation of a library error (sqlite3 or APSW) by its primary result code."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        code = getattr(error, "result", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = f"{where}: {during} failed: {error}"
    if primary in (SQLITE_FULL, SQLITE_IOERR) or "full" in str(error).lower():
        return StorageFullError(text)
    if primary in (SQLITE_NOTADB, SQLITE_CORRUPT):
        return StorageCorruptError(text)
    return StorageError(text)


class Sqlite3Storage:
    """The standard library's sqlite3 in autocommit mode: every transaction is explicit."""

    def __init__(self, path: str, *, uri: bool = False) -> None:
        self.where = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri,
                                       timeout=5.0)
        except sqlite3.Error as error:
            raise translate(error, path, "open") from error

    def execute(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        try:
            cursor = self._db.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.Error as error:
            raise translate(error, self.where, sql.split(None, 1)[0]) from error
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def executescript(self, sql: str) -> None:
        try:
            self._db.executescript(sql)
        except sqlite3.Error as error:
            raise translate(error, self.where, "schema") from error

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error as error:  # closing a damaged database must not hide the first error
            log.warning("closing %s: %s", self.where, error)
