"""Outbox benchmarks (OFFLINE-QUEUE.md section 10; issue 5, "Performance").

(a) Scan-to-durable latency: ``outbox.record()`` of single scans into a WAL + synchronous=FULL
    database, p50/p95/p99.9, beside its anchor measured in the same run on the same disk: one
    single-row INSERT + COMMIT through raw sqlite3 under WAL + FULL.
(b) Drain: 10,000 dispenses recorded while the simulator is in an outage, then the outage ends;
    the time until every op is final, with pacing limits lifted (``SyncSettings.unpaced``). The
    simulator's transaction log is checked for zero duplicates, per-pack order and zero alerts.
    Printed beside the 500 ops/s target and beside the anchor: the raw SQLite commit rate of this
    machine under WAL + FULL (one commit per op is what a naive outbox would cost).

Usage: ``python benchmarks/bench_outbox.py [--ops 10000] [--scans 2000]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host")]

from fmd_core.service import PackRef  # noqa: E402
from fmd_terminal.outbox import OpRequest  # noqa: E402
from fmd_terminal.outbox.sqlite import open_sqlite_outbox  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


class RawCommits:
    """The anchor: one single-row INSERT + COMMIT through raw sqlite3 under WAL + synchronous=FULL."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")

    def commit(self) -> float:
        start = time.perf_counter()
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO t (payload) VALUES (?)", ("x" * 200,))
        self.db.execute("COMMIT")
        return time.perf_counter() - start

    def rate(self, n: int) -> float:
        return n / sum(self.commit() for _ in range(n))

    def close(self) -> None:
        self.db.close()


def latency(scans: int) -> None:
    """Ours and the anchor interleaved, one of each per round, so both see the same disk."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("FMD_BENCH_DIR")) as d:
        raw = RawCommits(os.path.join(d, "raw.db"))
        box = open_sqlite_outbox(os.path.join(d, "outbox.db"), reserve_bytes=0)
        ours, anchor = [], []
        for i in range(scans):
            anchor.append(raw.commit())
            ref = PackRef("GTIN", "03400930000014", f"S{i:08d}", "B1", "281231")
            start = time.perf_counter()
            box.record(OpRequest("dispense", ref, "raw", "bench", "deferred"))
            ours.append(time.perf_counter() - start)
        box.close()
        raw.close()
    print(f"(a) scan-to-durable latency, {scans} single scans, WAL + synchronous=FULL (interleaved with the anchor)")
    print(f"    {'':26} {'p50':>9} {'p95':>9} {'p99.9':>9}")
    for name, values in (("outbox.record()", ours), ("anchor: raw INSERT+COMMIT", anchor)):
        print(f"    {name:26} " + " ".join(f"{percentile(values, p) * 1000:8.2f}ms" for p in (50, 95, 99.9)))
    print(f"    ratio (ours / anchor) p50 {percentile(ours, 50) / percentile(anchor, 50):.2f}, "
          f"p95 {percentile(ours, 95) / percentile(anchor, 95):.2f}; target p95 <= 100 ms, p99.9 <= 500 ms")


def drain(n: int) -> int:
    from fmd_simulator.testing import running_simulator
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
    from fmd_terminal.verification.factory import open_service

    status = 0
    with tempfile.TemporaryDirectory(dir=os.environ.get("FMD_BENCH_DIR")) as d:
        raw = RawCommits(os.path.join(d, "raw.db"))
        rate_before = raw.rate(1000)
        with running_simulator(seed_packs=n, separate_process=True) as sim:
            packs = sim.seeded_packs()[:n]
            sim.set_faults({"outage": True})
            box = open_sqlite_outbox(os.path.join(d, "outbox.db"), reserve_bytes=0)
            for p in packs:
                ref = PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"])
                box.record(OpRequest("dispense", ref, p["raw"], "bench", "deferred"))
            service = open_service(sim.base_url, client_id="pharmacy-demo", client_secret="demo-secret")
            worker = SyncWorker(box, service, settings=SyncSettings.unpaced(batch_size=2000, outstanding=4))
            for _ in range(3):  # the outage holds: nothing leaves the terminal
                worker.step()
            assert box.pending_count() == n
            sim.set_faults({"outage": False})
            start = time.perf_counter()
            drained = worker.run_until_drained(300, sleep=lambda s: time.sleep(min(s, 0.01)))
            elapsed = time.perf_counter() - start
            done = box.ops("op.state = 'done'")
            alerts = sim.alerts()
            duplicates = 0
            order_broken = 0
            for p in packs[:: max(1, n // 500)]:  # the per-pack log, sampled (500 packs)
                history = sim.history(p["scheme"], p["productCode"], p["serial"])["history"]
                changes = [h for h in history if h.get("requestedState") and h["result"] == "NMVS_SUCCESS"]
                duplicates += max(0, len(changes) - 1)
                order_broken += int([h["requestedState"] for h in changes] not in ([], ["Supplied"]))
            service.close()
            box.close()
        anchor_rate = (rate_before + raw.rate(1000)) / 2  # measured before and after the drain
        raw.close()
        rate = n / elapsed
        print(f"(b) drain of {n} dispenses recorded during an outage, pacing lifted, REST + recovery endpoint")
        print(f"    all final: {drained}, done: {len(done)}, time {elapsed:.2f} s, rate {rate:.0f} ops/s")
        print(f"    target 500 ops/s: ratio {rate / 500:.2f}")
        print(f"    anchor: raw SQLite commit rate under WAL+FULL on this machine {anchor_rate:.0f} commits/s "
              f"(mean of before and after): "
              f"ratio {rate / anchor_rate:.2f}")
        print(f"    simulator log: alerts {len(alerts)}, duplicate state changes in the sampled packs {duplicates}, "
              f"packs out of order {order_broken}")
        if not drained or len(done) != n or alerts or duplicates or order_broken:
            status = 1
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10000)
    parser.add_argument("--scans", type=int, default=2000)
    args = parser.parse_args()
    latency(args.scans)
    return drain(args.ops)


if __name__ == "__main__":
    sys.exit(main())
