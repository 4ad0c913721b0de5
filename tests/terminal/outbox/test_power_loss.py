"""Power loss (OFFLINE-QUEUE.md section 9, T3): crash images from a write-recording VFS.

The outbox (scan inserts and sync bookkeeping, with checkpoints) runs on APSW over a VFS that logs
every write, truncate, sync and delete. Crash images are built at random points of that log from
the last synced state plus a choice of later writes (prefix, random subset, garbage). Each image is
opened with the production backend (stdlib sqlite3, start-up recovery included) and checked: I1
(every acknowledged op exists, unchanged), I2 (seq without gaps, op_id unique), I6 (integrity_check).

Canary: the same run under ``synchronous=NORMAL`` (a wrapper that silently downgrades it and lies
on read-back) must lose at least one acknowledged commit in its images, or the test fails: that
proves the harness can see the loss FULL prevents.
"""

import os
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "harness"))
from outbox_fakes import ModelService, pack  # noqa: E402
from power_loss import ApswStorage, DiskModel, RecordingVFS  # noqa: E402

from fmd_terminal.errors import StorageError  # noqa: E402
from fmd_terminal.outbox import OpRequest  # noqa: E402
from fmd_terminal.outbox.clock import FakeClock  # noqa: E402
from fmd_terminal.outbox.sqlite import SQLiteOutbox, open_sqlite_outbox  # noqa: E402
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker  # noqa: E402

SEED = int(os.environ.get("FMD_POWER_SEED", "4242"))
IMAGES_PER_MODE = int(os.environ.get("FMD_POWER_IMAGES", "300"))
MODES = ("prefix", "subset", "garbage")


class DowngradedStorage(ApswStorage):
    """What some wrappers do: keep ``synchronous=NORMAL`` and report FULL. Only for the canary."""

    def execute(self, sql, params=()):
        text = sql.strip().upper()
        if text.startswith("PRAGMA SYNCHRONOUS ="):
            sql = "PRAGMA synchronous = NORMAL"
        elif text == "PRAGMA SYNCHRONOUS":
            return [{"synchronous": 2}]
        return super().execute(sql, params)


def scratch_dir():
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix="fmd-power-", dir=base)


def run_workload(directory, vfs_name, storage_class, rng):
    """Scans and sync bookkeeping on the recording VFS. Returns (log, acks, db path)."""
    vfs = RecordingVFS(vfs_name)
    try:
        path = os.path.join(directory, "outbox.db")
        clock = FakeClock()
        box = SQLiteOutbox(storage_class(path, vfs_name), clock)
        box.storage.execute("PRAGMA wal_autocheckpoint = 40")  # checkpoints inside the recorded run
        service = ModelService([pack(n) for n in range(1, 200)])
        worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0, rate=0), random.Random(1))
        acks = []
        for n in range(1, 121):
            kind = "verify" if n % 4 == 0 else "dispense"
            op = box.record(OpRequest(kind, pack(n), f"raw{n}", "ph", "deferred")).op
            acks.append((len(vfs.log), op.seq, op.op_id, op.kind, op.pack.pack_key))
            if n % 3 == 0:
                for _ in range(rng.randint(0, 3)):
                    clock.advance(worker.step())
        box.close()
        return list(vfs.log), acks, path
    finally:
        vfs.unregister()


def check_image(files, original_path, image_dir, acks, k):
    """Write the image, open it with the production backend, return the acknowledged seqs lost."""
    for name in os.listdir(image_dir):
        os.unlink(os.path.join(image_dir, name))
    target = os.path.join(image_dir, "outbox.db")
    for path, content in files.items():
        suffix = path[len(original_path):]
        if suffix in ("", "-wal", "-journal"):
            Path(target + suffix).write_bytes(content)
    expected = [a for a in acks if a[0] <= k]
    try:
        box = open_sqlite_outbox(target, FakeClock(), reserve_bytes=0, set_aside_corrupt=False)
    except StorageError:
        if not expected:
            return []  # the crash came before the first commit: no database yet is acceptable
        raise
    box.close()
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"I6 at log entry {k}"
        rows = con.execute("SELECT seq, op_id, kind, pack_key FROM op ORDER BY seq").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), f"I2 at log entry {k}"
    assert len({r[1] for r in rows}) == len(rows)
    found = {r[0]: r[1:] for r in rows}
    lost = []
    for _pos, seq, op_id, kind, key in expected:
        if seq not in found:
            lost.append(seq)
        else:
            assert found[seq] == (op_id, kind, key), f"I1: op {seq} changed at log entry {k}"
    return lost


def images(log, acks, path, rng, image_dir, modes, count):
    model = DiskModel(log)
    syncs = [i + 1 for i, entry in enumerate(log) if entry[0] == "sync"]
    checked = 0
    losses = 0
    for mode in modes:
        for _ in range(count):
            # crash points: anywhere, and just before or after a sync (where the ordering matters)
            k = rng.randint(0, len(log)) if rng.random() < 0.6 else max(0, rng.choice(syncs) - rng.randint(0, 1))
            lost = check_image(model.image(k, mode, rng), path, image_dir, acks, k)
            losses += bool(lost)
            checked += 1
    return checked, losses


def test_power_loss_images_keep_every_acknowledged_commit():
    rng = random.Random(SEED)
    print(f"power-loss seed {SEED}")
    with scratch_dir() as run_dir, scratch_dir() as image_dir:
        log, acks, path = run_workload(run_dir, f"rec-full-{os.getpid()}", ApswStorage, rng)
        assert any(e[0] == "write" and e[1] == path for e in log), "checkpoints wrote the database file"
        checked, losses = images(log, acks, path, rng, image_dir, MODES, IMAGES_PER_MODE)
    print(f"{checked} crash images under FULL, {losses} with a lost acknowledged commit")
    assert checked == len(MODES) * IMAGES_PER_MODE
    assert losses == 0, "I1: an acknowledged commit was lost under synchronous=FULL"


def test_canary_normal_loses_acknowledged_commits():
    rng = random.Random(SEED + 1)
    with scratch_dir() as run_dir, scratch_dir() as image_dir:
        log, acks, path = run_workload(run_dir, f"rec-normal-{os.getpid()}", DowngradedStorage, rng)
        checked, losses = images(log, acks, path, rng, image_dir, ("prefix",), 100)
    print(f"canary: {checked} crash images under NORMAL, {losses} lost an acknowledged commit")
    assert losses >= 1, "the canary must fail: the harness cannot see a lost commit"


@pytest.mark.parametrize("mode", MODES)
def test_disk_model_modes(mode):
    log = [("write", "f", 0, b"aaaa"), ("sync", "f"), ("write", "f", 2, b"bb"), ("write", "f", 4, b"cc")]
    model = DiskModel(log)
    seen = {model.image(4, mode, random.Random(i))["f"] for i in range(40)}
    assert b"aaaa" in seen or mode == "garbage"
    assert all(image.startswith(b"aa") for image in seen)  # synced data is never lost
    if mode == "prefix":
        assert seen == {b"aaaa", b"aabb", b"aabbcc"}
