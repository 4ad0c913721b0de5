"""The scan path of the outbox (OFFLINE-QUEUE.md section 5): record, local refusals, storage settings."""

import sqlite3

import pytest
from outbox_fakes import pack

from fmd_core import op_states
from fmd_core.service import ServiceAnswer
from fmd_terminal.errors import StorageError
from fmd_terminal.outbox import OpRequest, StorageFullError
from fmd_terminal.outbox.factory import open_outbox
from fmd_terminal.outbox.sqlite import open_sqlite_outbox


def record(box, kind, n=1, origin="live"):
    return box.record(OpRequest(kind, pack(n), f"raw{n}", "ph1", origin))


def test_record_commits_a_queued_op(outbox):
    result = record(outbox, "dispense")
    assert result.refusal is None
    op = result.op
    assert (op.seq, op.kind, op.state, op.client_trx_id) == (1, "dispense", "queued", op.op_id)
    assert len(op.op_id) == 32 and int(op.op_id, 16) >= 0
    row = outbox.op(op.seq)
    assert (row["origin"], row["wall_quality"], row["time_quality"], row["user_id"]) == ("live", "synced", "exact", "ph1")
    assert outbox.pending_count() == 1


def test_second_dispense_is_refused_and_not_recorded(outbox):
    """Issue 11, item 4: while the first dispense awaits its answer, a second one is "awaiting answer"
    with its age, never "already dispensed here"; only the service's answer makes it that."""
    first = record(outbox, "dispense").op
    second = record(outbox, "dispense")
    assert second.op is None and second.refusal.reason == "dispense_pending"
    assert second.refusal.seq == first.seq and second.refusal.age_ns is not None and second.refusal.age_ns >= 0
    assert [o.seq for o in outbox.recent(10)] == [first.seq]
    attempt = outbox.claim(first.seq)
    answer = ServiceAnswer(transport="answered", http_status=200, operation_code="NMVS_SUCCESS", state="Supplied")
    outbox.settle_send(first.seq, attempt, answer, "success",
                       lambda row: op_states.after_send("dispense", row["origin"], "success", "SUCCESS", False))
    third = record(outbox, "dispense")
    assert third.op is None and third.refusal.reason == "already_dispensed_here" and third.refusal.age_ns is None


def test_undo_refers_to_its_dispense_and_allows_a_new_dispense(outbox):
    assert record(outbox, "undo_dispense").refusal.reason == "no_dispense_here"
    dispense = record(outbox, "dispense").op
    undo = record(outbox, "undo_dispense").op
    assert undo.ref_client_trx_id == dispense.client_trx_id
    assert outbox.op(undo.seq)["ref_seq"] == dispense.seq
    again = record(outbox, "dispense")
    assert again.refusal is None  # dispense, undo, dispense replay in order


def test_verifies_are_always_recorded(outbox):
    record(outbox, "dispense")
    assert record(outbox, "verify").op is not None
    assert record(outbox, "verify").op is not None


def test_seq_rises_without_gaps_and_recent_is_newest_first(outbox):
    seqs = [record(outbox, "dispense", n).op.seq for n in range(1, 8)]
    assert seqs == list(range(1, 8))
    assert [o.seq for o in outbox.recent(5)] == [7, 6, 5, 4, 3]
    assert outbox.recent(5)[0].pack.serial == "SER000007"


def test_blocked_pack_refuses_state_changes(outbox):
    op = record(outbox, "dispense").op
    with outbox.transaction() as db:
        db.execute("UPDATE op SET state = 'needs_attention' WHERE seq = ?", (op.seq,))
        outbox._refresh_view(op.pack.pack_key)
    assert record(outbox, "undo_dispense").refusal.reason == "pack_blocked"
    assert record(outbox, "verify").op is not None
    assert outbox.attention_count() == 1


def test_storage_settings_are_read_back(tmp_path, clock):
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    rows = box.storage.execute("PRAGMA journal_mode")
    assert next(iter(rows[0].values())) == "wal"
    assert next(iter(box.storage.execute("PRAGMA synchronous")[0].values())) == 2
    box.close()


def test_a_storage_that_does_not_keep_full_sync_refuses_to_start(tmp_path, clock):
    from fmd_terminal.outbox.sqlite import SQLiteOutbox
    from fmd_terminal.outbox.storage import Sqlite3Storage

    class NormalOnly(Sqlite3Storage):  # a wrapper that silently keeps synchronous=NORMAL
        def execute(self, sql, params=()):
            if sql.strip().upper().startswith("PRAGMA SYNCHRONOUS ="):
                sql = "PRAGMA synchronous = NORMAL"
            return super().execute(sql, params)

    with pytest.raises(StorageError, match="record packs by hand"):
        SQLiteOutbox(NormalOnly(str(tmp_path / "n.db")), clock)


def test_reserve_refuses_new_scans_and_keeps_old_rows(tmp_path, clock):
    free = {"bytes": 10**9}
    from fmd_terminal.outbox.sqlite import SQLiteOutbox
    from fmd_terminal.outbox.storage import Sqlite3Storage

    box = SQLiteOutbox(Sqlite3Storage(str(tmp_path / "r.db")), clock, free_bytes=lambda: free["bytes"])
    first = record(box, "dispense", 1).op
    free["bytes"] = 31 * 1024 * 1024
    with pytest.raises(StorageFullError, match="reserve"):
        record(box, "dispense", 2)
    # the reserve keeps room for outcomes: the worker still settles the recorded op
    import random

    from outbox_fakes import ModelService, drain

    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

    drain(SyncWorker(box, ModelService([pack(1)]), clock, SyncSettings(start_jitter_s=0), random.Random(1)), clock)
    assert box.op(first.seq)["state"] == "done"
    free["bytes"] = 33 * 1024 * 1024
    assert record(box, "dispense", 2).op.seq == first.seq + 1  # scanning resumes once space returns
    assert [o.seq for o in box.recent(9)] == [2, 1]
    box.close()


def test_max_page_count_full_is_not_recorded_and_leaves_no_partial_row(tmp_path, clock):
    box = open_sqlite_outbox(str(tmp_path / "f.db"), clock, reserve_bytes=0)
    for n in range(1, 4):
        record(box, "dispense", n)
    pages = next(iter(box.storage.execute("PRAGMA page_count")[0].values()))
    box.storage.execute(f"PRAGMA max_page_count = {pages}")
    refused = 0
    for n in range(4, 400):
        try:
            record(box, "dispense", n)
        except StorageFullError:
            refused += 1
            break
    assert refused == 1
    seqs = [o.seq for o in box.recent(1000)]
    assert seqs == list(range(len(seqs), 0, -1))  # no gap, no partial row
    assert next(iter(box.storage.execute("PRAGMA integrity_check")[0].values())) == "ok"
    box.storage.execute(f"PRAGMA max_page_count = {pages + 100}")
    assert record(box, "dispense", 999).op.seq == len(seqs) + 1
    box.close()


def test_corrupt_database_is_kept_aside_and_a_fresh_one_opened(tmp_path, clock):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    box = open_sqlite_outbox(str(path), clock, reserve_bytes=0)
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    assert box.read_meta("alarm_storage").startswith("red:")
    assert record(box, "dispense").op.seq == 1
    box.close()


_OPEN_READ_ONLY = """
import os, sys
from fmd_core import op_states
from fmd_core.service import ServiceAnswer
from fmd_terminal.errors import StorageError
from fmd_terminal.outbox import texts  # noqa: F401 (the messages' table, imported while still root)
from fmd_terminal.outbox.clock import SystemClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
clock = SystemClock()
clock()  # loads libc and reads the boot id while still root
os.setgroups([])
os.setgid(65534)
os.setuid(65534)  # after the imports: the interpreter itself may live in root's home
try:
    open_sqlite_outbox(sys.argv[1], clock)
except StorageError as error:
    print(error)
    sys.exit(3)
"""


def test_read_only_data_directory_is_a_clear_storage_error(tmp_path, clock):
    """OFFLINE-QUEUE.md 2.3 / issue 5 "bad input": a read-only data directory is a clear error.

    Root ignores directory permissions, so under root (CI) the check runs in a child process that
    drops to the unprivileged user ``nobody`` once its imports are done, in a directory it may
    traverse but not write.
    """
    import os
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o500)
        try:
            with pytest.raises(StorageError, match="not writable"):
                open_sqlite_outbox(str(ro / "o.db"), clock)
        finally:
            os.chmod(ro, 0o700)
        return
    base = tempfile.mkdtemp(prefix="fmd-ro-", dir="/tmp")
    try:
        os.chmod(base, 0o555)  # root's, readable and traversable by nobody, not writable
        result = subprocess.run(
            [sys.executable, "-c", _OPEN_READ_ONLY, os.path.join(base, "o.db")],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 3, result.stderr
        assert "not writable" in result.stdout
        assert not os.path.exists(os.path.join(base, "o.db"))
    finally:
        os.chmod(base, 0o700)
        os.rmdir(base)


def test_factory_names_known_schemes(tmp_path, clock):
    from fmd_terminal.errors import UnknownSchemeError

    with pytest.raises(UnknownSchemeError, match="memory://, sqlite://"):
        open_outbox("redis://x")
    box = open_outbox(f"sqlite://{tmp_path}/u.db", clock=clock, reserve_bytes=0)
    assert record(box, "verify").op.seq == 1
    box.close()
    box = open_outbox(f"sqlite://{tmp_path}/u.db", clock=clock, reserve_bytes=0)
    assert box.pending_count() == 1  # durable across opens
    box.close()


def test_restart_turns_in_flight_changes_uncertain(tmp_path, clock):
    path = str(tmp_path / "k.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    d = record(box, "dispense", 1).op
    v = record(box, "verify", 2).op
    assert box.claim(d.seq) and box.claim(v.seq)
    box.close()  # as if killed during both sends
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    assert box.op(d.seq)["state"] == "uncertain"  # 9
    assert box.op(v.seq)["state"] == "queued"  # 9, verify
    assert box.view(d.pack.pack_key).blocked_seq == d.seq
    box.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_restore_makes_queued_changes_uncertain(tmp_path, clock):
    path = str(tmp_path / "r.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    d = record(box, "dispense", 1).op
    box.close()
    box = open_sqlite_outbox(path, clock, reserve_bytes=0, restored=True)
    assert box.op(d.seq)["state"] == "uncertain"  # 10
    box.close()


def test_upkeep_checkpoints_and_checks_integrity(tmp_path, clock):
    box = open_sqlite_outbox(str(tmp_path / "m.db"), clock, reserve_bytes=0)
    record(box, "dispense")
    assert box.maintain(clock(), idle_ns=0) == ["checkpoint_truncate", "integrity_check"]  # first: the daily one
    assert box.read_meta("last_integrity_check").endswith(" ok")
    assert box.maintain(clock(), idle_ns=0) == []
    clock.advance(31)
    assert box.maintain(clock(), idle_ns=31 * 10**9) == ["checkpoint_passive"]
    clock.advance(86_400)
    assert "integrity_check" in box.maintain(clock(), idle_ns=0)
    box.close()


def test_worker_status_raises_backlog_alarms(outbox, clock):
    import random

    from outbox_fakes import ModelService

    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

    worker = SyncWorker(outbox, ModelService(), clock, SyncSettings(start_jitter_s=0), random.Random(1))
    assert worker.status()["level"] is None
    record(outbox, "dispense", 1, origin="deferred")
    clock.advance(16 * 60)
    status = worker.status()
    assert (status["level"], status["pending"]) == ("amber", 1) and status["text"] == "1 waiting"
    clock.advance(4 * 3600)
    assert worker.status()["level"] == "red"
    clock.reboot("boot2", wall_ns=clock.wall_ns, synced=True)  # across boots: corrected wall time
    assert worker.status()["level"] == "red"


def test_damaged_database_is_salvaged_into_the_fresh_one(tmp_path, clock):
    import os

    path = str(tmp_path / "s.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    ops = [box.record(OpRequest("dispense", pack(n), "raw" * 30, "ph", "deferred")).op for n in range(1, 301)]
    box.claim(ops[0].seq)
    box.storage.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    box.close()
    pages = os.path.getsize(path) // 4096
    with open(path, "r+b") as f:  # a damaged page in the middle of the op table
        f.seek(4096 * (pages - 3) + 100)  # near the end: the last ops are among the lost
        f.write(b"\xff" * 2000)
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    alarm = box.read_meta("alarm_storage")
    assert alarm.startswith("red:") and "salvaged" in alarm
    rows = box.ops()
    by_seq = {r["seq"]: r for r in rows}
    assert 200 <= len(rows) < 300  # most ops survive; the damaged page's rows are lost from this copy
    for op in ops:
        if op.seq in by_seq:
            assert by_seq[op.seq]["op_id"] == op.op_id  # salvaged rows are unchanged (I1)
    assert {r["state"] for r in rows} == {"uncertain"}  # 10: they may have been sent after the last state
    assert next(iter(box.storage.execute("PRAGMA integrity_check")[0].values())) == "ok"
    assert box.record(OpRequest("dispense", pack(999), "raw")).op.seq == 301  # seq is never reused
    assert [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]  # the damaged file is kept
    box.close()
