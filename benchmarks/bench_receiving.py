"""Receiving a delivery at the dock (issue 17): bulks beside one request per pack.

A delivery of 2,000 packs over 60 note lines (the seeded packs sorted by product and batch, cut into 60
lines, scanned line after line) is scanned at 2 scans per second in receive mode (decommission on
receipt) against the real simulator (REST, its own process), which adds 150 ms to every
request (its latency fault: single-pack requests, bulk uploads and their results alike). The real SQLite
outbox, the real worker and the real client do the work; each scan goes through ``outbox.record`` and
``worker.submit_live`` as the terminal's scan path does.

Time compression: 2,000 scans at 2 per second are 1,000 s of scanning. The driver runs the worker on a
clock that is the kernel's boottime plus the idle time it skipped: whenever the worker has nothing due
before the next scan (or before its next timer), the clock jumps there instead of sleeping. Everything
the worker does (SQLite commits, HTTP requests with their real 150 ms) takes its real time on that clock.
So the scanning pace, the gather timers and the polls are honoured in full, and the run takes the time
of the work only.

Printed for each run: the time from the last scan to every pack final (on that clock), the longest
time a pack waited for its answer, and the requests the terminal sent (token requests not counted), for
the receiving bulks (default ``[sync]`` gather settings) beside the anchor measured in the same run on
the other half of the seeded packs: one request per pack, the path every receiving op took before
issue 17 (``gather_count = 0``). Also checked: every pack decommissioned exactly once, no alert.

Usage: ``python benchmarks/bench_receiving.py [--packs 2000] [--lines 60]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host")]

from fmd_core.service import PackRef  # noqa: E402
from fmd_core.timekeeping import SECOND_NS, ClockReading  # noqa: E402
from fmd_terminal.outbox import OpRequest  # noqa: E402
from fmd_terminal.outbox.clock import SystemClock  # noqa: E402
from fmd_terminal.outbox.sqlite import open_sqlite_outbox  # noqa: E402
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker  # noqa: E402

SCAN_GAP_S = 0.5  # 2 scans per second
LATENCY_MS = 150
LIVE_DEADLINE_S = 3.0


class SkippingClock:
    """The kernel's clocks, boottime plus the idle time skipped (``skip_to``); the wall clock is real."""

    def __init__(self) -> None:
        self.system = SystemClock(synced=True)
        self.skipped_ns = 0

    def __call__(self) -> ClockReading:
        now = self.system()
        return ClockReading(now.wall_ns, now.boot_id, now.boottime_ns + self.skipped_ns, True)

    def now_ns(self) -> int:
        return self().boottime_ns

    def skip_to(self, at_ns: int) -> None:
        gap = at_ns - self.now_ns()
        if gap > 0:
            self.skipped_ns += gap


class Counting:
    """The verification client, counting the requests it sends by method."""

    METHODS = ("verify", "change_state", "submit_recovery", "fetch_results", "ping")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = dict.fromkeys(self.METHODS, 0)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client, name)
        if name not in self.METHODS:
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return target(*args, **kwargs)

        return counted


def note_lines(packs: list[dict[str, Any]], lines: int) -> list[list[dict[str, Any]]]:
    """The delivery note: the packs by product and batch, cut into ``lines`` lines."""
    ordered = sorted(packs, key=lambda p: (p["productCode"], p["batch"], p["serial"]))
    return [ordered[k * len(ordered) // lines:(k + 1) * len(ordered) // lines] for k in range(lines)]


def run_until(worker: SyncWorker, clock: SkippingClock, at_ns: int) -> None:
    """Run the worker until ``at_ns`` on ``clock``, jumping over the time it has nothing to do."""
    while clock.now_ns() < at_ns:
        delay = worker.step()
        if delay > 0:
            clock.skip_to(min(clock.now_ns() + int(delay * SECOND_NS), at_ns))


def deliver(url: str, packs: list[dict[str, Any]], lines: int, settings: SyncSettings,
            directory: str) -> dict[str, Any]:
    from fmd_terminal.verification.factory import open_service

    clock = SkippingClock()
    box = open_sqlite_outbox(os.path.join(directory, f"dock-{settings.gather_count}.db"), clock, reserve_bytes=0)
    service = Counting(open_service(url, client_id="pharmacy-demo", client_secret="demo-secret"))
    worker = SyncWorker(box, service, clock, settings)
    scans = [p for line in note_lines(packs, lines) for p in line]
    real_start = time.perf_counter()
    first_ns = clock.now_ns()
    for i, p in enumerate(scans):
        run_until(worker, clock, first_ns + int(i * SCAN_GAP_S * SECOND_NS))
        ref = PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"])
        last_scan_ns = clock.now_ns()
        op = box.record(OpRequest("dispense", ref, p["raw"], "dock", "live", mode="receive")).op
        ticket = worker.submit_live(op, LIVE_DEADLINE_S)
        while not worker.live_result(ticket)[0]:  # the scan path: its answer, or "awaiting answer"
            worker.step()
    deadline = last_scan_ns + 600 * SECOND_NS
    while box.pending_count() and clock.now_ns() < deadline:
        run_until(worker, clock, min(clock.now_ns() + SECOND_NS // 100, deadline))
    final_ns = clock.now_ns()
    with box.reading() as db:
        waited = db.execute("SELECT max(a.ended_bt_ns - op.boottime_ns) AS w FROM op JOIN attempt AS a "
                            "ON a.seq = op.seq WHERE a.outcome IS NOT NULL")[0]["w"]
        done = db.execute("SELECT count(*) AS n FROM op WHERE state = 'done'")[0]["n"]
    service.client.close()
    box.close()
    return {"scans": len(scans), "done": done, "to_final_s": (final_ns - last_scan_ns) / SECOND_NS,
            "longest_wait_s": (waited or 0) / SECOND_NS, "calls": service.calls,
            "requests": sum(service.calls.values()), "real_s": time.perf_counter() - real_start,
            "scanning_s": (last_scan_ns - first_ns) / SECOND_NS}


def exactly_once(sim: Any, packs: list[dict[str, Any]]) -> tuple[int, int]:
    """(packs not decommissioned exactly once, in a sample of 200), alerts raised for all packs."""
    wrong = 0
    for p in packs[:: max(1, len(packs) // 200)]:
        history = sim.history(p["scheme"], p["productCode"], p["serial"])["history"]
        wrong += int(len([h for h in history if h["result"] == "NMVS_SUCCESS" and h["requestedState"]]) != 1)
    serials = {p["serial"] for p in packs}
    return wrong, len([a for a in sim.alerts() if a.get("serial") in serials])


def report(label: str, run: dict[str, Any]) -> None:
    calls = ", ".join(f"{name} {n}" for name, n in run["calls"].items() if n)
    print(f"  {label}: last scan -> every pack final {run['to_final_s']:.2f} s; longest wait for an answer "
          f"{run['longest_wait_s']:.2f} s; requests {run['requests']} ({calls}); done {run['done']}/{run['scans']}; "
          f"{run['scanning_s']:.0f} s of scanning run in {run['real_s']:.0f} s")


def main() -> int:
    from fmd_simulator.testing import running_simulator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=60)
    args = parser.parse_args()
    n = args.packs
    with tempfile.TemporaryDirectory(dir=os.environ.get("FMD_BENCH_DIR")) as d, \
            running_simulator(seed_packs=2 * n, seed=17, separate_process=True) as sim:
        packs = sim.seeded_packs()[:2 * n]
        ours_packs, anchor_packs = packs[:n], packs[n:]
        sim.set_faults({"latencyMs": {"p50": LATENCY_MS, "p95": LATENCY_MS}})
        bulk = SyncSettings(start_jitter_s=0)
        print(f"delivery of {n} packs over {args.lines} note lines, scanned at {1 / SCAN_GAP_S:g}/s in receive mode "
              f"(REST, the simulator adding {LATENCY_MS} ms to every request); time-compressed: "
              "idle time skipped, the work and the requests in real time")
        print(f"  gather: a bulk at {bulk.gather_count} packs, or the oldest waiting {bulk.gather_wait_s:g} s, "
              f"or {bulk.gather_quiet_s:g} s without a scan; results first asked {bulk.gather_poll_s:g} s after")
        ours = deliver(sim.base_url, ours_packs, args.lines, bulk, d)
        report("receiving bulks", ours)
        anchor = deliver(sim.base_url, anchor_packs, args.lines, SyncSettings(start_jitter_s=0, gather_count=0), d)
        report("anchor, one request per pack", anchor)
        sim.set_faults({})
        wrong_ours, alerts_ours = exactly_once(sim, ours_packs)
        wrong_anchor, alerts_anchor = exactly_once(sim, anchor_packs)
    print(f"  requests: {ours['requests']} beside {anchor['requests']}: ratio {ours['requests'] / anchor['requests']:.3f} "
          f"({anchor['requests'] / ours['requests']:.0f}x fewer)")
    print(f"  last scan -> every pack final: {ours['to_final_s']:.2f} s beside {anchor['to_final_s']:.2f} s: "
          f"ratio {ours['to_final_s'] / anchor['to_final_s']:.1f}")
    print(f"  simulator log: packs not decommissioned exactly once (sampled) {wrong_ours} / {wrong_anchor}, "
          f"alerts {alerts_ours} / {alerts_anchor}")
    ok = ours["done"] == anchor["done"] == n and not (wrong_ours or wrong_anchor or alerts_ours or alerts_anchor)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
