"""Time without a real-time clock (OFFLINE-QUEUE.md section 7; section 9, T6), on an injected clock."""

import random
import shutil
import subprocess
import sys

import pytest
from outbox_fakes import ModelService, drain, pack

from fmd_core.timekeeping import DAY_NS, HOUR_NS, SECOND_NS
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock, kernel_clock_synced
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker


def rec(box, kind, n):
    result = box.record(OpRequest(kind, pack(n), f"raw{n}", "ph", "deferred"))
    return result.op if result.op is not None else result.refusal


def worker_for(box, clock, service, **settings):
    values = dict(start_jitter_s=0)
    values.update(settings)
    return SyncWorker(box, service, clock, SyncSettings(**values), random.Random(2))


def test_stale_clock_at_boot_records_but_sends_nothing_until_synchronised(tmp_path):
    clock = FakeClock()
    path = str(tmp_path / "o.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    rec(box, "dispense", 1)  # synchronised: anchors and raises clock_floor_ns
    box.close()
    clock.reboot("boot2", wall_ns=clock.wall_ns - 30 * DAY_NS, synced=False)  # restored from an old saved time
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    op = rec(box, "dispense", 2)
    assert box.op(op.seq)["wall_quality"] == "stale"
    service = ModelService([pack(1), pack(2)])
    worker = worker_for(box, clock, service)
    for _ in range(20):
        clock.advance(worker.step())
    assert service.calls == []  # no TLS attempt with a stale clock
    clock.synced = True
    clock.step_wall(30 * DAY_NS / SECOND_NS)  # NTP steps it forwards
    drain(worker, clock)
    assert [r["state"] for r in box.ops()] == ["done", "done"]
    box.close()


def test_order_is_by_seq_when_the_wall_clock_steps_backwards(outbox, clock):
    seqs = []
    for n, step in enumerate([0, -3600, +10, -86400, +5], start=1):
        clock.step_wall(step)
        clock.advance(1)
        seqs.append(rec(outbox, "dispense", n).seq)
    rows = outbox.ops()
    assert [r["seq"] for r in rows] == seqs == sorted(seqs)
    walls = [r["wall_ns"] for r in rows]
    assert walls != sorted(walls)  # the wall clock went backwards; the record keeps the raw readings
    service = ModelService([pack(n) for n in range(1, 6)])
    worker = worker_for(outbox, clock, service)
    drain(worker, clock)
    sent = [key for method, key in service.calls if method == "change"]
    assert sent == [pack(n).pack_key for n in range(1, 6)]  # sent in seq order


def test_times_are_corrected_from_a_later_anchor_in_the_same_boot(outbox, clock):
    clock.synced = False
    clock.step_wall(-7200)  # two hours slow, not synchronised
    op = rec(outbox, "dispense", 1)
    row = outbox.op(op.seq)
    assert (row["wall_quality"], row["time_quality"]) == ("plausible", None) or row["wall_quality"] == "stale"
    clock.advance(60)
    clock.step_wall(7200)
    clock.synced = True  # NTP synchronises: an anchor, and the earlier scan is corrected
    outbox.note_clock(clock())
    row = outbox.op(op.seq)
    assert row["time_quality"] == "corrected"
    assert row["wall_corrected_ns"] == clock.wall_ns - 60 * SECOND_NS
    assert row["wall_ns"] != row["wall_corrected_ns"]  # the raw reading is never rewritten


def test_reboot_mid_outage_bounds_the_times_of_a_boot_that_never_synchronised(tmp_path):
    clock = FakeClock()
    path = str(tmp_path / "o.db")
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    rec(box, "dispense", 1)
    last_anchor_wall = clock.wall_ns
    box.close()
    clock.reboot("boot2", wall_ns=clock.wall_ns + 10 * SECOND_NS, synced=False)  # power cut mid-outage
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    clock.advance(100)
    op = rec(box, "dispense", 2)
    bt = clock.boottime
    box.close()
    clock.reboot("boot3", wall_ns=clock.wall_ns + 3600 * SECOND_NS, synced=True)
    box = open_sqlite_outbox(path, clock, reserve_bytes=0)
    row = box.op(op.seq)
    assert row["time_quality"] == "bounded"
    assert row["wall_corrected_ns"] == last_anchor_wall + bt  # lower bound: previous boot's last anchor + boottime
    service = ModelService([pack(1), pack(2)])
    drain(worker_for(box, clock, service), clock)  # the outage is over: both replay in order
    assert service.applied(pack(2).pack_key) == ["Supplied"]
    box.close()


def dispensed(outbox, clock, n=1):
    service = ModelService([pack(n)], clock=clock)
    worker = worker_for(outbox, clock, service)
    rec(outbox, "dispense", n)
    drain(worker, clock)
    return service, worker


def test_undo_at_the_edge_of_the_ten_day_period(outbox, clock):
    dispensed(outbox, clock)
    clock.advance((10 * DAY_NS - HOUR_NS) / SECOND_NS - 2)
    assert hasattr(rec(outbox, "undo_dispense", 1), "op_id")  # 2 s before the limit: recorded
    other = 2
    service, worker = dispensed(outbox, clock, other)
    clock.advance((10 * DAY_NS - HOUR_NS) / SECOND_NS)
    assert rec(outbox, "undo_dispense", other).reason == "undo_period_over"


def test_undo_time_unknown_after_a_reboot_with_an_unsynchronised_clock(tmp_path):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    dispensed(box, clock)
    clock.reboot("boot2", synced=False)
    assert rec(box, "undo_dispense", 1).reason == "undo_time_unknown"
    clock.synced = True
    assert hasattr(rec(box, "undo_dispense", 1), "op_id")
    box.close()


def test_queued_undo_stops_when_the_period_runs_out_before_it_is_sent(outbox, clock):
    service, worker = dispensed(outbox, clock)
    undo = rec(outbox, "undo_dispense", 1)  # recorded in time, then the link stays down for days
    service.outage = True
    for _ in range(200):
        clock.advance(worker.step())
    assert outbox.op(undo.seq)["state"] == "queued"
    clock.advance(10 * DAY_NS / SECOND_NS)
    service.outage = False
    drain(worker, clock)
    assert outbox.op(undo.seq)["state"] == "needs_attention"  # 18: never sent, the service would alert
    assert service.applied(pack(1).pack_key) == ["Supplied"] and service.alerts == []


def test_kernel_sync_flag_is_readable_without_privilege():
    assert kernel_clock_synced() in (True, False)


@pytest.mark.skipif(shutil.which("faketime") is None, reason="libfaketime (Debian faketime) is not installed")
def test_libfaketime_smoke(tmp_path):
    code = ("from fmd_terminal.outbox.clock import SystemClock; import time; r = SystemClock()(); "
            "print(r.wall_ns // 10**9 < 1000000000 + 86400 * 365)")
    out = subprocess.run(["faketime", "2001-09-10 00:00:00", sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr
