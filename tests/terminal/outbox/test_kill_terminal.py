"""kill -9 of the real terminal process (``fmd-terminal run``) against the real simulator (T2).

The 100-cycle loop (test_kill_loop.py) drives the queue service through a forking harness, because
``fmd-terminal run`` needs about a second to start; this test kills the real ``run`` process itself
(scripted scanner, recording screen, SQLite outbox, REST client) 50-400 ms after its first scan
event, cycle after cycle, then drains with the real ``fmd-terminal sync --until-drained``. Checked:
I1 (every scan event with ``recorded: true`` names an op that exists, same pack), I2 and I6 every
cycle; I7, I3, I4 and I5 at the end.
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

sys.path.insert(0, str(Path(__file__).parent / "harness"))
from kill_harness import check_final  # noqa: E402

from fmd_simulator.testing import running_simulator  # noqa: E402

CYCLES = int(os.environ.get("FMD_KILL_TERMINAL_CYCLES", "10"))
SEED = int(os.environ.get("FMD_KILL_SEED", "20261126"))
TERMINAL = [sys.executable, "-m", "fmd_terminal"]


def check(db, recorded):
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "I6"
        rows = con.execute("SELECT seq, op_id, serial FROM op ORDER BY seq").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "I2"
    assert len({r[1] for r in rows}) == len(rows), "I2"
    serials = {r[0]: r[2] for r in rows}
    for seq, serial in recorded.items():
        assert serials.get(seq) == serial, f"I1: scan {seq} of {serial} shown as recorded, found {serials.get(seq)}"


def test_kill_the_real_terminal(tmp_path):
    rng = random.Random(SEED)
    db = str(tmp_path / "outbox.db")
    env = dict(os.environ, FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret")
    with running_simulator(seed_packs=40 * CYCLES, seed=SEED % 1000) as sim:
        packs = sim.seeded_packs()
        recorded: dict[int, str] = {}
        config = tmp_path / "terminal.toml"
        config.write_text("live_deadline_s = 0.5\n")  # CI: a shorter "CHECKING" (OFFLINE-QUEUE.md 5.1 step 6)
        for cycle in range(CYCLES):
            script = tmp_path / f"scans{cycle}.jsonl"
            script.write_text("".join(json.dumps({"raw": p["raw"]}) + "\n" for p in packs[40 * cycle:40 * (cycle + 1)]))
            proc = subprocess.Popen(
                [*TERMINAL, "run", "--config", str(config), "--scanner", f"script://{script}", "--outbox", f"sqlite://{db}",
                 "--service", sim.base_url, "--screen", "recording://", "--indicators", "none://",
                 "--events-jsonl", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            lines: list[str] = []
            first = threading.Event()

            def read(stream=proc.stdout, lines=lines, first=first):
                for line in stream:  # drained continuously: a full pipe would stall the terminal
                    lines.append(line)
                    first.set()
                first.set()

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            assert first.wait(60), f"cycle {cycle}: no event from fmd-terminal run"
            threading.Event().wait(rng.uniform(0.05, 0.4))  # the random kill moment
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            reader.join(10)
            for line in lines:
                event = json.loads(line)
                if event.get("event") == "scan" and event.get("recorded"):
                    recorded[event["seq"]] = event["pack"]["serial"]
            check(db, recorded)
        assert recorded, "scans were recorded between kills"

        sync = subprocess.run([*TERMINAL, "sync", "--until-drained", "--timeout", "60", "--start-delay", "0",
                               "--service", sim.base_url, "--outbox", f"sqlite://{db}"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert sync.returncode == 0, sync.stderr[-2000:]  # I7
        check(db, recorded)
        n_ops, _counts = check_final(db, sim)
        print(f"{CYCLES} kills of fmd-terminal run, {n_ops} ops, {len(recorded)} shown as recorded")
