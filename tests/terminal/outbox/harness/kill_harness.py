"""Shared by the kill -9 loop (test_kill_loop.py) and the chaos run (chaos.py): the zygote that forks
the queue service, a child's drained output, the per-cycle checks (I1, I2, I6) and the final ones
(I3, I4, I5) against the simulator."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

HARNESS = Path(__file__).parent / "queue_service.py"
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


def check_final(db, sim):
    """After the drain: every op done; I3 and I4 per pack against the history; I5 no alert."""
    con = sqlite3.connect(db)
    ops = con.execute("SELECT seq, kind, state, scheme, product_code, serial FROM op ORDER BY seq").fetchall()
    counts = {action: n for action, n in con.execute("SELECT action, count(*) FROM attempt GROUP BY action")}
    con.close()
    assert {state for _s, _k, state, *_ in ops} == {"done"}, "every op final and done"
    expected: dict[tuple, list[str]] = {}
    for _seq, kind, _state, scheme, product, serial in ops:
        if kind in REQUESTED:
            expected.setdefault((scheme, product, serial), []).append(REQUESTED[kind])
    for (scheme, product, serial), wanted in expected.items():
        history = sim.history(scheme, product, serial)["history"]
        applied = [h["requestedState"] for h in history if h.get("requestedState") and h["result"] == "NMVS_SUCCESS"]
        assert applied == wanted, f"I3/I4: {serial}: applied {applied}, recorded {wanted}"
    assert sim.alerts() == [], "I5"
    return len(ops), counts


def record_lines(child, signalled):
    for line in child.lines:
        if line.startswith("recorded "):
            _, seq, op_id, kind, pack_key = line.split(" ", 4)
            signalled[int(seq)] = (op_id, kind, pack_key)
