"""Load benchmark of the verification-service simulator (issue 3): mixed traffic at rising fixed rates.

The simulator runs as its own process (``fmd-simulator serve``, SQLite file in WAL mode, uvicorn with
httptools and uvloop); this script is the load generator, in another process: raw asyncio protocol
connections with keep-alive (uvloop), open loop (each request has a scheduled send time and its latency
is counted from that time, so queueing shows), 70% verify, 25% dispense, 5% undo of an earlier dispense.

Printed per rate: p50/p95/p99 latency, achieved throughput and errors; then the highest rate at which
p95 stays under 300 ms (Reg. 2016/161 Art. 35's bar for a national repository) with every answer as
expected. The anchor, measured in the same run with the same generator against the same server, is
``GET /ping`` (no authentication, no SQLite): the ceiling of the HTTP stack on this machine. Everything,
generator included, shares this machine's cores.

    .venv/bin/python benchmarks/bench_simulator_load.py [--seconds 3] [--rates 250,500,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import quote, urlencode

BAR_MS = 300.0
DEFAULT_RATES = (250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000)


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:")
        length = int(head[start + 15:head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None]) \
            if start >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        body = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)  # type: ignore[union-attr]
        return await self.waiter


class Pool:
    def __init__(self, host: str, port: int, limit: int = 512) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[Connection] = []
        self.opened = 0
        self.available = asyncio.Condition()

    async def acquire(self) -> Connection:
        if self.idle:
            return self.idle.pop()
        if self.opened < self.limit:
            self.opened += 1
            _, conn = await asyncio.get_running_loop().create_connection(Connection, self.host, self.port)
            return conn
        async with self.available:
            while not self.idle:
                await self.available.wait()
            return self.idle.pop()

    async def release(self, conn: Connection) -> None:
        self.idle.append(conn)
        async with self.available:
            self.available.notify()


class Traffic:
    """The 70/25/5 mix over seeded packs; remembers dispenses so that undos refer to real changes."""

    def __init__(self, packs: list[dict], token: str, host: str) -> None:
        self.packs = packs
        self.fresh = iter(packs)
        self.dispensed: list[tuple[dict, str]] = []
        self.rng = random.Random(1)
        self.auth = f"Authorization: Bearer {token}\r\nemvs-data-entry-mode: non-manual\r\nHost: {host}\r\n"

    @staticmethod
    def path(pack: dict) -> str:
        return f"/product/{pack['scheme']}/{pack['productCode']}/pack/{quote(pack['serial'], safe='')}"

    def patch(self, pack: dict, state: str, trx: str, ref: str | None = None) -> bytes:
        body = {"batch": pack["batch"], "expiry": pack["expiry"], "state": state}
        if ref:
            body["refClientTrxId"] = ref
        data = json.dumps(body).encode()
        head = (f"PATCH {self.path(pack)} HTTP/1.1\r\n{self.auth}X-Client-Trx-Id: {trx}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        return head.encode() + data

    def done(self, memo: object) -> None:
        """A dispense succeeded: it may be undone later."""
        self.dispensed.append(memo)  # type: ignore[arg-type]

    def next(self) -> tuple[str, bytes, object]:
        roll = self.rng.random()
        if roll < 0.05 and self.dispensed:
            pack, trx = self.dispensed.pop(self.rng.randrange(len(self.dispensed)))
            return "undo", self.patch(pack, "Active", uuid.uuid4().hex, trx), None
        if roll < 0.30:
            pack = next(self.fresh)
            trx = uuid.uuid4().hex
            return "dispense", self.patch(pack, "Supplied", trx), (pack, trx)
        pack = self.packs[self.rng.randrange(len(self.packs))]
        query = urlencode({"batch": pack["batch"], "expiry": pack["expiry"]})
        return "verify", f"GET {self.path(pack)}?{query} HTTP/1.1\r\n{self.auth}\r\n".encode(), None


class Ping:
    """The anchor's traffic: ``GET /ping`` only."""

    def __init__(self, host: str) -> None:
        self.data = f"GET /ping HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()

    def next(self) -> tuple[str, bytes, object]:
        return "ping", self.data, None

    def done(self, memo: object) -> None:
        pass


async def run_rate(pool: Pool, rate: float, seconds: float, traffic) -> dict:
    """Open loop: request i is due at start + i/rate; its latency counts from that due time."""
    clock = time.perf_counter
    latencies: list[float] = []
    errors: dict[str, int] = {}
    tasks = []

    async def one(due: float, kind: str, data: bytes, memo: object) -> None:
        conn = await pool.acquire()
        try:
            status, body = await conn.request(data)
        except ConnectionError:
            errors["connection lost"] = errors.get("connection lost", 0) + 1
            pool.opened -= 1
            return
        await pool.release(conn)
        latencies.append(clock() - due)
        if status != 200:
            key = f"{kind}:{status}:{json.loads(body).get('operationCode')}"
            errors[key] = errors.get(key, 0) + 1
        elif memo is not None:
            traffic.done(memo)

    total = int(rate * seconds)
    start = clock() + 0.01
    sent = 0
    while sent < total:
        due_count = min(total, int((clock() - start) * rate) + 1)
        while sent < due_count:
            kind, data, memo = traffic.next()
            tasks.append(asyncio.ensure_future(one(start + sent / rate, kind, data, memo)))
            sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - clock()))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"rate": rate, "p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "achieved": len(latencies) / elapsed,
            "errors": errors}


def start_simulator(db: str, packs: int) -> tuple[subprocess.Popen, str, int]:
    cmd = [sys.executable, "-m", "fmd_simulator.cli", "serve", "--port", "0", "--db", db, "--seed-packs", str(packs)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    url = line.split()[-1]
    host, port = url.split("//")[1].rsplit(":", 1)
    return process, host, int(port)


def fetch(host: str, port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> dict:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'rate/s':>8} {'achieved/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors")
    for r in rows:
        errors = ", ".join(f"{k}={v}" for k, v in sorted(r["errors"].items())) or "-"
        print(f"{r['rate']:>8.0f} {r['achieved']:>11.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f}  {errors}")


def best(rows: list[dict]) -> float:
    ok = [r["rate"] for r in rows if r["p95"] < BAR_MS and not r["errors"] and r["achieved"] >= 0.95 * r["rate"]]
    return max(ok) if ok else 0.0


async def sweep(host: str, port: int, rates: list[float], seconds: float, traffic) -> list[dict]:
    pool = Pool(host, port)
    rows = []
    await run_rate(pool, min(rates), 0.5, traffic)  # warm-up: connections, caches
    for rate in rates:
        row = await run_rate(pool, rate, seconds, traffic)
        rows.append(row)
        if row["p95"] > 4 * BAR_MS or row["achieved"] < 0.7 * rate:
            break  # saturated: higher rates only queue more
    for conn in pool.idle:
        conn.transport.close()  # type: ignore[union-attr]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per rate (default 3)")
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)), help="offered rates, per second")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    needed = int(sum(rates) * args.seconds * 0.3) + 2000
    with tempfile.TemporaryDirectory(prefix="fmd-bench-") as tmp:
        process, host, port = start_simulator(os.path.join(tmp, "bench.sqlite"), needed)
        try:
            packs = fetch(host, port, "GET", "/admin/packs")["packs"]
            form = b"grant_type=client_credentials&client_id=pharmacy-demo&client_secret=demo-secret"
            token = fetch(host, port, "POST", "/identity/connect/token", form,
                          {"Content-Type": "application/x-www-form-urlencoded"})["access_token"]
            anchor = asyncio.run(sweep(host, port, rates, args.seconds, Ping(host)))
            ours = asyncio.run(sweep(host, port, rates, args.seconds, Traffic(packs, token, host)))
        finally:
            process.terminate()
            process.wait(10)
    print(f"machine: {os.cpu_count()} cores; simulator and generator in separate processes; {args.seconds:g} s per rate")
    print_table("anchor: GET /ping (HTTP stack only, same server, same generator)", anchor)
    print_table("simulator: 70% verify / 25% dispense / 5% undo (SQLite WAL file, group commit)", ours)
    ours_best, anchor_best = best(ours), best(anchor)
    ratio = ours_best / anchor_best if anchor_best else float("nan")
    print(f"\nhighest rate with p95 < {BAR_MS:.0f} ms: simulator {ours_best:.0f}/s, anchor /ping {anchor_best:.0f}/s, "
          f"ratio {ratio:.2f} (target: >= 1000/s)")


if __name__ == "__main__":
    main()
