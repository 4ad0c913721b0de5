"""Backups and restores of the SQLite outbox (OFFLINE-QUEUE.md section 2.3, "Backups").

Only through SQLite itself, never by copying files: a backup is ``VACUUM INTO`` (one read
transaction, so the running terminal keeps recording and its writer never waits), a restore is the
backup API (``Connection.backup``). Copying a live ``.db`` without its ``-wal`` gives a torn or stale
copy (SQLite, "How To Corrupt An SQLite Database File").

- ``backup_outbox(outbox, to)``: a consistent snapshot written to a temporary file beside ``to``,
  synced, renamed into place; then ``meta.last_backup`` in the outbox records when, where, and what
  the backup holds in a final state (the watermark pruning relies on, ``fmd_core.upkeep``).
- ``restore_outbox(backup, path, force)``: refuses while a terminal has the outbox open, and refuses
  to replace an existing outbox without ``force`` (the replaced files are kept aside, never deleted).
  The backup is copied into a temporary file with ``restored_from_backup`` marked ``pending``, then
  renamed into place; the next start applies transition #10 (queued and in-flight state changes
  become ``uncertain``, since they may have been sent after the backup was taken).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from typing import Any

from fmd_core import upkeep
from fmd_terminal.durable import fsync_directory
from fmd_terminal.errors import StorageError
from fmd_terminal.outbox.sqlite import _FINAL_SQL, RESTORE_PENDING, SQLiteOutbox, check_directory, iso_utc
from fmd_terminal.outbox.storage import SQLITE_CORRUPT, SQLITE_NOTADB, Sqlite3Storage, translate

SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_CANTOPEN = 5, 6, 8, 14

log = logging.getLogger(__name__)


class BackupError(StorageError):
    """A backup or restore that was refused or failed; nothing was replaced."""


def _sync_directory(path: str) -> None:
    """Flush the folder holding the file ``path`` (its rename)."""
    fsync_directory(os.path.dirname(os.path.abspath(path)))


def _sync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(beside: str) -> str:
    return f"{beside}.tmp-{os.getpid()}-{time.monotonic_ns()}"


def watermark_of(path: str) -> dict[str, Any]:
    """What the database at ``path`` holds: op count, highest seq, and the final-state watermark."""
    storage = Sqlite3Storage(f"file:{path}?mode=ro", uri=True)
    try:
        top = storage.execute("SELECT count(*) AS n, max(seq) AS top FROM op")[0]
        open_seqs = [r["seq"] for r in storage.execute(
            f"SELECT seq FROM op WHERE state NOT IN {_FINAL_SQL} ORDER BY seq LIMIT ?",
            (upkeep.WATERMARK_OPEN_MAX + 1,))]
        check = next(iter(storage.execute("PRAGMA quick_check")[0].values()))
    finally:
        storage.close()
    if check != "ok":
        raise BackupError.text("backup_check", path=path, why=repr(check))
    held, listed = upkeep.backup_watermark(top["top"], open_seqs)
    return {"ops": top["n"], "max_seq": top["top"] or 0, "held_upto_seq": held, "open_seqs": listed}


def backup_outbox(outbox: SQLiteOutbox, to: str) -> dict[str, Any]:
    """Write a consistent backup of ``outbox`` to ``to`` and record it in ``meta.last_backup``.

    ``VACUUM INTO`` runs on the outbox's connection outside any transaction (under its lock, so no
    transaction of this process is open on it); in a command beside the running terminal that is
    the command's own connection, so the terminal's writer never waits for it. ``to`` is replaced
    only once the new backup is complete and synced.
    """
    target = os.path.abspath(to)
    if not os.path.isdir(os.path.dirname(target)):
        raise BackupError.text("backup_no_directory", path=to)
    if os.path.abspath(outbox.where) == target:
        raise BackupError.text("backup_is_outbox", path=to)
    now = outbox.clock()
    temporary = _temporary(target)
    try:
        with outbox.lock:
            outbox.storage.execute("VACUUM INTO ?", (temporary,))
        _sync_file(temporary)
        info = watermark_of(temporary)
        os.replace(temporary, target)
        _sync_directory(target)
    except (StorageError, OSError) as error:
        if os.path.exists(temporary):
            os.unlink(temporary)  # our own incomplete file, never the outbox
        if isinstance(error, BackupError):
            raise
        raise BackupError.text("backup_failed", outbox=outbox.where, path=to, why=error) from error
    info.update(wall_ns=now.wall_ns, time=iso_utc(now.wall_ns), to=target, bytes=os.path.getsize(target))
    outbox.write_meta("last_backup", json.dumps(info, sort_keys=True))
    log.info("backup of %s to %s: %d ops, held final up to seq %d", outbox.where, target, info["ops"],
             info["held_upto_seq"])
    return info


def terminal_has_open(path: str) -> bool:
    """True when another connection (a running terminal) has the database at ``path`` open.

    In WAL mode every open connection holds a shared lock on the shared-memory index, so an
    exclusive lock is refused while one exists. Nothing is changed.
    """
    if not os.path.exists(path):
        return False
    try:
        probe = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    except sqlite3.Error as error:
        raise _probe_failed(path, error) from error
    try:
        probe.execute("PRAGMA locking_mode = EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("COMMIT")
        return False
    except sqlite3.Error as error:
        primary = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
        if primary in (SQLITE_BUSY, SQLITE_LOCKED):
            return True
        if primary in (SQLITE_NOTADB, SQLITE_CORRUPT):
            return False  # damaged: nothing records in it; opening it sets it aside (or reports it, attached)
        raise _probe_failed(path, error) from error
    finally:
        probe.close()


def _probe_failed(path: str, error: sqlite3.Error) -> StorageError:
    """The probe's own failure says its cause (a read-only directory, an I/O error), never "open elsewhere"."""
    check_directory(path)
    primary = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
    if primary in (SQLITE_READONLY, SQLITE_CANTOPEN):
        return StorageError.text("storage_read_only", path=path, directory=os.path.dirname(os.path.abspath(path)),
                                 why=str(error))
    return StorageError.text("storage_unusable", path=path, why=str(error))


def _last_seq(path: str) -> int:
    """The highest ``seq`` the outbox at ``path`` ever gave (0 when it cannot be read)."""
    try:
        db = sqlite3.connect(path)
        try:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'op'").fetchone()
        finally:
            db.close()
    except sqlite3.Error as error:
        log.warning("%s: cannot read its last seq (%s); seqs after the backup's may repeat its own", path, error)
        return 0
    return int(row[0]) if row else 0


def restore_outbox(backup: str, path: str, *, force: bool = False, now_wall_ns: int | None = None) -> dict[str, Any]:
    """Make the backup at ``backup`` the outbox at ``path`` (section 2.3; transition #10 at next start).

    Refuses while a terminal has ``path`` open, and when ``path`` exists unless ``force``. With
    ``force`` the replaced database (with its ``-wal`` and ``-shm``) is kept aside as
    ``PATH.replaced-<time>``: records are never deleted. Returns what the restored outbox holds.
    """
    if not os.path.exists(backup):
        raise BackupError.text("backup_absent", path=backup)
    info = watermark_of(backup)
    existing = [path + suffix for suffix in ("", "-wal", "-shm") if os.path.exists(path + suffix)]
    if existing and not force:
        raise BackupError.text("restore_exists", path=path)
    if terminal_has_open(path):
        raise BackupError.text("restore_open", path=path)
    when = now_wall_ns if now_wall_ns is not None else time.time_ns()
    last_seq = _last_seq(path) if existing else 0
    temporary = _temporary(path)
    try:
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        target = sqlite3.connect(temporary, isolation_level=None)
        try:
            source.backup(target)
            target.execute("BEGIN IMMEDIATE")
            target.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('restored_from_backup', ?)",
                           (f"{RESTORE_PENDING} from {os.path.abspath(backup)} at {iso_utc(when)}",))
            # seq is never reused (section 3), not even for ops the replaced outbox recorded after the backup
            if not target.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'op'",
                                  (last_seq,)).rowcount and last_seq:
                target.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('op', ?)", (last_seq,))
            target.execute("COMMIT")
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to rename
        finally:
            target.close()
            source.close()
        _sync_file(temporary)
        if terminal_has_open(path):
            raise BackupError.text("restore_raced", path=path)
        aside = f"{path}.replaced-{when // 1_000_000_000}"
        n = 1
        while any(os.path.exists(aside + suffix) for suffix in ("", "-wal", "-shm")):
            aside = f"{path}.replaced-{when // 1_000_000_000}-{n}"  # never over an earlier replaced outbox
            n += 1
        for name in existing:  # the database with its -wal and -shm, together (section 2.3, "File handling")
            os.replace(name, aside + name[len(path):])
        os.replace(temporary, path)
        _sync_directory(path)
    except sqlite3.Error as error:
        raise translate(error, backup, "restore") from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    info.update(restored_to=os.path.abspath(path), replaced=aside if existing else None)
    log.warning("restored %s from %s (%d ops); transition #10 applies at the next start", path, backup, info["ops"])
    return info
