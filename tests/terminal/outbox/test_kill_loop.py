"""kill -9 loops (OFFLINE-QUEUE.md section 9, T2): the real queue service against the real simulator.

The child (``harness/queue_service.py``) runs the real SQLite outbox, the real sync worker and the
real REST client; the simulator runs here on a loopback port. Each cycle SIGKILLs the child 50-400 ms
after it is ready, while it records scans, sends them and polls recovery results. Every cycle checks
I1 (every op whose "recorded" line was printed exists, unchanged), I2 (seq without gaps, unique
op_id) and I6 (integrity_check); at the end a drain checks I7 (final within 60 s), then I3 (every
state change applied exactly once), I4 (in seq order per pack) and I5 (zero alerts).
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from fmd_simulator.testing import running_simulator

HARNESS = Path(__file__).parent / "harness" / "queue_service.py"
CYCLES = int(os.environ.get("FMD_KILL_CYCLES", "100"))
SEED = int(os.environ.get("FMD_KILL_SEED", "20261126"))
REQUESTED = {"dispense": "Supplied", "undo_dispense": "Active"}


def workload(packs, rng):
    """Dispense every pack; undo some right after; verify some earlier ones. All valid: zero alerts."""
    items = []
    for i, p in enumerate(packs):
        base = {k: p[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")}
        items.append(dict(base, kind="dispense", live=rng.random() < 0.3))
        if i % 5 == 0:
            items.append(dict(base, kind="undo_dispense"))
        if i % 7 == 3:
            items.append(dict({k: packs[i // 2][k] for k in base}, kind="verify"))
    return items


class Zygote:
    """``queue_service.py --zygote``: imports once, forks each child (a cycle then costs ms, not 0.5 s)."""

    def __init__(self, env, tmp):
        self.proc = subprocess.Popen([sys.executable, str(HARNESS), "--zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.tmp = tmp
        self.count = 0
        assert self.proc.stdout.readline().strip() == "zygote ready"

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().split()

    def spawn(self, args):
        self.count += 1
        fifo = str(self.tmp / f"child{self.count}.out")
        os.mkfifo(fifo)
        child = Child(self, fifo)
        child.pid = int(self.ask(f"spawn {fifo} {json.dumps(args)}")[1])
        return child

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


class Child:
    """One run of the queue service; its stdout is drained continuously (a full pipe stalls it)."""

    def __init__(self, zygote, fifo):
        self.zygote = zygote
        self.fifo = fifo
        self.pid = None
        self.returncode = None
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.fifo, encoding="utf-8") as stream:
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("ready"):
                    self.ready.set()
        self.ready.set()

    @property
    def err(self):
        path = Path(self.fifo + ".err")
        return path.read_text() if path.exists() else ""

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self.finish()

    def finish(self):
        self.returncode = int(self.zygote.ask(f"wait {self.pid}")[2])
        self.reader.join(10)


def check_cycle(db, signalled):
    """I1, I2, I6 on the file as the killed process left it (opened by a plain sqlite3 connection)."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "I6"
        rows = con.execute("SELECT seq, op_id, kind, pack_key FROM op ORDER BY seq").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "I2: seq without gaps"
    assert len({r[1] for r in rows}) == len(rows), "I2: op_id unique"
    by_seq = {r[0]: r[1:] for r in rows}
    for seq, fields in signalled.items():
        assert by_seq.get(seq) == fields, f"I1: op {seq} signalled as {fields}, found {by_seq.get(seq)}"


def test_kill_loop(tmp_path, monkeypatch):
    rng = random.Random(SEED)
    print(f"kill loop seed {SEED}, {CYCLES} cycles")
    db = str(tmp_path / "outbox.db")
    env = dict(os.environ, FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret")
    with running_simulator(seed_packs=800, seed=SEED % 1000) as sim:
        packs = sim.seeded_packs()[:800]
        work = tmp_path / "workload.jsonl"
        work.write_text("".join(json.dumps(item) + "\n" for item in workload(packs, rng)))
        signalled: dict[int, tuple] = {}
        zygote = Zygote(env, tmp_path)
        for cycle in range(CYCLES):
            sim.set_faults({"outage": cycle % 20 in (5, 6, 7, 8)})  # a backlog builds, then drains in bulk
            child = zygote.spawn([db, sim.base_url, str(work)])
            assert child.ready.wait(30), f"cycle {cycle}: child did not start: {child.err[-2000:]}"
            threading.Event().wait(rng.uniform(0.05, 0.4))  # the random kill moment, not a wait for behaviour
            child.kill()
            assert child.returncode == -signal.SIGKILL, f"cycle {cycle} ended by itself: {child.err[-2000:]}"
            for line in child.lines:
                if line.startswith("recorded "):
                    _, seq, op_id, kind, pack_key = line.split(" ", 4)
                    signalled[int(seq)] = (op_id, kind, pack_key)
            check_cycle(db, signalled)
        assert len(signalled) > CYCLES, "the workload must have made progress between kills"

        sim.set_faults({"outage": False})
        drain = zygote.spawn([db, sim.base_url, str(work), "--drain", "--timeout", "60"])
        drain.finish()
        zygote.close()
        assert drain.returncode == 0 and "drained" in drain.lines, (drain.lines, drain.err[-3000:])  # I7
        check_cycle(db, signalled)

        con = sqlite3.connect(db)
        ops = con.execute("SELECT seq, kind, state, scheme, product_code, serial FROM op ORDER BY seq").fetchall()
        bulk = con.execute("SELECT count(*) FROM attempt WHERE action = 'bulk_submit'").fetchone()[0]
        reconciles = con.execute("SELECT count(*) FROM attempt WHERE action = 'reconcile_verify'").fetchone()[0]
        con.close()
        assert {state for _s, _k, state, *_ in ops} == {"done"}, "every op final and done"
        expected: dict[tuple, list[str]] = {}
        for _seq, kind, _state, scheme, product, serial in ops:
            if kind in REQUESTED:
                expected.setdefault((scheme, product, serial), []).append(REQUESTED[kind])
        for (scheme, product, serial), wanted in expected.items():
            history = sim.history(scheme, product, serial)["history"]
            applied = [h["requestedState"] for h in history
                       if h.get("requestedState") and h["result"] == "NMVS_SUCCESS"]
            assert applied == wanted, f"I3/I4: {serial}: applied {applied}, recorded {wanted}"
        assert sim.alerts() == [], "I5"
        assert bulk > 0, "kills must also land while recovery batches are out"
        print(f"{CYCLES} kills, {len(ops)} ops, {bulk} recovery items, {reconciles} reconciling verifies")
