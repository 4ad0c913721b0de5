"""Backups, restores and retention (OFFLINE-QUEUE.md section 2.3): ``fmd-terminal backup`` and ``prune``."""

import argparse
import json
import os
import sqlite3

import pytest
from outbox_fakes import pack

from fmd_core.timekeeping import DAY_NS, SECOND_NS
from fmd_terminal.commands import backup as backup_command
from fmd_terminal.errors import ConfigError
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.backup import BackupError, backup_outbox, terminal_has_open
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import PruneRefused, open_sqlite_outbox


def command(*argv):
    parser = argparse.ArgumentParser()
    backup_command.add_arguments(parser)
    return backup_command.execute(parser.parse_args(list(argv)))


def rec(box, kind, n):
    result = box.record(OpRequest(kind, pack(n), f"raw{n}", "ph", "deferred"))
    assert result.op is not None, result.refusal
    return result.op.seq


def settle(box, seq, state="done"):
    """A settled op as the worker would leave it (the transitions are tested elsewhere)."""
    attempt = box.claim(seq)
    with box.transaction() as db:
        db.execute("UPDATE attempt SET outcome = 'success' WHERE id = ?", (attempt,))
        db.execute("UPDATE op SET state = ?, svc_time_ns = ? WHERE seq = ?", (state, box.clock().wall_ns, seq))
        box._refresh_view(db.execute("SELECT pack_key FROM op WHERE seq = ?", (seq,))[0]["pack_key"])


def states(path):
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT seq, state FROM op"))
    finally:
        db.close()


def test_backup_command_beside_a_running_terminal_changes_none_of_its_ops(tmp_path, capsys):
    clock = FakeClock()
    path = str(tmp_path / "o.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)  # the running terminal
    done = rec(box, "dispense", 1)
    settle(box, done)
    flying = rec(box, "dispense", 2)
    box.claim(flying)  # in flight: a command that ran the start-up transitions would make it uncertain
    queued = rec(box, "verify", 3)
    to = str(tmp_path / "b.db")
    assert command("--outbox", f"sqlite://{path}", "--to", to) == 0
    printed = json.loads(capsys.readouterr().out)["backup"]
    assert box.op(flying)["state"] == "in_flight"  # attached, not started: the terminal's op is untouched
    assert states(to) == {done: "done", flying: "in_flight", queued: "queued"}
    assert (printed["ops"], printed["held_upto_seq"], printed["open_seqs"]) == (3, queued, [flying, queued])
    assert json.loads(box.read_meta("last_backup"))["to"] == os.path.abspath(to)
    assert not [name for name in os.listdir(tmp_path) if ".tmp-" in name]
    rec(box, "verify", 4)  # the terminal keeps recording after the backup
    assert command("--outbox", f"sqlite://{path}", "--to", to) == 0  # an existing backup is replaced
    assert len(states(to)) == 4
    box.close()


def test_backup_refuses_the_outbox_itself_and_a_missing_directory(tmp_path):
    box = open_sqlite_outbox(str(tmp_path / "o.db"), FakeClock(), reserve_bytes=0)
    with pytest.raises(BackupError):
        backup_outbox(box, str(tmp_path / "o.db"))
    with pytest.raises(BackupError):
        backup_outbox(box, str(tmp_path / "missing" / "b.db"))
    assert box.read_meta("last_backup") is None
    box.close()
    with pytest.raises(ConfigError):
        command("--outbox", "memory://", "--to", str(tmp_path / "b.db"))


def test_restore_makes_queued_and_in_flight_state_changes_uncertain_at_the_next_start(tmp_path, capsys):
    clock = FakeClock()
    path = str(tmp_path / "o.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    done = rec(box, "dispense", 1)
    settle(box, done)
    flying = rec(box, "dispense", 2)
    box.claim(flying)
    queued = rec(box, "dispense", 3)
    verify = rec(box, "verify", 4)
    to = str(tmp_path / "b.db")
    backup_outbox(box, to)
    settle(box, queued)  # sent after the backup: the backup does not know
    after = rec(box, "verify", 5)  # recorded after the backup: lost by the restore, kept in the replaced file
    with pytest.raises(BackupError, match="terminal has the outbox open"):
        command("--outbox", f"sqlite://{path}", "--restore", to, "--force", "--lang", "en")
    box.close()
    with pytest.raises(BackupError, match="--force"):
        command("--outbox", f"sqlite://{path}", "--restore", to, "--lang", "en")
    assert states(path)[queued] == "done"  # refused: nothing replaced
    assert command("--outbox", f"sqlite://{path}", "--restore", to, "--force") == 0
    replaced = json.loads(capsys.readouterr().out)["restored"]["replaced"]
    assert states(replaced)[queued] == "done"  # the replaced outbox is kept aside, not deleted
    assert not os.path.exists(path + "-wal")  # no WAL of the old database next to the restored one
    clock.reboot("boot2", synced=True)
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    assert box.op(done)["state"] == "done"
    assert box.op(flying)["state"] == "uncertain"  # transition #10
    assert box.op(queued)["state"] == "uncertain"  # 10: it may have been sent after the backup
    assert box.op(verify)["state"] == "queued"  # a verify is read-only: simply resent
    mark = box.read_meta("restored_from_backup")
    assert mark.startswith("applied ") and os.path.abspath(to) in mark
    box.close()
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)  # applied once: a later start changes nothing
    assert rec(box, "dispense", 9) == after + 1  # seq never reused, not even those recorded after the backup
    box.close()
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    assert box.ops("op.state = 'queued' AND op.kind = 'dispense'")
    box.close()


def test_restore_into_an_empty_place_needs_no_force(tmp_path):
    box = open_sqlite_outbox(str(tmp_path / "o.db"), FakeClock(), reserve_bytes=0)
    rec(box, "dispense", 1)
    backup_outbox(box, str(tmp_path / "b.db"))
    box.close()
    fresh = str(tmp_path / "new.db")
    assert not terminal_has_open(fresh)
    assert command("--outbox", f"sqlite://{fresh}", "--restore", str(tmp_path / "b.db")) == 0
    assert list(states(fresh).values()) == ["queued"]  # #10 waits for the next start
    empty = open_sqlite_outbox(str(tmp_path / "e.db"), FakeClock(), reserve_bytes=0)
    backup_outbox(empty, str(tmp_path / "eb.db"))
    empty.close()
    assert command("--outbox", f"sqlite://{fresh}", "--restore", str(tmp_path / "eb.db"), "--force") == 0
    box = open_sqlite_outbox(fresh, FakeClock(), reserve_bytes=0)
    assert rec(box, "verify", 2) == 2  # an empty backup still continues the replaced outbox's seq
    box.close()
    assert command("--outbox", f"sqlite://{fresh}", "--restore", str(tmp_path / "eb.db"), "--force") == 0
    assert len([name for name in os.listdir(tmp_path) if ".replaced-" in name]) == 2  # each kept aside
    with pytest.raises(BackupError):
        command("--outbox", f"sqlite://{fresh}", "--restore", str(tmp_path / "nothing.db"))


def aged_outbox(tmp_path):
    """Ops scanned 38 days ago, some final, some not; an undo 29 days ago; a backup; a newer op."""
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    ops = {}
    ops["verify"] = rec(box, "verify", 1)
    settle(box, ops["verify"])
    ops["dispense"] = rec(box, "dispense", 2)
    settle(box, ops["dispense"])
    ops["undone"] = rec(box, "dispense", 3)
    settle(box, ops["undone"])
    ops["open_pack_done"] = rec(box, "verify", 4)
    settle(box, ops["open_pack_done"])
    ops["open"] = rec(box, "dispense", 4)  # pack 4 still has an op that is not final
    ops["cancelled"] = rec(box, "verify", 5)
    settle(box, ops["cancelled"], "cancelled")
    clock.advance(9 * DAY_NS / SECOND_NS)
    ops["undo"] = rec(box, "undo_dispense", 3)  # references the dispense of pack 3
    settle(box, ops["undo"])
    clock.advance(29 * DAY_NS / SECOND_NS)  # the ops of day 0 are 38 days old, the undo 29
    backup_outbox(box, str(tmp_path / "b.db"))
    ops["after_backup"] = rec(box, "verify", 6)
    clock.advance(DAY_NS / 2 / SECOND_NS)
    settle(box, ops["after_backup"])
    return box, clock, ops


def test_prune_deletes_only_old_final_ops_a_backup_holds(tmp_path):
    box, clock, ops = aged_outbox(tmp_path)
    deleted = box.prune(30)
    left = {r["seq"] for r in box.ops()}
    gone = {ops["verify"], ops["dispense"], ops["cancelled"]}
    assert left == set(ops.values()) - gone
    assert deleted == {"ops": 3, "attempts": 3, "transactions": 1}
    assert not box.storage.execute("SELECT 1 FROM attempt WHERE seq IN (?, ?, ?)", tuple(gone))
    # kept: not final; in a pack with an op not final; a dispense its (recent) undo references;
    # the undo itself (29 days old); an op the backup does not hold final
    assert box.view(pack(2).pack_key) is None  # no op left for the pack, no stale view
    assert box.view(pack(3).pack_key).last_seq == ops["undo"]
    assert "pruned 3 ops" in box.read_meta("prune_log")
    assert box.prune(30)["ops"] == 0  # nothing more to do
    clock.advance(2 * DAY_NS / SECOND_NS)  # the undo is 31 days old: it goes, and its dispense with it
    assert box.prune(30)["ops"] == 2
    assert {r["seq"] for r in box.ops()} == {ops["open_pack_done"], ops["open"], ops["after_backup"]}
    seq = rec(box, "verify", 7)
    assert seq > max(ops.values())  # seq never reused (AUTOINCREMENT)
    assert next(iter(box.storage.execute("PRAGMA integrity_check")[0].values())) == "ok"
    box.close()


def test_prune_never_runs_without_a_backup_or_with_a_stale_clock(tmp_path):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    seq = rec(box, "verify", 1)
    settle(box, seq)
    clock.advance(400 * DAY_NS / SECOND_NS)
    with pytest.raises(PruneRefused, match="no backup"):
        box.prune(30)
    backup_outbox(box, str(tmp_path / "b.db"))
    clock.synced = False
    clock.step_wall(-500 * DAY_NS / SECOND_NS)  # behind the latest trusted time: stale
    with pytest.raises(PruneRefused, match="stale"):
        box.prune(30)
    assert len(box.ops()) == 1
    box.close()


def test_prune_command_after_a_backup_in_transactions_of_at_most_1000_rows(tmp_path, capsys):
    clock = FakeClock(wall_ns=1_700_000_000 * SECOND_NS)  # long ago: the command reads the system clock
    path = str(tmp_path / "o.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    seq = rec(box, "verify", 1)
    settle(box, seq)
    with box.transaction() as db:  # 1,200 more final ops with one attempt each: 2,402 rows to delete
        db.execute("INSERT INTO op (op_id, client_trx_id, kind, pack_key, scheme, product_code, serial, origin, "
                   "state, wall_ns, boot_id, boottime_ns, wall_quality) "
                   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                   "SELECT hex(randomblob(16)), hex(randomblob(16)), 'verify', 'K' || i, 'GTIN', 'P', 'S' || i, "
                   "'deferred', 'done', ?, 'boot1', 1, 'synced' FROM n", (clock.wall_ns,))
        db.execute("INSERT INTO attempt (seq, n, action, outcome) SELECT seq, 1, 'send', 'success' FROM op "
                   "WHERE seq > ?", (seq,))
    box.close()
    assert command("--outbox", f"sqlite://{path}", "--to", str(tmp_path / "b.db"), "--prune-older-than", "30") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[1]["pruned"] == {"ops": 1201, "attempts": 1201, "transactions": 3}  # 500 + 500 + 201 ops
    log_lines = open_sqlite_outbox(path, clock, reserve_bytes=0).read_meta("prune_log").splitlines()
    assert len(log_lines) == 3 and all(int(line.split()[2]) * 2 <= 1000 for line in log_lines)
    assert len(states(str(tmp_path / "b.db"))) == 1201  # the backup holds every op pruned
    with pytest.raises(ConfigError):
        command("--outbox", f"sqlite://{path}")
