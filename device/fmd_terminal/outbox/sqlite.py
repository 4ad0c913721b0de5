"""The SQLite outbox (``sqlite://PATH``): the terminal's durable record of every op (OFFLINE-QUEUE.md).

One database, one write connection shared by the scan path and the sync worker under a lock, every
write ``BEGIN IMMEDIATE ... COMMIT`` (section 2.1). The decisions (local checks, transitions, time
correction) are the pure functions of ``fmd_core``; this module stores what they decide, in the
same transaction as the state change they explain.

Reads for the screen, diagnostics, export and the worker's selection (``op``, ``ops``, ``view``,
``read_meta``, the counts ...) go through a separate read-only connection on ``sqlite://`` (section
2.1), so they never wait behind the writer's lock; in WAL mode a read sees every committed
transaction and nothing uncommitted. A read made inside a transaction of the same thread uses the
write connection, so a transaction always sees its own writes. The in-memory twin (``memory://``)
and the power-loss harness have one connection, and read on it under the writer's lock.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fmd_core import local_checks, op_states, upkeep
from fmd_core.service import PackRef, ServiceAnswer
from fmd_core.timekeeping import DAY_NS, Anchor, ClockReading, correct_time, wall_quality
from fmd_terminal.errors import StorageError, TerminalError
from fmd_terminal.outbox import (
    RECEIVING_MODES,
    REQUESTED_STATE,
    LocalRefusal,
    OpRequest,
    RecordedOp,
    RecordResult,
    Settlement,
    StorageFullError,
)
from fmd_terminal.outbox.storage import Sqlite3Storage, Storage, StorageCorruptError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RESERVE_BYTES = 32 * 1024 * 1024  # section 2.3, "Reserve"
RESTORE_PENDING = "pending"  # meta.restored_from_backup before the first start after a restore
SPACE_CHECK_NS = 600 * 1_000_000_000  # storage alarms checked every 10 min while idle
STORAGE_ALARMS = ("alarm_storage", "alarm_wal", "alarm_space")
PRUNE_LOG_LINES = 100  # meta.prune_log keeps the last lines

_FINAL_SQL = "('done', 'rejected', 'cancelled')"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS op (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE,
  client_trx_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('verify', 'dispense', 'undo_dispense', 'destroy')),
  ref_seq INTEGER REFERENCES op(seq),
  pack_key TEXT NOT NULL,
  scheme TEXT NOT NULL, product_code TEXT NOT NULL, serial TEXT NOT NULL,
  batch TEXT, expiry TEXT, nhrn TEXT,
  raw_scan TEXT, entry_mode TEXT NOT NULL DEFAULT 'non-manual', user_id TEXT,
  origin TEXT NOT NULL CHECK (origin IN ('live', 'deferred')),
  state TEXT NOT NULL CHECK (state IN ('queued', 'in_flight', 'uncertain', 'done', 'rejected',
                                       'needs_attention', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  single_only INTEGER NOT NULL DEFAULT 0,
  renewals INTEGER NOT NULL DEFAULT 0,
  duplicate_seen INTEGER NOT NULL DEFAULT 0,
  last_error_class TEXT, last_error_detail TEXT,
  wall_ns INTEGER NOT NULL, boot_id TEXT NOT NULL, boottime_ns INTEGER NOT NULL,
  wall_quality TEXT NOT NULL,
  wall_corrected_ns INTEGER, time_quality TEXT,
  uncertain_boot_id TEXT, uncertain_bt_ns INTEGER, uncertain_wall_ns INTEGER,
  bulk_id TEXT, results_ref TEXT,
  svc_trx_id TEXT, svc_time TEXT, svc_time_ns INTEGER, return_code TEXT, return_desc TEXT,
  pack_state_after TEXT, reasons TEXT, alert_id TEXT, alert_code TEXT, intermarket INTEGER,
  reconciled TEXT CHECK (reconciled IS NULL OR reconciled IN ('verify', 'duplicate_answer')),
  settled_boot_id TEXT, settled_bt_ns INTEGER,
  resolved_by TEXT, resolved_at INTEGER, resolution TEXT, resolution_note TEXT,
  mode TEXT
);
CREATE INDEX IF NOT EXISTS op_pack ON op (pack_key, seq);
CREATE INDEX IF NOT EXISTS op_pending ON op (state, seq) WHERE state NOT IN {_FINAL_SQL};
CREATE TABLE IF NOT EXISTS attempt (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL REFERENCES op(seq),
  n INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('send', 'reconcile_verify', 'bulk_submit', 'bulk_result', 'person')),
  client_trx_id TEXT, bulk_id TEXT, results_ref TEXT,
  boot_id TEXT, started_bt_ns INTEGER, ended_bt_ns INTEGER, wall_ns INTEGER, wall_quality TEXT,
  outcome TEXT, http_status INTEGER, error_type TEXT, return_code TEXT, svc_trx_id TEXT,
  user_id TEXT, reason TEXT, note TEXT
);
CREATE INDEX IF NOT EXISTS attempt_seq ON attempt (seq, id);
CREATE TABLE IF NOT EXISTS clock_anchor (
  id INTEGER PRIMARY KEY,
  boot_id TEXT NOT NULL, boottime_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('ntp', 'server')), uncertainty_ns INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS boot (
  n INTEGER PRIMARY KEY AUTOINCREMENT, boot_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS pack_view (
  pack_key TEXT PRIMARY KEY,
  local_state TEXT NOT NULL CHECK (local_state IN ('unknown', 'active', 'dispensed_here', 'inactive_other')),
  dispense_seq INTEGER, dispense_done INTEGER NOT NULL DEFAULT 0,
  dispense_time_ns INTEGER, dispense_time_trusted INTEGER NOT NULL DEFAULT 0,
  dispense_boot_id TEXT, dispense_boottime_ns INTEGER,
  blocked_seq INTEGER, last_seq INTEGER
);
CREATE TABLE IF NOT EXISTS receipt (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  reference TEXT NOT NULL, source TEXT NOT NULL, role TEXT,
  started_ns INTEGER NOT NULL, closed_ns INTEGER,
  note TEXT NOT NULL, summary TEXT, rescans INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS receipt_pack (
  receipt_id INTEGER NOT NULL REFERENCES receipt(id),
  pack_key TEXT NOT NULL, seq INTEGER, line INTEGER, product_code TEXT NOT NULL,
  problems TEXT NOT NULL, state TEXT NOT NULL, service_code TEXT, alert_code TEXT,
  PRIMARY KEY (receipt_id, pack_key)
);
"""

# (table, column, declaration) added after schema version 1 was released (``_add_columns``)
ADDED_COLUMNS = (("op", "mode", "TEXT"), ("receipt", "rescans", "INTEGER NOT NULL DEFAULT 0"))

_VIEW_COLUMNS = local_checks.PackView.__slots__


# ``outbox.gathered`` in SQL: a state change recorded in a receiving mode, not single_only (issue 17).
_GATHERED_SQL = ("(coalesce(op.mode, '') IN (" + ", ".join(f"'{mode}'" for mode in RECEIVING_MODES) + ") AND op.kind IN ("
                 + ", ".join(f"'{kind}'" for kind, state in REQUESTED_STATE.items() if state is not None)
                 + ") AND op.single_only = 0)")


def new_trx_id() -> str:
    """A random UUIDv4 as 32 hex digits: within the service's 32-character limit (VERIFICATION-SERVICE.md s. 6)."""
    return uuid.uuid4().hex


def iso_utc(wall_ns: int | None) -> str | None:
    if wall_ns is None:
        return None
    seconds, rest = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest // 1_000_000:03d}Z"


def parse_iso_ns(text: str | None) -> int | None:
    """A service timestamp (ISO-8601 UTC) in ns since the epoch, or None when absent or unreadable."""
    if not text:
        return None
    import datetime

    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1_000_000) * 1000


def pack_of(row: dict[str, Any]) -> PackRef:
    return PackRef(row["scheme"], row["product_code"], row["serial"], row["batch"], row["expiry"],
                   row["nhrn"], row["entry_mode"])


def same_pack_data(pack: PackRef) -> tuple[str, ...]:
    """The pack data a Retry rescan must match exactly (section 8): not the entry mode."""
    return (pack.scheme, pack.product_code, pack.serial, pack.batch, pack.expiry, pack.nhrn or "")


def recorded_op(row: dict[str, Any]) -> RecordedOp:
    return RecordedOp(row["seq"], row["op_id"], row["kind"], pack_of(row), row["client_trx_id"],
                      row.get("ref_client_trx_id"), row["state"], row["wall_ns"], row.get("mode"))


def answer_of(row: dict[str, Any]) -> ServiceAnswer | None:
    """The settling answer as stored on the op row (None before any answer)."""
    if row.get("return_code") is None and row.get("pack_state_after") is None:
        return None
    return ServiceAnswer(operation_code=row["return_code"], description=row["return_desc"],
                         state=row["pack_state_after"], reasons=json.loads(row["reasons"] or "[]"),
                         alert_id=row["alert_id"], alert_code=row["alert_code"],
                         is_intermarket=bool(row["intermarket"]), nmvs_trx_id=row["svc_trx_id"],
                         client_trx_id=row["client_trx_id"], timestamp=row["svc_time"])


class SQLiteOutbox:
    """The outbox over one ``Storage``; ``durable=False`` only for the in-memory twin.

    ``clock()`` returns a ``ClockReading``; ``free_bytes()`` the free space of the data partition
    (None: not checked). ``restored=True`` applies transition #10 once (first start after a restore
    or salvage); so does a ``restored_from_backup`` mark in ``meta`` that says ``pending`` (written
    by ``fmd-terminal backup --restore``). ``attach=True`` opens an existing outbox for an admin
    command beside a running terminal: no start-up transitions, no boot row, no anchor.
    """

    correction_batch = 500  # section 7: time correction in small transactions, scans go in between

    def __init__(self, storage: Storage, clock: Callable[[], ClockReading], *, durable: bool = True,
                 free_bytes: Callable[[], int | None] | None = None, reserve_bytes: int = RESERVE_BYTES,
                 build_time_ns: int = 0, restored: bool = False, attach: bool = False,
                 open_reader: Callable[[], Storage] | None = None) -> None:
        self.storage = storage
        self.where = storage.where
        self.clock = clock
        self.durable = durable
        self.free_bytes = free_bytes or (lambda: None)
        self.reserve_bytes = reserve_bytes
        self.build_time_ns = build_time_ns
        self.lock = threading.RLock()
        self._reader: Storage | None = None
        self._reader_lock = threading.Lock()
        self._writing = threading.local()  # depth of this thread's transactions
        self.alarms: list[str] = []
        self._was_synced = False  # the clock becoming synchronised writes an anchor at once (section 7)
        self._last_passive_ns = 0
        self._last_daily_ns: int | None = None
        self._last_space_ns: int | None = None
        self._correction_due = True  # a previous process may have stopped in mid-pass
        self._correction_from = 0
        self.scratch: str | None = None  # the scratch directory of an attached copy
        self._configure()
        if attach:
            self._attach()
        else:
            self._start(restored)
            self.correct_pending_times()
        if open_reader is not None:
            reader = open_reader()
            reader.execute("PRAGMA busy_timeout = 5000")
            reader.execute("PRAGMA query_only = ON")
            self._reader = reader

    # -- start-up ---------------------------------------------------------------------------------

    def _configure(self) -> None:
        """Section 2.1: set and read back journal_mode, synchronous and foreign_keys."""
        db = self.storage
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA foreign_keys = ON")
        if self.durable:
            mode = db.execute("PRAGMA journal_mode = WAL")[0]
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA journal_size_limit = 4194304")
            sync = next(iter(db.execute("PRAGMA synchronous")[0].values()))
            keys = next(iter(db.execute("PRAGMA foreign_keys")[0].values()))
            mode_value = next(iter(mode.values()))
            if str(mode_value).lower() != "wal" or sync != 2 or keys != 1:
                raise StorageError(
                    f"{self.where}: journal_mode={mode_value!r} synchronous={sync!r} foreign_keys={keys!r}, "
                    "expected 'wal', 2 (FULL), 1: refusing to record scans (STORAGE ERROR - record packs by hand)")
            check = next(iter(db.execute("PRAGMA quick_check")[0].values()))
            if check != "ok":
                raise StorageCorruptError(f"{self.where}: quick_check says {check!r}")

    def _start(self, restored: bool) -> None:
        now = self.clock()
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.storage.execute(statement)
            version = self.meta("schema_version")
            if version is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
                self.set_meta("terminal_id", new_trx_id())
                self.storage.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif int(version) != SCHEMA_VERSION:
                raise StorageError.text("outbox_newer", path=self.where, version=version, known=SCHEMA_VERSION)
            self._add_columns()
            self.storage.execute("INSERT OR IGNORE INTO boot (boot_id) VALUES (?)", (now.boot_id,))
            mark = self.meta("restored_from_backup") or ""
            pending = mark.startswith(RESTORE_PENDING)
            self._after_restart(restored or pending)
            if pending:  # transition #10 applied once; the mark stays as the record of the restore
                self.set_meta("restored_from_backup", f"applied {now.wall_ns}{mark[len(RESTORE_PENDING):]}")
                log.warning("first start after a restore: queued and in-flight state changes are now uncertain")
            self._note_clock(now)

    def _add_columns(self) -> None:
        """Columns added within schema version 1, each nullable, so an outbox written by an earlier
        release opens (and is completed here) and an earlier release still opens a newer one:
        ``op.mode``, the terminal's mode at the scan (NULL for ops recorded before it existed);
        ``receipt.rescans``, a session's packs scanned again, kept so a session resumed after a restart
        closes with the same tally (0 for sessions before it existed).
        Tables added within version 1 (``receipt``, ``receipt_pack``: the receiving sessions, issue 17)
        are created by ``SCHEMA``'s ``IF NOT EXISTS`` at every start; an earlier release ignores them."""
        for table, name, declaration in ADDED_COLUMNS:
            columns = {row["name"] for row in self.storage.execute(f"PRAGMA table_info({table})")}
            if name not in columns:
                self.storage.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def _attach(self) -> None:
        """An admin command's view of an outbox the terminal owns: check the schema, change nothing."""
        try:
            version = self.read_meta("schema_version")
        except StorageCorruptError:
            raise
        except StorageError as error:  # an empty file or another program's database: no meta table
            raise StorageError.text("storage_not_outbox", path=self.where, why=_cause(error)) from error
        if version is None or not str(version).isdigit() or int(version) != SCHEMA_VERSION:
            raise StorageError.text("storage_not_outbox", path=self.where,
                                    why=f"schema version {version!r}, expected {SCHEMA_VERSION}")

    def _after_restart(self, restored: bool) -> None:
        """Transitions #9 and #10 for every op a previous process left unsettled."""
        rows = self.storage.execute(
            "SELECT seq, kind, state, pack_key, results_ref FROM op WHERE state IN ('queued', 'in_flight')")
        packs = set()
        for row in rows:
            state = op_states.after_restart(row["state"], row["kind"], row["results_ref"] is not None)
            if restored:
                state = op_states.after_restore(state, row["kind"])
            if state != row["state"]:
                self._set_state(row["seq"], state, uncertain_now=state == op_states.UNCERTAIN, previous_boot=True)
                packs.add(row["pack_key"])
        for pack_key in packs:
            self._refresh_view(pack_key)
        # Attempts a killed process left open: their outcome is unknown, and stays so (append-only history).
        self.storage.execute(
            "UPDATE attempt SET outcome = 'interrupted' WHERE outcome IS NULL AND action IN ('send', 'reconcile_verify')")

    # -- transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Storage]:
        """``BEGIN IMMEDIATE ... COMMIT``; on any error ``ROLLBACK`` (ignoring "no transaction")."""
        with self.lock:
            self.storage.execute("BEGIN IMMEDIATE")
            self._writing.depth = getattr(self._writing, "depth", 0) + 1
            try:
                yield self.storage
                self.storage.execute("COMMIT")
            except BaseException:
                try:
                    self.storage.execute("ROLLBACK")
                except StorageError:
                    pass  # SQLite may already have rolled back (section 2.3, "Storage full")
                raise
            finally:
                self._writing.depth -= 1

    @contextmanager
    def reading(self) -> Iterator[Storage]:
        """The connection for a read: the read connection, unless this thread is inside a transaction
        (which must see its own writes) or there is none (then the writer's, under its lock)."""
        depth: int = getattr(self._writing, "depth", 0)
        if self._reader is None or depth:
            with self.lock:
                yield self.storage
        else:
            with self._reader_lock:
                yield self._reader

    def meta(self, key: str) -> str | None:
        rows = self.storage.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        self.storage.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def read_meta(self, key: str) -> str | None:
        with self.reading() as db:
            rows = db.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def write_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            self.set_meta(key, value)

    # -- time (section 7) -------------------------------------------------------------------------

    def quality(self, now: ClockReading) -> str:
        floor = int(self.meta("clock_floor_ns") or 0)
        return wall_quality(now, floor, self.build_time_ns)

    def _add_anchor(self, now: ClockReading, wall_ns: int, source: str, force: bool = False) -> bool:
        """Write a ``clock_anchor`` row unless one of ``source`` was written less than 10 min ago."""
        last = self.storage.execute(
            "SELECT boottime_ns FROM clock_anchor WHERE boot_id = ? AND source = ? ORDER BY id DESC LIMIT 1",
            (now.boot_id, source))
        if not force and last and now.boottime_ns - last[0]["boottime_ns"] < 600_000_000_000:
            return False
        self.storage.execute(
            "INSERT INTO clock_anchor (boot_id, boottime_ns, wall_ns, source, uncertainty_ns) VALUES (?, ?, ?, ?, 0)",
            (now.boot_id, now.boottime_ns, wall_ns, source))
        self._correction_due = True  # corrected after this transaction, in batches (section 7)
        self._correction_from = 0
        return True

    def _note_clock(self, now: ClockReading) -> None:
        """An anchor when the clock becomes synchronised, then every 10 min; each raises the floor (section 7)."""
        became_synced = now.synced and not self._was_synced
        self._was_synced = now.synced
        if now.synced and self._add_anchor(now, now.wall_ns, "ntp", force=became_synced):
            if now.wall_ns > int(self.meta("clock_floor_ns") or 0):
                self.set_meta("clock_floor_ns", str(now.wall_ns))

    def note_clock(self, now: ClockReading, correct: bool = True) -> None:
        """Anchor the clock if due; with ``correct``, then run the time correction it made due."""
        with self.transaction():
            self._note_clock(now)
        if correct:
            self.correct_pending_times()

    def correct_times_batch(self) -> int:
        """One transaction of the time correction (section 7): at most ``correction_batch`` events.

        Returns how many events it looked at, at least 1 when a correction was due (0: none was, so
        nothing was done). A new anchor restarts the pass from the first event. Only
        ``wall_corrected_ns`` and ``time_quality`` are written.
        """
        limit = self.correction_batch
        with self.transaction() as db:
            if not self._correction_due:
                return 0
            rows = db.execute(
                "SELECT seq, wall_ns, boot_id, boottime_ns, wall_quality FROM op WHERE seq > ? AND "
                "(time_quality IS NULL OR time_quality NOT IN ('exact', 'corrected')) ORDER BY seq LIMIT ?",
                (self._correction_from, limit))
            anchors = self._anchors_for({row["boot_id"] for row in rows})
            boots = [b["boot_id"] for b in db.execute("SELECT boot_id FROM boot ORDER BY n")]
            for row in rows:
                corrected, quality = correct_time(row["wall_ns"], row["boot_id"], row["boottime_ns"],
                                                  row["wall_quality"], anchors, boots)
                db.execute("UPDATE op SET wall_corrected_ns = ?, time_quality = ? WHERE seq = ?",
                           (corrected, quality, row["seq"]))
            if len(rows) < limit:
                self._correction_due = False
                self._correction_from = 0
            else:
                self._correction_from = rows[-1]["seq"]
        return len(rows) or 1

    def correct_pending_times(self) -> int:
        """The whole correction pass, one small transaction after another; returns the batches run."""
        batches = 0
        while self.correct_times_batch():
            batches += 1
            time.sleep(0)  # let a waiting scan take the lock between batches
        return batches

    def _anchors_for(self, boot_ids: set[str]) -> list[Anchor]:
        """The anchors ``correct_time`` can use for events of ``boot_ids``: all of those boots, and
        the last anchor of every boot (a bounded time needs only the previous boot's last)."""
        marks = ", ".join("?" * len(boot_ids))
        rows = self.storage.execute(
            f"SELECT * FROM clock_anchor WHERE boot_id IN ({marks}) UNION "
            "SELECT a.* FROM clock_anchor AS a JOIN (SELECT boot_id, max(boottime_ns) AS bt FROM clock_anchor "
            "GROUP BY boot_id) AS last ON last.boot_id = a.boot_id AND last.bt = a.boottime_ns",
            tuple(boot_ids))
        return [Anchor(a["boot_id"], a["boottime_ns"], a["wall_ns"], a["source"], a["uncertainty_ns"])
                for a in rows]

    # -- the scan path (section 5) ----------------------------------------------------------------

    def view(self, pack_key: str) -> local_checks.PackView | None:
        with self.reading() as db:
            rows = db.execute("SELECT * FROM pack_view WHERE pack_key = ?", (pack_key,))
        if not rows:
            return None
        row = rows[0]
        row["dispense_done"] = bool(row["dispense_done"])
        row["dispense_time_trusted"] = bool(row["dispense_time_trusted"])
        return local_checks.PackView(**{name: row[name] for name in _VIEW_COLUMNS})

    def _refresh_view(self, pack_key: str) -> None:
        """Re-derive the pack's ``pack_view`` row from its ops, in the caller's transaction."""
        ops = [local_checks.OpFacts(r["seq"], r["kind"], r["state"], r["ref_seq"], r["svc_time_ns"],
                                    r["wall_corrected_ns"], r["settled_boot_id"], r["settled_bt_ns"],
                                    r["pack_state_after"], r["boot_id"], r["boottime_ns"])
               for r in self.storage.execute(
                   "SELECT seq, kind, state, ref_seq, svc_time_ns, wall_corrected_ns, settled_boot_id, "
                   "settled_bt_ns, pack_state_after, boot_id, boottime_ns FROM op WHERE pack_key = ? ORDER BY seq",
                   (pack_key,))]
        view = local_checks.view_from_ops(pack_key, ops)
        values = [getattr(view, name) for name in _VIEW_COLUMNS]
        self.storage.execute(
            f"INSERT OR REPLACE INTO pack_view ({', '.join(_VIEW_COLUMNS)}) VALUES ({', '.join('?' * len(values))})",
            values)

    def rebuild_views(self) -> None:
        """Rebuild ``pack_view`` from ``op`` (after a salvage or a migration, section 3)."""
        with self.transaction() as db:
            db.execute("DELETE FROM pack_view")
            for row in db.execute("SELECT DISTINCT pack_key FROM op"):
                self._refresh_view(row["pack_key"])

    def _check_space(self) -> None:
        free = self.free_bytes()
        if free is not None and free < self.reserve_bytes:
            raise StorageFullError(f"{self.where}: {free} bytes free, below the {self.reserve_bytes}-byte reserve")

    def record(self, request: OpRequest) -> RecordResult:
        """Section 5.1, steps 2-4: read the clock, check locally, insert, commit (transition #1).

        Returns the committed op or the local refusal; raises ``StorageFullError`` / ``StorageError``
        when the scan could not be recorded. A failed commit leaves no partial row.
        """
        self._check_space()
        now = self.clock()
        pack = request.pack
        with self.transaction() as db:
            quality = self.quality(now)
            refusal = local_checks.check(request.kind, self.view(pack.pack_key), now)
            if refusal is not None:
                return RecordResult(refusal=LocalRefusal(refusal.reason, refusal.seq, refusal.since_wall_ns,
                                                         refusal.age_ns))
            ref_seq = None
            if request.kind == "undo_dispense":
                ref_seq = self.view(pack.pack_key).dispense_seq  # type: ignore[union-attr]
            op_id = new_trx_id()
            exact = quality == "synced"
            row = db.execute(
                "INSERT INTO op (op_id, client_trx_id, kind, ref_seq, pack_key, scheme, product_code, serial, "
                "batch, expiry, nhrn, raw_scan, entry_mode, user_id, origin, state, wall_ns, boot_id, "
                "boottime_ns, wall_quality, wall_corrected_ns, time_quality, mode) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (op_id, op_id, request.kind, ref_seq, pack.pack_key, pack.scheme, pack.product_code, pack.serial,
                 pack.batch, pack.expiry, pack.nhrn, request.raw_scan, pack.entry_mode, request.user_id,
                 request.origin, now.wall_ns, now.boot_id, now.boottime_ns, quality,
                 now.wall_ns if exact else None, "exact" if exact else None, request.mode))
            seq = row[0]["seq"]
            if request.site_yield is not None:
                self._cancel_for_site(seq, op_id, pack.pack_key, now, *request.site_yield)
            self._refresh_view(pack.pack_key)
            self._note_clock(now)
            op = self._op_row(seq)
        return RecordResult(op=recorded_op(op))

    # -- reads ------------------------------------------------------------------------------------

    _OP_SELECT = ("SELECT op.*, ref.client_trx_id AS ref_client_trx_id FROM op "
                  "LEFT JOIN op AS ref ON ref.seq = op.ref_seq ")

    def _op_row(self, seq: int) -> dict[str, Any]:
        return self.storage.execute(self._OP_SELECT + "WHERE op.seq = ?", (seq,))[0]

    def op(self, seq: int) -> dict[str, Any]:
        with self.reading() as db:
            return db.execute(self._OP_SELECT + "WHERE op.seq = ?", (seq,))[0]

    def ops(self, where: str = "1", params: Any = (), order: str = "op.seq") -> list[dict[str, Any]]:
        with self.reading() as db:
            return db.execute(self._OP_SELECT + f"WHERE {where} ORDER BY {order}", params)

    def attempts(self, seq: int) -> list[dict[str, Any]]:
        with self.reading() as db:
            return db.execute("SELECT * FROM attempt WHERE seq = ? ORDER BY id", (seq,))

    def recent(self, n: int) -> list[RecordedOp]:
        """The last ``n`` ops recorded, newest first (section 5.3, after a restart)."""
        return [recorded_op(r) for r in self.ops(order=f"op.seq DESC LIMIT {int(n)}")]

    def pending_count(self) -> int:
        with self.reading() as db:
            return db.execute("SELECT count(*) AS n FROM op WHERE state IN ('queued', 'in_flight', 'uncertain')")[0]["n"]

    def attention_count(self) -> int:
        with self.reading() as db:
            return db.execute("SELECT count(*) AS n FROM op WHERE state = 'needs_attention'")[0]["n"]

    def oldest_pending(self) -> dict[str, Any] | None:
        """The oldest op still to send (section 6.4), for the backlog alarms."""
        rows = self.ops("op.state IN ('queued', 'in_flight', 'uncertain')", order="op.seq LIMIT 1")
        return rows[0] if rows else None

    def eligible(self, limit: int, for_bulk: bool = False, gathered: bool | None = None) -> list[dict[str, Any]]:
        """Queued ops that are their pack's head: every earlier op of the pack is final (P4, section 6.1).

        ``for_bulk``: only state-changing ops the recovery endpoint can take (not ``single_only``).
        ``gathered``: True, only the receiving ops waiting for a bulk (``outbox.gathered``); False, none
        of them (the single-pack path); None, both.
        """
        extra = "AND op.kind != 'verify' AND op.single_only = 0 " if for_bulk else ""
        if gathered is not None:
            extra += ("AND " if gathered else "AND NOT ") + _GATHERED_SQL + " "
        return self.ops(
            "op.state = 'queued' " + extra + "AND NOT EXISTS (SELECT 1 FROM op AS p WHERE p.pack_key = op.pack_key "
            f"AND p.seq < op.seq AND p.state NOT IN {_FINAL_SQL})", order=f"op.seq LIMIT {int(limit)}")

    def uncertain(self) -> list[dict[str, Any]]:
        return self.ops("op.state = 'uncertain' AND op.results_ref IS NULL")

    def polling(self) -> list[dict[str, Any]]:
        """Ops whose recovery results are awaited (a stored ``results_ref``)."""
        return self.ops("op.state = 'in_flight' AND op.results_ref IS NOT NULL")

    # -- the worker's writes (section 4.2) ---------------------------------------------------------

    def _set_state(self, seq: int, state: str, *, uncertain_now: bool = False, previous_boot: bool = False) -> None:
        if uncertain_now:
            now = self.clock()
            boot = None if previous_boot else now.boot_id
            self.storage.execute(
                "UPDATE op SET state = ?, uncertain_boot_id = ?, uncertain_bt_ns = ?, uncertain_wall_ns = ?, "
                "bulk_id = NULL, results_ref = NULL WHERE seq = ?",
                (state, boot, now.boottime_ns, now.wall_ns, seq))
        else:
            self.storage.execute("UPDATE op SET state = ? WHERE seq = ?", (state, seq))

    def _attempt(self, seq: int, action: str, now: ClockReading, **fields: Any) -> int:
        n = self.storage.execute("SELECT count(*) AS n FROM attempt WHERE seq = ?", (seq,))[0]["n"] + 1
        fields.update(seq=seq, n=n, action=action, boot_id=now.boot_id, started_bt_ns=now.boottime_ns,
                      wall_ns=now.wall_ns, wall_quality=self.quality(now))
        names = ", ".join(fields)
        marks = ", ".join("?" * len(fields))
        row = self.storage.execute(f"INSERT INTO attempt ({names}) VALUES ({marks}) RETURNING id",
                                   tuple(fields.values()))
        return row[0]["id"]

    def claim(self, seq: int, action: str = "send") -> int | None:
        """Transition #2: ``in_flight``, attempts+1 and an ``attempt`` row, committed before any byte is sent.

        For a reconciling verify (``action="reconcile_verify"``) the op stays ``uncertain``; only the
        attempt row is written. Returns the attempt id, or None if the op is no longer claimable.
        """
        now = self.clock()
        with self.transaction():
            row = self._op_row(seq)
            expected = op_states.UNCERTAIN if action == "reconcile_verify" else op_states.QUEUED
            if row["state"] != expected:
                return None
            if action == "send":
                self.storage.execute("UPDATE op SET state = 'in_flight', attempts = attempts + 1 WHERE seq = ?",
                                     (seq,))
            return self._attempt(seq, action, now, client_trx_id=row["client_trx_id"])

    def _complete_attempt(self, attempt_id: int, answer: ServiceAnswer | None, klass: str,
                          now: ClockReading) -> None:
        a = answer or ServiceAnswer()
        self.storage.execute(
            "UPDATE attempt SET ended_bt_ns = ?, outcome = ?, http_status = ?, error_type = ?, return_code = ?, "
            "svc_trx_id = ? WHERE id = ? AND outcome IS NULL",
            (now.boottime_ns, klass, a.http_status, a.transport_error, a.operation_code, a.nmvs_trx_id, attempt_id))

    def _store_answer(self, seq: int, answer: ServiceAnswer, klass: str, now: ClockReading) -> None:
        svc_ns = parse_iso_ns(answer.timestamp)
        self.storage.execute(
            "UPDATE op SET last_error_class = ?, last_error_detail = ?, return_code = ?, return_desc = ?, "
            "svc_trx_id = coalesce(?, svc_trx_id), svc_time = coalesce(?, svc_time), "
            "svc_time_ns = coalesce(?, svc_time_ns), pack_state_after = ?, reasons = ?, alert_id = ?, "
            "alert_code = ?, intermarket = ?, settled_boot_id = ?, settled_bt_ns = ? WHERE seq = ?",
            (klass, answer.transport_error or answer.description, answer.operation_code, answer.description,
             answer.nmvs_trx_id, answer.timestamp, svc_ns, answer.state, json.dumps(list(answer.reasons)),
             answer.alert_id, answer.alert_code, int(bool(answer.is_intermarket)), now.boot_id,
             now.boottime_ns, seq))

    def _note_error(self, seq: int, answer: ServiceAnswer, klass: str) -> None:
        self.storage.execute("UPDATE op SET last_error_class = ?, last_error_detail = ? WHERE seq = ?",
                             (klass, answer.transport_error or answer.operation_code or answer.detail, seq))

    def _apply_outcome(self, seq: int, answer: ServiceAnswer, klass: str, outcome: op_states.Outcome,
                       now: ClockReading) -> None:
        """Store a settling answer (or just the error of a failed attempt) and apply the new state."""
        if outcome.state in op_states.FINAL or outcome.state == op_states.NEEDS_ATTENTION:
            self._store_answer(seq, answer, klass, now)
            self.storage.execute("UPDATE op SET reconciled = ? WHERE seq = ?", (outcome.reconciled, seq))
        else:
            self._note_error(seq, answer, klass)
        self._set_state(seq, outcome.state, uncertain_now=outcome.state == op_states.UNCERTAIN)

    def settle_send(self, seq: int, attempt_id: int, answer: ServiceAnswer, klass: str,
                    decide: Callable[[dict[str, Any]], op_states.Outcome]) -> Settlement:
        """Transitions #3-#8, #16: store the answer, apply the state, complete the attempt, one transaction.

        ``decide(row)`` picks the transition from the op row as it is inside this transaction, so an
        origin changed to ``deferred`` by the scan path (section 5.1, step 6) is never missed.
        """
        now = self.clock()
        with self.transaction():
            row = self._op_row(seq)
            outcome = decide(row)
            self._complete_attempt(attempt_id, answer, klass, now)
            if klass == op_states.DUPLICATE_ID:
                self.storage.execute("UPDATE op SET duplicate_seen = 1 WHERE seq = ?", (seq,))
            self._apply_outcome(seq, answer, klass, outcome, now)
            if outcome.pause:
                self.set_meta("paused", outcome.pause)
            if outcome.admin_alarm:
                self.alarms.append(outcome.admin_alarm)
            self._apply_undo_guard(row["pack_key"], now)
            self._refresh_view(row["pack_key"])
            self._server_anchor(answer, now)
        return Settlement(seq, row["kind"], outcome.state, answer, outcome.reconciled)

    def settle_reconcile(self, seq: int, attempt_id: int, answer: ServiceAnswer, klass: str,
                         outcome: op_states.Outcome) -> Settlement:
        """Transitions #11-#15 after a reconciling verify."""
        now = self.clock()
        with self.transaction():
            row = self._op_row(seq)
            self._complete_attempt(attempt_id, answer, klass, now)
            state = outcome.state
            if state == op_states.DONE:
                self._store_answer(seq, answer, klass, now)
                # #11: svc_time is estimated as the start of the uncertain attempt
                estimate = row["uncertain_wall_ns"]
                self.storage.execute(
                    "UPDATE op SET reconciled = 'verify', svc_trx_id = NULL, svc_time = ?, svc_time_ns = ?, "
                    "return_code = ?, return_desc = 'confirmed by verify' WHERE seq = ?",
                    (iso_utc(estimate), estimate, answer.operation_code, seq))
            elif state == op_states.NEEDS_ATTENTION:
                self._store_answer(seq, answer, klass, now)
            elif state == op_states.QUEUED:
                # #12, #13: the verify succeeded and shows the state before the op; its success is no
                # error of the op, which the service has not applied and is sent again
                self.storage.execute("UPDATE op SET last_error_class = ?, last_error_detail = ? WHERE seq = ?",
                                     (op_states.NOT_APPLIED, answer.state, seq))
                if outcome.new_trx_id:
                    log.warning("op %s: earlier attempt processed without effect; resending under a new id (#13)",
                                seq)
                    self.storage.execute(
                        "UPDATE op SET client_trx_id = ?, renewals = renewals + 1, duplicate_seen = 0 WHERE seq = ?",
                        (new_trx_id(), seq))
            else:
                self._note_error(seq, answer, klass)
            if state != op_states.UNCERTAIN:
                self._set_state(seq, state)
            if outcome.pause:
                self.set_meta("paused", outcome.pause)
            self._apply_undo_guard(row["pack_key"], now)
            self._refresh_view(row["pack_key"])
            self._server_anchor(answer, now)
        return Settlement(seq, row["kind"], state, answer, outcome.reconciled)

    def _server_anchor(self, answer: ServiceAnswer, now: ClockReading) -> None:
        """A service timestamp is an anchor with source ``server`` (section 7), taken while the kernel
        clock is not synchronised, so that boots which never synchronise can still be corrected."""
        svc_ns = parse_iso_ns(answer.timestamp)
        if svc_ns is not None and not now.synced:
            self._add_anchor(now, svc_ns, "server")

    def _apply_undo_guard(self, pack_key: str, now: ClockReading) -> None:
        """Transition #18: a queued undo whose dispense was refused or cancelled, or is too old, stops."""
        undos = self.storage.execute(
            "SELECT u.seq, d.seq AS d_seq, d.state AS d_state, d.svc_time_ns, d.wall_corrected_ns, "
            "d.settled_boot_id, d.settled_bt_ns FROM op AS u JOIN op AS d ON d.seq = u.ref_seq "
            "WHERE u.pack_key = ? AND u.kind = 'undo_dispense' AND u.state = 'queued'", (pack_key,))
        for undo in undos:
            left = None
            if undo["d_state"] == op_states.DONE:
                dispense = local_checks.PackView(
                    pack_key, dispense_seq=undo["d_seq"], dispense_done=True,
                    dispense_time_ns=undo["svc_time_ns"] or undo["wall_corrected_ns"],
                    dispense_time_trusted=undo["svc_time_ns"] is not None,
                    dispense_boot_id=undo["settled_boot_id"], dispense_boottime_ns=undo["settled_bt_ns"])
                left = local_checks.undo_time_left_ns(dispense, now)
            if op_states.undo_must_stop(undo["d_state"], left):
                self._set_state(undo["seq"], op_states.NEEDS_ATTENTION)
                why = "undo period (10 days) over" if left is not None and left <= 0 else f"its dispense was {undo['d_state']}"
                self.storage.execute(
                    "UPDATE op SET last_error_class = 'undo_guard', last_error_detail = ? WHERE seq = ?",
                    (why, undo["seq"]))

    def guard_undo(self, seq: int) -> bool:
        """Transition #18 just before an undo is sent; True when the undo may still go."""
        now = self.clock()
        with self.transaction():
            row = self._op_row(seq)
            self._apply_undo_guard(row["pack_key"], now)
            state = self._op_row(seq)["state"]
            if state != row["state"]:
                self._refresh_view(row["pack_key"])
        return state == op_states.QUEUED

    def defer(self, seq: int) -> bool:
        """Section 5.1 step 6: the screen moved on without an answer. False if the op is already final."""
        with self.transaction():
            row = self._op_row(seq)
            if row["state"] in op_states.FINAL or row["state"] == op_states.NEEDS_ATTENTION:
                return False
            self.storage.execute("UPDATE op SET origin = 'deferred' WHERE seq = ?", (seq,))
            return True

    def _cancel_for_site(self, seq: int, client_trx_id: str, pack_key: str, now: ClockReading,
                         reason: str, note: str) -> None:
        """The site ledger's yield (README, "Site ledger"), inside ``record``'s transaction: another
        counter of the site has this pack, so the op is cancelled before any worker can see it queued,
        with ``reason`` and ``note`` (where and when) in its record."""
        attempt_id = self._attempt(seq, "person", now, client_trx_id=client_trx_id, user_id="site-ledger",
                                   reason=reason, note=note)
        self.storage.execute("UPDATE attempt SET outcome = 'cancel', ended_bt_ns = ? WHERE id = ?",
                             (now.boottime_ns, attempt_id))
        self.storage.execute(
            "UPDATE op SET state = 'cancelled', resolved_by = 'site-ledger', resolved_at = ?, resolution = ?, "
            "resolution_note = ? WHERE seq = ?", (now.wall_ns, "cancel:" + reason, note, seq))
        self._apply_undo_guard(pack_key, now)

    # -- recovery endpoint (section 6.3) -----------------------------------------------------------

    def claim_bulk(self, seqs: list[int], bulk_id: str) -> list[dict[str, Any]]:
        """Claim every item under one ``bulk_id`` in one transaction (#2), before the submission."""
        now = self.clock()
        claimed = []
        with self.transaction():
            for seq in seqs:
                row = self._op_row(seq)
                if row["state"] != op_states.QUEUED:
                    continue
                self.storage.execute(
                    "UPDATE op SET state = 'in_flight', attempts = attempts + 1, bulk_id = ? WHERE seq = ?",
                    (bulk_id, seq))
                self._attempt(seq, "bulk_submit", now, client_trx_id=row["client_trx_id"], bulk_id=bulk_id)
                claimed.append(row)
        return claimed

    def store_results_ref(self, bulk_id: str, results_ref: str) -> None:
        with self.transaction():
            self.storage.execute("UPDATE op SET results_ref = ? WHERE bulk_id = ? AND state = 'in_flight'",
                                 (results_ref, bulk_id))
            self.storage.execute("UPDATE attempt SET results_ref = ? WHERE bulk_id = ? AND outcome IS NULL",
                                 (results_ref, bulk_id))

    def settle_bulk(self, bulk_id: str, results: list[tuple[int, ServiceAnswer, str, op_states.Outcome]],
                    single_only: list[int] = ()) -> list[Settlement]:  # type: ignore[assignment]
        """Store each item's answer (as a ``bulk_result`` attempt) and apply its transition, one transaction."""
        now = self.clock()
        settled = []
        packs = set()
        with self.transaction():
            for seq, answer, klass, outcome in results:
                row = self._op_row(seq)
                if row["state"] != op_states.IN_FLIGHT or row["bulk_id"] != bulk_id:
                    continue
                self.storage.execute("UPDATE attempt SET ended_bt_ns = ?, outcome = 'bulk_result' "
                                     "WHERE seq = ? AND bulk_id = ? AND outcome IS NULL",
                                     (now.boottime_ns, seq, bulk_id))
                attempt_id = self._attempt(seq, "bulk_result", now, client_trx_id=row["client_trx_id"],
                                           bulk_id=bulk_id, results_ref=row["results_ref"])
                self._complete_attempt(attempt_id, answer, klass, now)
                self._apply_outcome(seq, answer, klass, outcome, now)
                self.storage.execute("UPDATE op SET bulk_id = NULL, results_ref = NULL, single_only = ? "
                                     "WHERE seq = ?", (int(seq in single_only), seq))
                if seq in single_only:
                    # NC_PC_01 answered this id and nothing took effect (no intermarket lookup in bulk): the
                    # resend alone goes under a new id, or the service would refuse the reused one
                    # (TE_TX_01) and the op would wait a quiet period to be verified; the old id stays
                    # in ``attempt`` (issue 17)
                    self.storage.execute("UPDATE op SET client_trx_id = ? WHERE seq = ?", (new_trx_id(), seq))
                packs.add(row["pack_key"])
                settled.append(Settlement(seq, row["kind"], outcome.state, answer, outcome.reconciled))
            for pack_key in packs:
                self._apply_undo_guard(pack_key, now)
                self._refresh_view(pack_key)
        return settled

    def bulk_unknown(self, bulk_id: str) -> list[Settlement]:
        """No 202, or results not retrievable for 1 h: every item becomes ``uncertain`` (section 6.3)."""
        now = self.clock()
        settled = []
        with self.transaction():
            rows = self.storage.execute("SELECT seq, kind, pack_key FROM op WHERE bulk_id = ? AND state = 'in_flight'",
                                        (bulk_id,))
            for row in rows:
                state = op_states.QUEUED if row["kind"] == "verify" else op_states.UNCERTAIN
                self.storage.execute("UPDATE attempt SET ended_bt_ns = ?, outcome = 'unknown' "
                                     "WHERE seq = ? AND bulk_id = ? AND outcome IS NULL",
                                     (now.boottime_ns, row["seq"], bulk_id))
                self._set_state(row["seq"], state, uncertain_now=state == op_states.UNCERTAIN)
                self.storage.execute("UPDATE op SET bulk_id = NULL, results_ref = NULL WHERE seq = ?",
                                     (row["seq"],))
                self._refresh_view(row["pack_key"])
                settled.append(Settlement(row["seq"], row["kind"], state, None))
        return settled

    def bulk_release(self, bulk_id: str, single_only: bool = False) -> None:
        """The submission was not executed (``not_sent``, 429, 503, a refused batch): back to ``queued``.

        ``single_only``: the service refused the batch as a whole, so its items go one by one.
        """
        now = self.clock()
        with self.transaction():
            self.storage.execute("UPDATE attempt SET ended_bt_ns = ?, outcome = 'not_sent' "
                                 "WHERE bulk_id = ? AND outcome IS NULL", (now.boottime_ns, bulk_id))
            self.storage.execute("UPDATE op SET state = 'queued', bulk_id = NULL, results_ref = NULL, "
                                 "single_only = max(single_only, ?) WHERE bulk_id = ? AND state = 'in_flight'",
                                 (int(single_only), bulk_id))

    # -- upkeep (section 2.3) -----------------------------------------------------------------------

    def maintain(self, now: ClockReading, idle_ns: int) -> list[str]:
        """Checkpoints and checks while the worker is idle; returns what was done (for logs and tests).

        ``PASSIVE`` checkpoint after 30 s idle, ``TRUNCATE`` and ``integrity_check`` once a day (the
        result and its time go to ``meta``; a failure raises a red admin alarm), and every 10 min the
        storage alarms of ``check_storage`` (WAL over 64 MiB, under 30 days of free space).
        """
        if not self.durable:
            return []
        done = []
        bt = now.boottime_ns
        with self.lock:
            if idle_ns >= 30 * 1_000_000_000 and bt - self._last_passive_ns >= 30 * 1_000_000_000:
                self.storage.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._last_passive_ns = bt
                done.append("checkpoint_passive")
            if self._last_daily_ns is None or bt - self._last_daily_ns >= 86_400 * 1_000_000_000:
                self.storage.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                result = next(iter(self.storage.execute("PRAGMA integrity_check")[0].values()))
                self._last_daily_ns = bt
                with self.transaction():
                    self.set_meta("last_integrity_check", f"{now.wall_ns} {result}")
                if result != "ok":
                    self.alarms.append(f"red: integrity_check says {result!r}: STORAGE FAULT")
                done += ["checkpoint_truncate", "integrity_check"]
        if self._last_space_ns is None or bt - self._last_space_ns >= SPACE_CHECK_NS:
            self._last_space_ns = bt
            raised = self.check_storage(now)
            done += list(raised)
        return done

    def check_storage(self, now: ClockReading) -> dict[str, str]:
        """The storage admin alarms (sections 2.3 and 6.4), written to ``meta`` only when they change.

        ``alarm_wal``: the WAL passed 64 MiB. ``alarm_space``: the free space above the reserve holds
        fewer than 30 days of ops (bytes per op measured from the database, 2,000 ops a day or the
        last day's count if higher). A cleared alarm is removed. Returns the alarms now raised.
        """
        try:
            wal: int | None = os.path.getsize(self.where + "-wal")
        except OSError:
            wal = None
        with self.lock:
            page = self.storage.execute("PRAGMA page_size")[0]
            pages = self.storage.execute("PRAGMA page_count")[0]
            free_pages = self.storage.execute("PRAGMA freelist_count")[0]
            db_bytes = next(iter(page.values())) * (next(iter(pages.values())) - next(iter(free_pages.values())))
            counts = self.storage.execute(
                "SELECT count(*) AS n, sum(coalesce(wall_corrected_ns, wall_ns) >= ?) AS day FROM op",
                (now.wall_ns - DAY_NS,))[0]
        days = upkeep.headroom_days(self.free_bytes(), self.reserve_bytes, db_bytes, counts["n"], counts["day"] or 0)
        found = {"alarm_wal": upkeep.wal_alarm(wal), "alarm_space": upkeep.space_alarm(days)}
        raised = {}
        with self.transaction():
            for key, alarm in found.items():
                text = None if alarm is None else f"{alarm[0]}: {alarm[1]}"
                if self.meta(key) != text:
                    if text is None:
                        self.storage.execute("DELETE FROM meta WHERE key = ?", (key,))
                    else:
                        self.set_meta(key, text)
                        self.alarms.append(text)
                        log.warning("storage alarm: %s", text)
                if text is not None:
                    raised[key] = text
        return raised

    def storage_alarms(self) -> dict[str, str]:
        """The storage admin alarms in ``meta``: ``alarm_storage`` (damaged database salvaged, red),
        ``alarm_wal`` and ``alarm_space`` (admin / amber), each "level: text"; absent when not raised."""
        with self.reading() as db:
            rows = db.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?) AND value IS NOT NULL",
                              STORAGE_ALARMS)
        return {row["key"]: row["value"] for row in rows}

    # -- retention (section 2.3) ---------------------------------------------------------------------

    def prune(self, older_than_days: int, now: ClockReading | None = None) -> dict[str, int]:
        """Delete final ops older than the retention period that a backup holds (section 2.3, "Retention").

        Deleted: ops that are final, older than ``older_than_days`` (never less than the 10-day
        undo window, Art. 13) by both scan time and service time, held final by the last backup
        (``meta.last_backup``), in a pack with no op that is not final; with their ``attempt``
        rows. A dispense stays while an undo that references it stays. Each transaction deletes at
        most 1,000 rows (ops and attempts together) and appends a line to ``meta.prune_log``.
        ``seq`` is never reused (AUTOINCREMENT). Refused (``PruneRefused``) without a backup or
        with a stale clock; a clock running ahead only shortens the period, since a backup holds
        every op deleted. Returns the counts deleted.
        """
        now = now or self.clock()
        with self.lock:
            quality = self.quality(now)
            mark = json.loads(self.meta("last_backup") or "null")
        if quality == "stale":
            raise PruneRefused("the clock is not trusted (stale): nothing pruned")
        if not mark:
            raise PruneRefused("no backup recorded in meta.last_backup: nothing pruned (back up first)")
        held, open_seqs = int(mark["held_upto_seq"]), set(mark["open_seqs"])
        cutoff = upkeep.prune_cutoff_ns(now.wall_ns, older_than_days)
        deleted = {"ops": 0, "attempts": 0, "transactions": 0}
        cursor = 0
        while True:
            with self.transaction() as db:
                rows = db.execute(
                    f"SELECT op.seq, op.pack_key, (SELECT count(*) FROM attempt WHERE attempt.seq = op.seq) AS n "
                    f"FROM op WHERE op.seq > ? AND op.seq <= ? AND op.state IN {_FINAL_SQL} "
                    "AND max(coalesce(op.svc_time_ns, 0), coalesce(op.wall_corrected_ns, op.wall_ns)) < ? "
                    f"AND NOT EXISTS (SELECT 1 FROM op AS p WHERE p.pack_key = op.pack_key AND p.state NOT IN "
                    f"{_FINAL_SQL}) ORDER BY op.seq LIMIT ?", (cursor, held, cutoff, upkeep.PRUNE_BATCH_ROWS))
                if not rows:
                    break
                batch: list[dict[str, Any]] = []
                size = 0
                for row in rows:
                    if size + 1 + row["n"] > upkeep.PRUNE_BATCH_ROWS and batch:
                        break
                    cursor = row["seq"]
                    size += 1 + row["n"]
                    if row["seq"] not in open_seqs:
                        batch.append(row)
                seqs = {row["seq"] for row in batch}
                marks = ", ".join("?" * len(seqs))
                kept = {r["ref_seq"] for r in db.execute(
                    f"SELECT ref_seq FROM op WHERE ref_seq IN ({marks}) AND seq NOT IN ({marks})",
                    tuple(seqs) * 2)}
                seqs -= kept
                if seqs:
                    self._delete_ops(seqs, [row["pack_key"] for row in batch if row["seq"] in seqs], now, deleted)
        return deleted

    def _delete_ops(self, seqs: set[int], pack_keys: list[str], now: ClockReading, deleted: dict[str, int]) -> None:
        """One pruning transaction's deletes, its ``pack_view`` refresh and its ``prune_log`` line."""
        marks = ", ".join("?" * len(seqs))
        attempts = self.storage.execute(f"DELETE FROM attempt WHERE seq IN ({marks}) RETURNING id", tuple(seqs))
        self.storage.execute(f"DELETE FROM op WHERE seq IN ({marks})", tuple(seqs))
        for pack_key in set(pack_keys):
            if self.storage.execute("SELECT 1 FROM op WHERE pack_key = ? LIMIT 1", (pack_key,)):
                self._refresh_view(pack_key)
            else:
                self.storage.execute("DELETE FROM pack_view WHERE pack_key = ?", (pack_key,))
        line = f"{now.wall_ns} pruned {len(seqs)} ops (seq {min(seqs)}-{max(seqs)}) and {len(attempts)} attempts"
        log_lines = (self.meta("prune_log") or "").splitlines()[-(PRUNE_LOG_LINES - 1):] + [line]
        self.set_meta("prune_log", "\n".join(log_lines))
        log.info("%s", line)
        deleted["ops"] += len(seqs)
        deleted["attempts"] += len(attempts)
        deleted["transactions"] += 1

    # -- the pharmacist's list (section 8) ---------------------------------------------------------

    def attention(self) -> list[dict[str, Any]]:
        return self.ops("op.state = 'needs_attention'")

    def resolve(self, seq: int, action: str, user_id: str, reason: str | None = None, note: str | None = None,
                rescan: PackRef | None = None) -> str:
        """Transition #17, recorded as an ``attempt`` row (action ``person``) and in ``resolved_*``.

        Returns the new state; raises ``ResolutionRefused`` when the action does not apply.
        """
        now = self.clock()
        with self.transaction():
            rows = self.storage.execute(self._OP_SELECT + "WHERE op.seq = ?", (seq,))
            if not rows:
                raise ResolutionRefused(f"no op with seq {seq}")
            row = rows[0]
            outcome, why = op_states.after_person(row["state"], action, reason, note)
            if outcome is None:
                raise ResolutionRefused(f"op {seq}: {why}")
            if action == op_states.RETRY and (rescan is None or same_pack_data(rescan) != same_pack_data(pack_of(row))):
                raise ResolutionRefused(f"op {seq}: Retry needs a rescan of the same pack (product code, serial, "
                                        "batch, expiry); the rescan does not match")
            attempt_id = self._attempt(seq, "person", now, client_trx_id=row["client_trx_id"], user_id=user_id,
                                       reason=reason or action, note=note)
            self.storage.execute("UPDATE attempt SET outcome = ?, ended_bt_ns = ? WHERE id = ?",
                                 (action, now.boottime_ns, attempt_id))
            if outcome.new_trx_id:
                self.storage.execute("UPDATE op SET client_trx_id = ?, duplicate_seen = 0 WHERE seq = ?",
                                     (new_trx_id(), seq))
            self.storage.execute(
                "UPDATE op SET state = ?, resolved_by = ?, resolved_at = ?, resolution = ?, resolution_note = ? "
                "WHERE seq = ?", (outcome.state, user_id, now.wall_ns, action if reason is None else
                                  f"{action}:{reason}", note, seq))
            self._apply_undo_guard(row["pack_key"], now)
            self._refresh_view(row["pack_key"])
        return outcome.state

    def adopt_salvage(self, aside: str) -> str:
        """Salvage the damaged database ``aside`` into this fresh one (section 2.3, "Failed check").

        Adopted only if ``integrity_check`` passes afterwards; then ``pack_view`` is rebuilt and
        transition #10 applies. Returns a short note for the admin alarm.
        """
        from fmd_terminal.outbox.salvage import salvage_into

        try:
            with self.transaction() as db:
                copied = salvage_into(aside, db)
                check = next(iter(db.execute("PRAGMA integrity_check")[0].values()))
                if check != "ok":
                    raise StorageCorruptError(f"salvaged database fails integrity_check: {check!r}")
                self._after_restart(restored=True)
                db.execute("DELETE FROM pack_view")
                for row in db.execute("SELECT DISTINCT pack_key FROM op"):
                    self._refresh_view(row["pack_key"])
                self.set_meta("restored_from_backup", f"salvage of {aside}")
        except StorageError as error:
            log.error("salvage of %s not adopted: %s", aside, error)
            return f"salvage failed ({error}); the damaged file holds the earlier records"
        log.error("salvaged from %s: %s", aside, copied)
        return f"salvaged {copied.get('op', 0)} ops and {copied.get('attempt', 0)} attempts"

    def close(self) -> None:
        with self.lock:
            if self._reader is not None:
                with self._reader_lock:
                    self._reader.close()
                    self._reader = None
            self.storage.close()
            if self.scratch is not None:  # an attached copy (``_attached_copy``): ours, removed
                import shutil

                shutil.rmtree(self.scratch, ignore_errors=True)


def _cause(error: BaseException) -> str:
    """The library's words after the last colon of a translated error ("file is not a database")."""
    return str(error).rsplit(": ", 1)[-1]


def check_directory(path: str) -> str:
    """The outbox's directory, or ``StorageError`` saying that it is missing or not writable (exit 4)."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise StorageError.text("storage_not_outbox", path=path, why="a directory")
    if not os.path.isdir(directory):
        raise StorageError.text("storage_no_directory", path=path, directory=directory)
    if not os.access(directory, os.W_OK):
        raise StorageError.text("storage_read_only", path=path, directory=directory, why="EACCES")
    return directory


def _attached_copy(path: str, copy_dir: str | None, clock: Callable[[], ClockReading],
                   cause: StorageError) -> SQLiteOutbox:
    """The outbox at ``path`` read from a scratch copy (``open_sqlite_outbox``, ``attach``); removed on close."""
    import shutil
    import tempfile

    try:
        scratch = tempfile.mkdtemp(prefix="fmd-outbox-copy-", dir=copy_dir or None)
    except OSError as error:
        raise StorageError.text("storage_unusable", path=path, why=f"{cause}; no room for a copy: "
                                f"{error.strerror}") from error
    copy = os.path.join(scratch, os.path.basename(path))
    try:
        for suffix in ("", "-wal"):
            if os.path.exists(path + suffix):
                shutil.copyfile(path + suffix, copy + suffix)
        storage = Sqlite3Storage(copy)
        outbox = SQLiteOutbox(storage, clock, free_bytes=lambda: None, attach=True)
    except (OSError, StorageError) as error:
        shutil.rmtree(scratch, ignore_errors=True)
        raise StorageError.text("storage_unusable", path=path, why=f"{cause}; copy: {error}") from error
    log.warning("%s cannot be opened in place (%s): reading a copy in %s", path, cause, scratch)
    outbox.scratch = scratch
    return outbox


class PruneRefused(TerminalError):
    """Pruning cannot run: no backup holds the ops, or the clock is not trusted (section 2.3)."""


class ResolutionRefused(TerminalError):
    """A person action that does not apply to the op (wrong state, missing reason, rescan mismatch)."""


def open_sqlite_outbox(path: str, clock: Callable[[], ClockReading] | None = None, *,
                       reserve_bytes: int = RESERVE_BYTES, restored: bool = False,
                       set_aside_corrupt: bool = True, attach: bool = False,
                       copy_dir: str | None = None) -> SQLiteOutbox:
    """Open (or create) the outbox database at ``path``.

    ``attach=True`` (an admin command beside a running terminal, ``SQLiteOutbox``): the outbox must
    exist, no start-up transition runs, and a damaged file is reported, never moved (section 2.3,
    "File handling": the terminal may have it open). When SQLite cannot open it in place (a full
    disk: no room for its ``-shm``; a read-only directory), the database and its ``-wal`` are copied
    into a scratch directory under ``copy_dir`` (``""``: the system's temporary directory) and the copy
    is opened: a full disk never stops a person from copying the records out (issue 12). Only for
    commands that read (export, backup, the attention list): what is written to a copy is lost.

    A damaged file is kept aside (renamed with a ``.corrupt-<time>`` suffix, with its ``-wal`` and
    ``-shm``; it is not open anywhere else, since only the queue service opens it), a fresh
    database is opened, what can still be read is salvaged into it (``adopt_salvage``), and a red
    admin alarm is recorded in ``meta`` (issue 5, "Bad input").
    """
    from fmd_terminal.outbox.clock import SystemClock

    clock = clock or SystemClock()
    if attach and not os.path.exists(path):
        raise StorageError.text("storage_absent", path=path)
    if attach and os.path.isfile(path) and os.path.getsize(path) == 0:  # opening it would write a header
        raise StorageError.text("storage_not_outbox", path=path, why="0 bytes")
    try:
        directory = check_directory(path)
    except StorageError as error:
        if attach and copy_dir is not None and error.text_id == "storage_read_only":
            return _attached_copy(path, copy_dir, clock, error)
        raise

    def free_bytes() -> int:
        stat = os.statvfs(directory)
        return stat.f_bavail * stat.f_frsize

    def build() -> SQLiteOutbox:
        storage = Sqlite3Storage(path)
        try:
            return SQLiteOutbox(storage, clock, free_bytes=free_bytes, reserve_bytes=reserve_bytes,
                                restored=restored, attach=attach, open_reader=lambda: Sqlite3Storage(path))
        except StorageError:
            storage.close()
            raise

    try:
        return build()
    except StorageFullError as error:
        if attach and copy_dir is not None:
            return _attached_copy(path, copy_dir, clock, error)
        raise StorageFullError.text("storage_unusable", path=path, why=_cause(error)) from error
    except StorageCorruptError as error:
        if attach:  # the terminal may have it open: reported, never moved (section 2.3, "File handling")
            raise StorageCorruptError.text("storage_damaged", path=path, why=_cause(error)) from error
        if not set_aside_corrupt:
            raise
        aside = f"{path}.corrupt-{int(time.time())}"
        log.error("%s; keeping it aside as %s and starting a fresh outbox", error, aside)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.replace(path + suffix, aside + suffix)
        outbox = build()
        note = outbox.adopt_salvage(aside)
        outbox.write_meta("alarm_storage", f"red: damaged database kept aside as {aside}: {error}; {note}")
        outbox.alarms.append(f"STORAGE FAULT: damaged database kept aside as {aside}; {note}")
        return outbox
