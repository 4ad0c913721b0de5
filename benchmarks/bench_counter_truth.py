"""Counter truth (issue 11): the moments that are not steady, each beside the simulator's round trip.

``fmd-terminal run`` as a child process, as on the counter minus hardware: scans written to its
``stdin://`` at chosen moments, SQLite outbox in a temporary directory, the REST client, default sync
settings; the time of each verdict is read from its events journal. The simulator (``fmd-simulator
serve``, its own process) sits behind a loopback proxy (``fmd_simulator.link_faults``) that can refuse
or black-hole connections; its own ``outage`` fault answers 503 with Retry-After.

Figures:
1. process start to the first live answer: a fresh pack scanned as the process starts (it waits in the
   pipe until the terminal reads it), to its green verdict;
2. time to amber during an outage (refused, 503, black hole): scans 0.8 s apart after the first failing
   one, each from its scan to its amber verdict (the first failing one is shown apart: on a black hole it
   waits its live deadline, 3 s);
3. time from the service's return to the first live green, with a scan every 0.5 s from the return on.

Anchor, measured in the same run: the simulator's round trip, the same dispense sent straight to it on
a kept-alive loopback connection (median of 50).

Usage: ``python benchmarks/bench_counter_truth.py [--starts 5] [--dock 5]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host")]

from bench_terminal_latency import DirectClient  # noqa: E402


class Terminal:
    """``fmd-terminal run`` over stdin, journal read as it grows."""

    def __init__(self, directory: str, url: str) -> None:
        self.journal = Path(directory) / "events.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
        env.update(FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret", PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "fmd_terminal", "run", "--service", url, "--scanner", "stdin://",
                   "--screen", "console://?color=0", "--indicators", "none://",
                   "--outbox", f"sqlite://{directory}/outbox.db", "--events-jsonl", str(self.journal)]
        self.started = time.time()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env=env)
        self.ready = 0.0  # when the idle screen was first drawn (the console screen on standard output)
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not self.ready and "Prêt" in line:
                self.ready = time.time()

    def scan(self, raw: str) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(raw + "\n")
        self.process.stdin.flush()
        return time.time()

    def verdicts(self) -> list[dict]:
        if not self.journal.exists():
            return []
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [e for e in (json.loads(line) for line in lines if line) if e["event"] == "scan"]

    def verdict(self, n: int, timeout: float = 60) -> tuple[dict, float]:
        """The n-th scan verdict and its wall time."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            scans = self.verdicts()
            if len(scans) > n:
                return scans[n], datetime.datetime.fromisoformat(scans[n]["time"]).timestamp()
            if self.process.poll() is not None:
                raise SystemExit(f"the terminal ended with {self.process.returncode}")
            time.sleep(0.005)
        raise SystemExit(f"no verdict {n} after {timeout} s")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_to_first_answer(url: str, packs: list[dict]) -> tuple[list[float], list[float]]:
    """Per start: (process start -> green verdict, idle screen drawn -> green verdict)."""
    took, after_ready = [], []
    for pack in packs:
        with tempfile.TemporaryDirectory() as directory:
            terminal = Terminal(directory, url)
            terminal.scan(pack["raw"])
            verdict, at = terminal.verdict(0)
            terminal.close()
        if verdict["light"] != "green":
            raise SystemExit(f"start-up scan not green: {verdict['outcome']}")
        took.append(at - terminal.started)
        after_ready.append(at - terminal.ready)
    return took, after_ready


def outage(url: str, sim, proxy, kind: str, packs: list[dict], dock: int) -> tuple[float, list[float], float]:
    """(first failing scan's wait, waits of the scans after it, return to first live green)."""
    from fmd_simulator.link_faults import begin_outage, end_outage

    fresh = iter(packs)
    with tempfile.TemporaryDirectory() as directory:
        terminal = Terminal(directory, url)
        n = 0
        terminal.scan(next(fresh)["raw"])
        if terminal.verdict(n)[0]["light"] != "green":
            raise SystemExit("the warm-up scan was not green")
        begin_outage(kind, proxy, sim)
        waits = []
        for _ in range(dock + 1):
            written = terminal.scan(next(fresh)["raw"])
            n += 1
            verdict, at = terminal.verdict(n)
            if verdict["light"] != "amber":
                raise SystemExit(f"{kind}: a scan during the outage was {verdict['light']}")
            waits.append(at - written)
            time.sleep(max(0.0, written + 0.8 - time.time()))
        end_outage(proxy, sim)
        back = time.time()
        while True:
            written = terminal.scan(next(fresh)["raw"])
            n += 1
            verdict, at = terminal.verdict(n)
            if verdict["light"] == "green":
                break
            if time.time() - back > 60:
                raise SystemExit(f"{kind}: no green within 60 s of the return")
            time.sleep(max(0.0, written + 0.5 - time.time()))
        terminal.close()
    return waits[0], waits[1:], at - back


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--dock", type=int, default=5)
    args = parser.parse_args()

    from fmd_simulator.link_faults import OUTAGES, FaultProxy
    from fmd_simulator.testing import running_simulator

    need = args.starts + 3 * (args.dock + 40) + 60
    with running_simulator(seed_packs=need, seed=11, separate_process=True) as sim:
        packs = [p for p in sim.seeded_packs() if p.get("market", "FR") == "FR"]
        proxy = FaultProxy(sim.port)
        url = f"http://127.0.0.1:{proxy.port}"
        direct = DirectClient(sim)
        anchor = [direct.dispense(packs.pop()) for _ in range(50)]
        starts, after_ready = start_to_first_answer(url, [packs.pop() for _ in range(args.starts)])
        results = {}
        for kind in OUTAGES:
            chunk = [packs.pop() for _ in range(args.dock + 40)]
            results[kind] = outage(url, sim, proxy, kind, chunk, args.dock)
        proxy.close()

    rtt = statistics.median(anchor)
    print(f"anchor: simulator round trip (dispense, kept-alive loopback), median of 50: {rtt * 1000:.2f} ms")
    print(f"{'':<52}{'median':>10}{'max':>10}{'/anchor':>10}")

    def row(name: str, values: list[float]) -> None:
        mid = statistics.median(values)
        print(f"{name:<52}{mid * 1000:>8.0f}ms{max(values) * 1000:>8.0f}ms{mid / rtt:>9.0f}x")

    row(f"1. process start -> first live answer ({args.starts} starts)", starts)
    row("   of which: idle screen drawn -> that answer", after_ready)
    for kind, (first, waits, _back) in results.items():
        row(f"2. time to amber, {kind} ({len(waits)} scans after the 1st)", waits)
        print(f"   {'':<49}(first failing scan: {first * 1000:.0f} ms)")
    for kind, (_first, _waits, back) in results.items():
        row(f"3. return -> first live green, after {kind}", [back])
    worst_amber = max(max(waits) for _f, waits, _b in results.values())
    print(f"targets: a scan waiting at start-up green within 1 s of the idle screen: "
          f"{'met' if max(after_ready) < 1.0 else 'NOT met'} ({max(after_ready):.2f} s); amber within 1 s (target 0.3 s): "
          f"{'met' if worst_amber < 1.0 else 'NOT met'} ({worst_amber:.2f} s); "
          f"green within 5 s of the return: "
          f"{'met' if max(b for *_x, b in results.values()) < 5.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
