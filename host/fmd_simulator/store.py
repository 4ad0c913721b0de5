"""SQLite storage of the simulator: master data, packs, history, alerts, transaction ids, bulk jobs.

WAL journal, ``synchronous=NORMAL`` (survives a process crash; a power cut may lose the last commits,
acceptable for a development service), a versioned schema (``PRAGMA user_version``) and ``:memory:``
for tests. One connection used from the server's event-loop thread; every engine request is one
transaction (``transaction()``). No ORM: plain prepared statements (sqlite3 caches them).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from fmd_simulator.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS products (
    scheme TEXT NOT NULL, product_code TEXT NOT NULL, market TEXT NOT NULL, name TEXT NOT NULL,
    nhrn TEXT, unavailable INTEGER NOT NULL DEFAULT 0, withdrawn INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scheme, product_code)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    scheme TEXT NOT NULL, product_code TEXT NOT NULL, batch TEXT NOT NULL, expiry TEXT NOT NULL,
    recalled INTEGER NOT NULL DEFAULT 0, withdrawn INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scheme, product_code, batch)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS packs (
    scheme TEXT NOT NULL, product_code TEXT NOT NULL, serial TEXT NOT NULL, batch TEXT NOT NULL,
    reason TEXT, reason_client TEXT, reason_location TEXT, reason_trx_id TEXT, reason_at REAL,
    PRIMARY KEY (scheme, product_code, serial));
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, scheme TEXT NOT NULL, product_code TEXT NOT NULL, serial TEXT NOT NULL,
    known INTEGER NOT NULL, operation TEXT NOT NULL, requested_state TEXT, client_id TEXT NOT NULL,
    location_id TEXT NOT NULL, client_trx_id TEXT, ref_client_trx_id TEXT, entry_mode TEXT NOT NULL,
    at REAL NOT NULL, recorded_at TEXT, result TEXT NOT NULL, nmvs_trx_id TEXT NOT NULL, alert_id TEXT,
    intermarket INTEGER NOT NULL, bulk_id TEXT);
CREATE INDEX IF NOT EXISTS history_pack ON history (scheme, product_code, serial);
CREATE TABLE IF NOT EXISTS trx_ids (
    client_id TEXT NOT NULL, trx_id TEXT NOT NULL, PRIMARY KEY (client_id, trx_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY, alert_code TEXT NOT NULL, operation_code TEXT NOT NULL, scheme TEXT NOT NULL,
    product_code TEXT NOT NULL, serial TEXT NOT NULL, batch TEXT, expiry TEXT, client_id TEXT NOT NULL,
    location_id TEXT NOT NULL, at REAL NOT NULL, nmvs_trx_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
    identifier TEXT PRIMARY KEY, route TEXT NOT NULL, client_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrolment_codes (
    token TEXT PRIMARY KEY, identifier TEXT NOT NULL, expires REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    client_id TEXT PRIMARY KEY, secret TEXT, password_changed_at REAL, terms_accepted TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bulk_jobs (
    bulk_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, kind TEXT NOT NULL, request TEXT NOT NULL,
    status TEXT NOT NULL, results TEXT, created_at REAL NOT NULL) WITHOUT ROWID;
"""

PACK_COLUMNS = (
    "p.batch, p.reason, p.reason_client, p.reason_location, p.reason_trx_id, p.reason_at, "
    "b.expiry, b.recalled, b.withdrawn"
)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Store:
    """The simulator's database (a file path, or ``":memory:"``)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._on_group_open: Callable[[], None] | None = None
        self._group_open = False
        self._lock = threading.RLock()
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"database {path!r} has schema version {version}, newer than {SCHEMA_VERSION}")
            self.db.executescript(_SCHEMA)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open simulator database {path!r}: {exc}") from exc

    def close(self) -> None:
        self.commit_group()
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

        With group commit on (``group_commit(on_open)``), the first unit opens a shared transaction and
        calls ``on_open`` (the server schedules ``commit_group`` for the end of the event-loop tick); each
        unit is then a SAVEPOINT inside it, so one failing request never undoes another's work.
        """
        with self._lock:  # one connection for the event loop and the threads that call in (enrolment)
            db = self.db
            if self._on_group_open is not None and not self._group_open:
                db.execute("BEGIN IMMEDIATE")
                self._group_open = True
                self._on_group_open()
            if self._group_open:
                db.execute("SAVEPOINT unit")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK TO unit")
                    db.execute("RELEASE unit")
                    raise
                db.execute("RELEASE unit")
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def group_commit(self, on_open: Callable[[], None] | None) -> None:
        """Turn group commit on (``on_open`` is called when a shared transaction opens) or off (None)."""
        self.commit_group()
        self._on_group_open = on_open

    def commit_group(self) -> None:
        """Commit the shared transaction, if one is open (one WAL write for every request of the tick);
        never in the middle of another thread's unit (its SAVEPOINT would be gone: "no such savepoint")."""
        with self._lock:
            self._commit_group()

    def _commit_group(self) -> None:
        if self._group_open:
            self._group_open = False
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot commit to {self.path!r}: {exc}") from exc

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value, allow_nan=False)))

    # -- subscriptions, enrolment codes, accounts (issue 14) ----------------------------------
    def save_subscription(self, identifier: str, route: str, client_id: str, secret: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO subscriptions (identifier, route, client_id) VALUES (?, ?, ?)",
                        (identifier, route, client_id))
        self.save_account(client_id, secret=secret)

    def subscriptions(self) -> list[tuple[str, str, str, str | None]]:
        """(identifier, route, client id, secret) of every subscription."""
        return self.db.execute("SELECT s.identifier, s.route, s.client_id, a.secret FROM subscriptions s "
                               "LEFT JOIN accounts a ON a.client_id = s.client_id ORDER BY s.identifier").fetchall()

    def add_code(self, token: str, identifier: str, expires: float) -> None:
        self.db.execute("INSERT INTO enrolment_codes (token, identifier, expires) VALUES (?, ?, ?)",
                        (token, identifier, expires))

    def codes(self) -> list[tuple[str, str, float, int]]:
        """(token, identifier, expires, used) of every enrolment code issued."""
        return self.db.execute("SELECT token, identifier, expires, used FROM enrolment_codes").fetchall()

    def use_code(self, token: str) -> None:
        self.db.execute("UPDATE enrolment_codes SET used = 1 WHERE token = ?", (token,))

    def save_account(self, client_id: str, **fields: Any) -> None:
        """Upsert an account's ``secret``, ``password_changed_at`` or ``terms_accepted``."""
        names = [name for name in ("secret", "password_changed_at", "terms_accepted") if name in fields]
        self.db.execute("INSERT OR IGNORE INTO accounts (client_id) VALUES (?)", (client_id,))
        if names:
            self.db.execute(f"UPDATE accounts SET {', '.join(n + ' = ?' for n in names)} WHERE client_id = ?",
                            (*(fields[n] for n in names), client_id))

    def accounts(self) -> list[tuple[str, str | None, float | None, str | None]]:
        """(client id, secret, password changed at, terms version accepted) of every account."""
        return self.db.execute("SELECT client_id, secret, password_changed_at, terms_accepted FROM accounts").fetchall()

    # -- master data --------------------------------------------------------------------------
    def upsert_product(self, scheme: str, product_code: str, market: str, name: str, nhrn: str | None,
                       unavailable: bool = False) -> None:
        self.db.execute(
            "INSERT INTO products (scheme, product_code, market, name, nhrn, unavailable) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT (scheme, product_code) DO UPDATE SET market=excluded.market, name=excluded.name, "
            "nhrn=excluded.nhrn, unavailable=excluded.unavailable",
            (scheme, product_code, market, name, nhrn, int(unavailable)))

    def insert_batches(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO batches (scheme, product_code, batch, expiry) VALUES (?,?,?,?)", rows)

    def insert_packs(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO packs (scheme, product_code, serial, batch) VALUES (?,?,?,?)", rows)

    def product(self, scheme: str, product_code: str) -> tuple | None:
        """(market, name, nhrn, unavailable, withdrawn) or None."""
        return self.db.execute(
            "SELECT market, name, nhrn, unavailable, withdrawn FROM products WHERE scheme=? AND product_code=?",
            (scheme, product_code)).fetchone()

    def batch(self, scheme: str, product_code: str, batch: str) -> tuple | None:
        """(expiry, recalled, withdrawn) or None."""
        return self.db.execute(
            "SELECT expiry, recalled, withdrawn FROM batches WHERE scheme=? AND product_code=? AND batch=?",
            (scheme, product_code, batch)).fetchone()

    def pack(self, scheme: str, product_code: str, serial: str) -> tuple | None:
        """(batch, reason, reason_client, reason_location, reason_trx_id, reason_at, expiry, recalled,
        withdrawn) or None."""
        return self.db.execute(
            f"SELECT {PACK_COLUMNS} FROM packs p JOIN batches b ON b.scheme = p.scheme "
            "AND b.product_code = p.product_code AND b.batch = p.batch "
            "WHERE p.scheme=? AND p.product_code=? AND p.serial=?",
            (scheme, product_code, serial)).fetchone()

    def flag_batch(self, scheme: str, product_code: str, batch: str, flag: str) -> bool:
        column = {"recall": "recalled", "withdraw": "withdrawn"}[flag]
        cur = self.db.execute(f"UPDATE batches SET {column}=1 WHERE scheme=? AND product_code=? AND batch=?",
                              (scheme, product_code, batch))
        return cur.rowcount == 1

    def withdraw_product(self, scheme: str, product_code: str) -> bool:
        cur = self.db.execute("UPDATE products SET withdrawn=1 WHERE scheme=? AND product_code=?",
                              (scheme, product_code))
        return cur.rowcount == 1

    def packs_of_market(self, market: str) -> list[tuple]:
        """(scheme, product_code, serial, batch, expiry, name, nhrn) of every pack of ``market``."""
        return self.db.execute(
            "SELECT p.scheme, p.product_code, p.serial, p.batch, b.expiry, pr.name, pr.nhrn FROM packs p "
            "JOIN batches b ON b.scheme=p.scheme AND b.product_code=p.product_code AND b.batch=p.batch "
            "JOIN products pr ON pr.scheme=p.scheme AND pr.product_code=p.product_code WHERE pr.market=? "
            "ORDER BY p.rowid", (market,)).fetchall()

    # -- pack state ---------------------------------------------------------------------------
    def set_reason(self, key: tuple[str, str, str], reason: str | None, client_id: str | None,
                   location_id: str | None, trx_id: str | None, at: float | None) -> None:
        self.db.execute(
            "UPDATE packs SET reason=?, reason_client=?, reason_location=?, reason_trx_id=?, reason_at=? "
            "WHERE scheme=? AND product_code=? AND serial=?", (reason, client_id, location_id, trx_id, at, *key))

    def use_trx_id(self, client_id: str, trx_id: str) -> bool:
        """Record a client transaction id; False when this client used it before (section 6)."""
        cur = self.db.execute("INSERT OR IGNORE INTO trx_ids (client_id, trx_id) VALUES (?, ?)", (client_id, trx_id))
        return cur.rowcount == 1

    def trx_id_used(self, client_id: str, trx_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM trx_ids WHERE client_id=? AND trx_id=?",
                               (client_id, trx_id)).fetchone() is not None

    def add_history(self, row: tuple) -> None:
        self.db.execute(
            "INSERT INTO history (scheme, product_code, serial, known, operation, requested_state, client_id, "
            "location_id, client_trx_id, ref_client_trx_id, entry_mode, at, recorded_at, result, nmvs_trx_id, "
            "alert_id, intermarket, bulk_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def client_operation(self, client_id: str, key: tuple[str, str, str], trx_id: str) -> tuple | None:
        """The latest history row (operation, requested_state, result) of this client, pack and id."""
        return self.db.execute(
            "SELECT operation, requested_state, result FROM history WHERE scheme=? AND product_code=? "
            "AND serial=? AND client_id=? AND client_trx_id=? ORDER BY id DESC LIMIT 1",
            (*key, client_id, trx_id)).fetchone()

    def history(self, key: tuple[str, str, str]) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT operation, requested_state AS requestedState, client_id AS client, location_id AS location, "
            "client_trx_id AS clientTrxId, ref_client_trx_id AS refClientTrxId, entry_mode AS entryMode, at, "
            "recorded_at AS recordedAt, result, nmvs_trx_id AS nmvsTrxId, alert_id AS alertId, intermarket, "
            "bulk_id AS bulkId FROM history "
            "WHERE scheme=? AND product_code=? AND serial=? ORDER BY id", key)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def add_alert(self, row: tuple) -> None:
        self.db.execute(
            "INSERT INTO alerts (alert_id, alert_code, operation_code, scheme, product_code, serial, batch, expiry, "
            "client_id, location_id, at, nmvs_trx_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def alerts(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT alert_id AS alertId, alert_code AS alertCode, operation_code AS operationCode, scheme, "
            "product_code AS productCode, serial, batch, expiry, client_id AS client, location_id AS location, at, "
            "nmvs_trx_id AS nmvsTrxId FROM alerts ORDER BY at, alert_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- bulk ---------------------------------------------------------------------------------
    def add_bulk(self, bulk_id: str, client_id: str, kind: str, request: Any, at: float) -> None:
        """Store a bulk's ``request``: a JSON text as it is, anything else encoded."""
        self.db.execute(
            "INSERT INTO bulk_jobs (bulk_id, client_id, kind, request, status, created_at) VALUES (?,?,?,?,?,?)",
            (bulk_id, client_id, kind, _json_text(request), "pending", at))

    def finish_bulk(self, bulk_id: str, results: Any) -> None:
        """Store a bulk's ``results``: a JSON text as it is, a list encoded."""
        self.db.execute("UPDATE bulk_jobs SET status='done', results=?, request='null' WHERE bulk_id=?",
                        (_json_text(results), bulk_id))

    def bulk_results(self, bulk_id: str) -> tuple[str, str, str | None] | None:
        """(client_id, status, the results' JSON text) or None: the results are not decoded."""
        return self.db.execute("SELECT client_id, status, results FROM bulk_jobs WHERE bulk_id=?",
                               (bulk_id,)).fetchone()

    def bulk(self, bulk_id: str) -> tuple | None:
        """(client_id, kind, status, request, results) or None."""
        row = self.db.execute("SELECT client_id, kind, status, request, results FROM bulk_jobs WHERE bulk_id=?",
                              (bulk_id,)).fetchone()
        if row is None:
            return None
        return row[0], row[1], row[2], json.loads(row[3]), None if row[4] is None else json.loads(row[4])

    def pending_bulks(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT bulk_id FROM bulk_jobs WHERE status='pending' ORDER BY created_at, bulk_id")]
