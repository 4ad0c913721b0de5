"""Salvage of a damaged outbox database (OFFLINE-QUEUE.md section 2.3, "Failed check").

The damaged files are kept aside untouched; a scratch copy of them is read row by row (a whole
table at once when it reads cleanly, else one rowid at a time, skipping what cannot be read) into
the fresh database, in one transaction. The fresh database is adopted only if ``integrity_check``
passes; then ``pack_view`` is rebuilt and transition #10 applies (ops still to send may have been
sent after the last readable state). The design names the SQLite shell's ``.recover``; the
Debian 3.40 shell fails on WAL databases here ("SQL logic error"), and the standard library has no
binding for the recovery extension, so this reads what SQLite itself can still read.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from typing import Any

log = logging.getLogger(__name__)

TABLES = ("meta", "boot", "clock_anchor", "op", "attempt")  # op before attempt (foreign key)
SKIPPED_META = ("schema_version",)


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]


def _readable_rows(con: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    names = ", ".join(columns)
    try:
        return con.execute(f"SELECT {names} FROM {table}").fetchall()
    except sqlite3.DatabaseError:
        pass
    try:
        last = con.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        last = 0
    rows = []
    for rowid in range(1, int(last) + 1):
        try:
            rows.extend(con.execute(f"SELECT {names} FROM {table} WHERE rowid = ?", (rowid,)).fetchall())
        except sqlite3.DatabaseError:
            continue
    return rows


def _keep_sequence(con: sqlite3.Connection, storage: Any) -> None:
    """``seq`` is never reused (OFFLINE-QUEUE.md section 3), even for rows the salvage lost."""
    try:
        row = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'op'").fetchone()
    except sqlite3.DatabaseError:
        return
    if row is None:
        return
    current = storage.execute("SELECT seq FROM sqlite_sequence WHERE name = 'op'")
    if not current:
        storage.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('op', ?)", (row[0],))
    elif current[0]["seq"] < row[0]:
        storage.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'op'", (row[0],))


def salvage_into(aside: str, storage: Any) -> dict[str, int]:
    """Copy what can be read of the damaged database ``aside`` into ``storage`` (inside its transaction).

    Returns how many rows of each table were copied.
    """
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="fmd-salvage-") as scratch:
        copy = os.path.join(scratch, "damaged.db")
        for suffix in ("", "-wal"):
            if os.path.exists(aside + suffix):
                shutil.copyfile(aside + suffix, copy + suffix)
        try:
            con = sqlite3.connect(copy)
        except sqlite3.Error as error:
            log.error("salvage: cannot open %s: %s", aside, error)
            return copied
        try:
            for table in TABLES:
                try:
                    source = _columns(con, table)
                except sqlite3.DatabaseError:
                    source = []
                target = [row["name"] for row in storage.execute(f"PRAGMA table_info({table})")]
                columns = [c for c in source if c in target]
                if not columns:
                    continue
                rows = _readable_rows(con, table, columns)
                if table == "meta":
                    rows = [r for r in rows if r[columns.index("key")] not in SKIPPED_META]
                marks = ", ".join("?" * len(columns))
                for row in rows:
                    try:
                        storage.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                        row)
                    except Exception as error:  # one unusable row (a constraint) must not stop the salvage
                        log.warning("salvage: %s row skipped: %s", table, error)
                copied[table] = len(rows)
            _keep_sequence(con, storage)
        finally:
            con.close()
    return copied
