"""The web console's cost on the terminal (issue 15): the RSS it adds, the p95 of a page, and the scan
path's latency with the console off and on (a status page open and live), each beside an anchor
measured in the same run.

- RSS: VmRSS of this process (a terminal built by ``app.build`` on a SQLite outbox and the simulator)
  before the console starts, and after it started and served every page (``PAGES`` requests of each);
  anchor: the terminal's own RSS.
- Page p95: the status page (``/``: the outbox's counts, the last decommission, the recent alerts, the
  worker's status, read at most every 0.25 s for all pages and streams) and the history of today (every
  op of the day read and rendered, no cache) for a logged-in session over a kept-alive connection;
  anchor: ``/console.css`` from the same server (the HTTP floor: the same handler, no outbox read).
- Scan path: the scan-to-feedback latency of ``bench_terminal_latency`` (typed keys to verdict light,
  dispensing on the simulator), first without the console, then with it on and a status page open
  (its live stream, and a reload every 200 ms); anchor: the simulator's own round trip, interleaved.

Usage: ``python benchmarks/bench_console.py [--scans 150] [--pages 300]``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host"), os.path.dirname(os.path.abspath(__file__))]

from bench_terminal_latency import DirectClient, KeystrokeScanner, TimedIndicators, percentile  # noqa: E402
from fmd_terminal.config import Config  # noqa: E402
from fmd_terminal.screens.recording import RecordingScreen  # noqa: E402

PASSWORD = "benchmark-password"
ALL_PAGES = ("/", "/attention", "/history?day=2026-01-01", "/export", "/calibration", "/settings", "/logs",
             "/export.csv")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS in /proc/self/status")


class Browser:
    """A logged-in client of the console on one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.get("/login")
        self.request("POST", "/login", f"csrf={self.cookies['fmd_console_login']}&user=bench&password={PASSWORD}")
        if "fmd_console" not in self.cookies:
            raise SystemExit("could not log in to the console")

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"User-Agent": "bench", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = re.match(r"([^=]+)=([^;]*)", header).groups()
            self.cookies[name] = value
        return response.status, data

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def timed(self, path: str) -> float:
        start = time.perf_counter()
        status, _ = self.get(path)
        took = time.perf_counter() - start
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        return took


class OpenStatusPage(threading.Thread):
    """A status page left open: its live stream read, and a reload every 200 ms."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.browser = Browser(port)

    def run(self) -> None:
        stream = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        stream.request("GET", "/events", headers={"User-Agent": "bench", "Cookie": f"fmd_console={self.browser.cookies['fmd_console']}"})
        events = stream.getresponse()
        threading.Thread(target=lambda: [events.readline() for _ in iter(int, 1)], daemon=True).start()
        while not self.stop.wait(0.2):
            self.browser.get("/")
        stream.close()


def scan_latencies(terminal, sim_direct, packs, start: int, scans: int, warmup: int = 10):
    """``scans`` dispenses typed and shown; returns (terminal's, anchor's) latencies in seconds."""
    scanner, indicators = KeystrokeScanner("fr"), TimedIndicators()
    terminal.scanner, terminal.indicators = scanner, indicators
    ours, anchor = [], []
    for i in range(scans + warmup):
        took_anchor = sim_direct.dispense(packs[start + 2 * i + 1])
        scanner.type(packs[start + 2 * i]["raw"])
        shown = len(terminal.shown)
        while len(terminal.shown) == shown:  # the verdict is shown on a later turn (issue 11: live answers)
            terminal.step(timeout_s=0)
        if terminal.shown[-1].outcome != "decommissioned":
            raise SystemExit(f"unexpected outcome {terminal.shown[-1].outcome}")
        if i >= warmup:
            ours.append(indicators.signalled - scanner.started)
            anchor.append(took_anchor)
    return ours, anchor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=150)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()

    from fmd_simulator.testing import running_simulator
    from fmd_terminal import app, console
    from fmd_terminal.console.security import Credentials

    total = 4 * (args.scans + 10)
    with running_simulator(seed_packs=total, seed=5, separate_process=True) as sim, \
            tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        packs = [p for p in sim.seeded_packs() if p.get("market", "FR") == "FR"]
        if len(packs) < total:
            raise SystemExit(f"the simulator seeded {len(packs)} packs, {total} needed")
        state_dir = Path(tmp) / "console"
        Credentials(state_dir).set(PASSWORD)
        port = 18000 + os.getpid() % 20000
        config = Config(service=sim.base_url, outbox=f"sqlite://{tmp}/outbox.db", screen="recording://",
                        indicators="recording://", client_id="pharmacy-demo", client_secret="demo-secret",
                        sync={"rate": 0.0, "probe_gap_s": 0.01},
                        console={"listen": f"127.0.0.1:{port}", "state_dir": str(state_dir)}).validate()
        terminal = app.build(config, stack)
        terminal.screen = RecordingScreen(keep_images=True)
        direct = DirectClient(sim)
        terminal.start()
        off, off_anchor = scan_latencies(terminal, direct, packs, 0, args.scans)

        before = rss_mb()
        console.start(config, terminal, stack)
        browser = Browser(port)
        for path in ALL_PAGES:
            for _ in range(20):
                browser.timed(path)
        status_page = [browser.timed("/") for _ in range(args.pages)]
        today = "/history?day=" + time.strftime("%Y-%m-%d")
        history_page = [browser.timed(today) for _ in range(args.pages)]
        floor = [browser.timed("/console.css") for _ in range(args.pages)]
        page = OpenStatusPage(port)
        page.start()
        used, direct = direct.n, DirectClient(sim)  # a fresh kept-alive anchor connection (the idle one was closed)
        direct.n = used  # its transaction ids go on from the last
        on, on_anchor = scan_latencies(terminal, direct, packs, 2 * (args.scans + 10), args.scans)
        page.stop.set()
        page.join(5)
        after = rss_mb()

    def ms(values: list[float], p: float) -> float:
        return percentile(values, p) * 1000

    print(f"web console beside a terminal (SQLite outbox, simulator on loopback); {len(off) + len(on)} ops "
          f"in the outbox at the end")
    print(f"RSS: terminal alone {before:.1f} MB (anchor); the console adds {after - before:.1f} MB "
          f"after serving every page ({(after - before) / before:.2f}x the terminal's)")
    print(f"{'':<44}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'status page / (logged in, kept alive)':<44}{ms(status_page, 50):>9.2f}{ms(status_page, 95):>9.2f}")
    print(f"{'history of today (reads every op, no cache)':<44}{ms(history_page, 50):>9.2f}{ms(history_page, 95):>9.2f}")
    print(f"{'anchor: /console.css, same server':<44}{ms(floor, 50):>9.2f}{ms(floor, 95):>9.2f}")
    print(f"ratio to the anchor, p95: status page {ms(status_page, 95) / ms(floor, 95):.2f}x, "
          f"history {ms(history_page, 95) / ms(floor, 95):.2f}x")
    print(f"{'scan path, console off':<44}{ms(off, 50):>9.2f}{ms(off, 95):>9.2f}")
    print(f"{'  anchor: simulator round trip':<44}{ms(off_anchor, 50):>9.2f}{ms(off_anchor, 95):>9.2f}")
    print(f"{'scan path, console on + status page open':<44}{ms(on, 50):>9.2f}{ms(on, 95):>9.2f}")
    print(f"{'  anchor: simulator round trip':<44}{ms(on_anchor, 50):>9.2f}{ms(on_anchor, 95):>9.2f}")
    overhead_off = ms(off, 95) - ms(off_anchor, 95)
    overhead_on = ms(on, 95) - ms(on_anchor, 95)
    print(f"scan path overhead over its anchor, p95: off {overhead_off:.2f} ms, on {overhead_on:.2f} ms "
          f"(on/off {ms(on, 95) / ms(off, 95):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
