"""Disk full from a real file-size limit (OFFLINE-QUEUE.md section 9, T4; the in-process
``max_page_count`` and reserve cases are in test_outbox_record.py)."""

import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from outbox_fakes import ModelService

from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

CHILD = Path(__file__).parent / "harness" / "disk_full_child.py"


def test_rlimit_fsize_refuses_new_scans_keeps_old_ones_and_resumes(tmp_path):
    db = str(tmp_path / "full.db")
    run = subprocess.run([sys.executable, str(CHILD), db, str(192 * 1024), "400"], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    recorded = [int(line.split()[1]) for line in lines if line.startswith("recorded ")]
    refused = [line for line in lines if line.startswith("not recorded")]
    assert recorded and refused, lines[-5:]
    assert recorded == list(range(1, len(recorded) + 1))
    assert "full" in refused[0].lower() or "disk" in refused[0].lower() or "I/O" in refused[0]

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = [r[0] for r in con.execute("SELECT seq FROM op ORDER BY seq")]
    con.close()
    assert rows == recorded  # no partial row, nothing earlier lost

    # Space is back: scanning resumes, and the backlog's outcomes are written.
    clock = FakeClock()
    box = open_sqlite_outbox(db, clock, reserve_bytes=0)
    first = box.ops("op.seq = 1")[0]
    from fmd_core.service import PackRef

    new = box.record(OpRequest("dispense", PackRef("GTIN", "03400930000014", "AFTERFULL", "B1", "281231"), "raw"))
    assert new.op.seq == len(recorded) + 1
    service = ModelService()
    for row in box.ops():
        service.add(PackRef(row["scheme"], row["product_code"], row["serial"], row["batch"], row["expiry"]))
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0, rate=0), random.Random(3))
    while box.pending_count():
        clock.advance(worker.step())
    assert {r["state"] for r in box.ops()} == {"done"}
    assert box.op(1)["op_id"] == first["op_id"]
    box.close()


FIU_CHILD = Path(__file__).parent / "harness" / "fiu_child.py"


@pytest.mark.skipif(shutil.which("fiu-run") is None or shutil.which("fiu-ctrl") is None,
                    reason="fiu-run / fiu-ctrl (Debian fiu-utils) are not installed")
def test_enospc_on_writes_by_fault_injection(tmp_path):
    db = str(tmp_path / "fiu.db")
    ctrl = str(tmp_path / "fiu-ctrl")
    proc = subprocess.Popen(["fiu-run", "-x", "-f", ctrl, sys.executable, str(FIU_CHILD), db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ask(command):
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        lines = []
        for line in proc.stdout:
            if line.strip() == "done":
                return lines
            lines.append(line.strip())
        raise AssertionError(proc.stderr.read()[-2000:])

    def fiu(command):
        subprocess.run(["fiu-ctrl", "-f", ctrl, "-c", command, str(proc.pid)], check=True, timeout=30)

    try:
        assert proc.stdout.readline().startswith("ready")
        assert ask("record 3") == ["recorded 1", "recorded 2", "recorded 3"]
        fiu("enable name=posix/io/rw/pwrite,failinfo=28")  # ENOSPC on file writes (SQLite uses pwrite)
        refused = ask("record 2")
        assert all(line.startswith("not recorded") for line in refused) and len(refused) == 2, refused
        assert "full" in refused[0], refused  # SQLITE_FULL, translated once into StorageFullError
        fiu("disable name=posix/io/rw/pwrite")
        assert ask("record 1") == ["recorded 4"]  # scanning resumes once space returns; no gap, no partial row
        proc.stdin.write("quit\n")
        proc.stdin.close()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in con.execute("SELECT seq FROM op ORDER BY seq")] == [1, 2, 3, 4]
    con.close()
