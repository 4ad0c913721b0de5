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
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "harness"))
from kill_harness import Zygote, check_cycle, check_final, record_lines, workload  # noqa: E402

from fmd_simulator.testing import running_simulator  # noqa: E402

CYCLES = int(os.environ.get("FMD_KILL_CYCLES", "100"))
SEED = int(os.environ.get("FMD_KILL_SEED", "20261126"))


def test_kill_loop(tmp_path):
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
            record_lines(child, signalled)
            check_cycle(db, signalled)
        assert len(signalled) > CYCLES, "the workload must have made progress between kills"

        sim.set_faults({"outage": False})
        drain = zygote.spawn([db, sim.base_url, str(work), "--drain", "--timeout", "60"])
        drain.finish()
        zygote.close()
        assert drain.returncode == 0 and "drained" in drain.lines, (drain.lines, drain.err[-3000:])  # I7
        check_cycle(db, signalled)

        n_ops, counts = check_final(db, sim)
        bulk, reconciles = counts.get("bulk_submit", 0), counts.get("reconcile_verify", 0)
        assert bulk > 0, "kills must also land while recovery batches are out"
        print(f"{CYCLES} kills, {n_ops} ops, {bulk} recovery items, {reconciles} reconciling verifies")
