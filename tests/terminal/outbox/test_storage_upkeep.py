"""Storage alarms (OFFLINE-QUEUE.md 2.3, 6.4) and time correction in small batches (section 7)."""

import random

from outbox_fakes import ModelService, pack

from fmd_core.timekeeping import SECOND_NS
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import SQLiteOutbox, open_sqlite_outbox
from fmd_terminal.outbox.storage import Sqlite3Storage
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

MIB = 1024 * 1024


def test_space_alarm_when_free_space_holds_under_30_days_of_ops(tmp_path):
    clock = FakeClock()
    free = [10_000 * MIB]
    box = SQLiteOutbox(Sqlite3Storage(str(tmp_path / "o.db")), clock, free_bytes=lambda: free[0])
    box.record(OpRequest("verify", pack(1), "raw", "ph"))
    worker = SyncWorker(box, ModelService(), clock, SyncSettings(start_jitter_s=0), random.Random(1))
    assert box.check_storage(clock()) == {}
    assert worker.status()["storage_alarms"] == {}
    free[0] = 32 * MIB + 2048 * 2000 * 29  # 29 days at 2,000 ops a day and the 2 KB budget, above the reserve
    raised = box.check_storage(clock())
    assert list(raised) == ["alarm_space"] and raised["alarm_space"].startswith("amber: ")
    assert worker.status()["storage_alarms"] == raised  # what the screen reads
    assert box.alarms == [raised["alarm_space"]]
    box.check_storage(clock())
    assert len(box.alarms) == 1  # raised once, not at every check
    free[0] = 32 * MIB + 2048 * 2000 * 31
    assert box.check_storage(clock()) == {}
    assert box.read_meta("alarm_space") is None  # cleared
    box.close()


def test_maintain_checks_the_storage_every_10_minutes(tmp_path):
    clock = FakeClock()
    free = [MIB]
    box = SQLiteOutbox(Sqlite3Storage(str(tmp_path / "o.db")), clock, free_bytes=lambda: free[0], reserve_bytes=0)
    assert "alarm_space" in box.maintain(clock(), idle_ns=0)
    free[0] = 10_000 * MIB
    clock.advance(60)
    box.maintain(clock(), idle_ns=0)
    assert box.read_meta("alarm_space") is not None  # not checked again yet
    clock.advance(600)
    box.maintain(clock(), idle_ns=0)
    assert box.read_meta("alarm_space") is None
    box.close()


def test_wal_alarm_while_the_wal_is_over_64_mib(tmp_path):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    with box.transaction() as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('pad', zeroblob(?))", (65 * MIB,))
    raised = box.check_storage(clock())
    assert raised["alarm_wal"].startswith("admin: WAL is 6")
    assert box.storage_alarms()["alarm_wal"] == raised["alarm_wal"]
    with box.transaction() as db:
        db.execute("DELETE FROM meta WHERE key = 'pad'")
    box.storage.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert "alarm_wal" not in box.check_storage(clock())
    box.close()


class StatementLog:
    """The outbox's storage, recording each transaction's statements (to count what one transaction does)."""

    def __init__(self, storage):
        self.storage = storage
        self.where = storage.where
        self.transactions = []

    def execute(self, sql, params=()):
        if sql == "BEGIN IMMEDIATE":
            self.transactions.append([])
        elif self.transactions:
            self.transactions[-1].append(sql)
        return self.storage.execute(sql, params)

    def close(self):
        self.storage.close()

    def corrections(self):
        return [sum(s.startswith("UPDATE op SET wall_corrected_ns") for s in t) for t in self.transactions]


def unsynced_ops(box, clock, n):
    """``n`` ops scanned with an unsynchronised clock in this boot (inserted directly: fast)."""
    with box.transaction() as db:
        db.execute("INSERT INTO op (op_id, client_trx_id, kind, pack_key, scheme, product_code, serial, origin, "
                   "state, wall_ns, boot_id, boottime_ns, wall_quality) "
                   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                   "SELECT hex(randomblob(16)), hex(randomblob(16)), 'verify', 'K' || i, 'GTIN', 'P', 'S' || i, "
                   "'deferred', 'done', ?, ?, ?, 'plausible' FROM n", (n, clock.wall_ns, clock.boot_id, clock.boottime))


def test_time_correction_runs_in_transactions_of_at_most_500_events(tmp_path):
    clock = FakeClock(synced=False)
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    unsynced_ops(box, clock, 1200)
    box.storage = spy = StatementLog(box.storage)
    clock.advance(30)
    clock.step_wall(-3600)  # NTP steps the clock back an hour, and it is synchronised
    clock.synced = True
    box.note_clock(clock())
    assert [n for n in spy.corrections() if n] == [500, 500, 200]  # three transactions, none holding all
    rows = box.ops()
    assert {r["time_quality"] for r in rows} == {"corrected"}
    assert {r["wall_corrected_ns"] for r in rows} == {clock.wall_ns - 30 * SECOND_NS}
    box.close()


def test_a_scan_commit_never_waits_for_the_correction_its_anchor_starts(tmp_path):
    clock = FakeClock(synced=False)
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    worker = SyncWorker(box, ModelService([pack(1)]), clock, SyncSettings(start_jitter_s=0), random.Random(1))
    unsynced_ops(box, clock, 1100)
    box.storage = spy = StatementLog(box.storage)
    clock.synced = True  # the scan is the first reading with a synchronised clock: it writes the anchor
    box.record(OpRequest("verify", pack(1), "raw", "ph", "deferred"))
    assert spy.corrections() == [0]  # the scan's transaction corrected nothing
    assert box.ops("op.time_quality = 'corrected'") == []
    for _ in range(3):
        assert worker.step() == 0.0  # the worker corrects, one batch per step
    assert [n for n in spy.corrections() if n] == [500, 500, 100]
    assert len(box.ops("op.time_quality = 'corrected'")) == 1100
    box.close()


def test_reads_on_sqlite_never_wait_behind_the_writer_and_see_only_commits(tmp_path):
    import threading

    box = open_sqlite_outbox(str(tmp_path / "o.db"), FakeClock(), reserve_bytes=0)
    seq = box.record(OpRequest("dispense", pack(1), "raw", "ph", "deferred")).op.seq
    assert box.pending_count() == 1  # a commit is visible to the read connection at once
    inside, release = threading.Event(), threading.Event()

    def writer():
        with box.transaction() as db:  # the writer's lock held, with an uncommitted change
            db.execute("UPDATE op SET state = 'cancelled' WHERE seq = ?", (seq,))
            assert box.op(seq)["state"] == "cancelled"  # its own thread sees its own write
            inside.set()
            release.wait(10)
            db.execute("UPDATE op SET state = 'queued' WHERE seq = ?", (seq,))

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    seen = {}
    reader = threading.Thread(target=lambda: seen.update(state=box.op(seq)["state"], pending=box.pending_count(),
                                                         view=box.view(pack(1).pack_key).dispense_seq))
    reader.start()
    reader.join(10)
    finished = not reader.is_alive()
    release.set()
    thread.join(10)
    assert finished  # the reads did not wait for the writer's transaction
    assert seen == {"state": "queued", "pending": 1, "view": seq}  # nothing uncommitted
    box.close()
