"""Chaos run (OFFLINE-QUEUE.md section 9, T7): random kills, network faults and disk-full windows.

Usage: ``python tests/terminal/outbox/chaos.py --minutes 10 [--seed S]``. The seed is printed first,
so a failure can be replayed. The real queue service (``harness/queue_service.py``: the real
SQLite outbox, sync worker and REST client) runs against the real simulator over loopback; each
cycle picks a fault setting, sometimes a file-size limit, and SIGKILLs the child after a random
time. Every cycle checks I1, I2 and I6; at the end a fault-free drain checks I7, then I3, I4, I5.
Exit status 0 when every invariant held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(HERE / "harness"), str(ROOT / "device"), str(ROOT / "host")]

from kill_harness import Zygote, check_cycle, check_final, record_lines, workload  # noqa: E402

NO_FAULTS = {"outage": False, "errorRate": 0.0, "dropBeforeApplyRate": 0.0, "dropAfterApplyRate": 0.0,
             "timeoutRate": 0.0, "hangMs": 0, "throttleRps": None, "retryAfterSeconds": 1}


def random_faults(rng: random.Random) -> dict:
    faults = dict(NO_FAULTS)
    pick = rng.random()
    if pick < 0.15:
        faults["outage"] = True
    elif pick < 0.6:
        faults.update(errorRate=rng.choice([0, 0.1, 0.3]), dropBeforeApplyRate=rng.choice([0, 0.1, 0.3]),
                      dropAfterApplyRate=rng.choice([0, 0.1, 0.3]), timeoutRate=rng.choice([0, 0.1]),
                      hangMs=rng.choice([0, 3000]))
    elif pick < 0.7:
        faults["throttleRps"] = rng.choice([5, 20])
    faults["seed"] = rng.randrange(1 << 30)
    return faults


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--packs", type=int, default=3000)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"chaos seed {seed} ({args.minutes} min); replay with --seed {seed}", flush=True)
    rng = random.Random(seed)

    from fmd_simulator.testing import running_simulator

    env = dict(os.environ, FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret")
    end = time.monotonic() + args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="fmd-chaos-") as tmp, \
            running_simulator(seed_packs=args.packs, seed=seed % 100000) as sim:
        tmp_path = Path(tmp)
        db = str(tmp_path / "outbox.db")
        work = tmp_path / "workload.jsonl"
        work.write_text("".join(json.dumps(item) + "\n" for item in workload(sim.seeded_packs(), rng)))
        zygote = Zygote(env, tmp_path)
        signalled: dict[int, tuple] = {}
        cycles = full_windows = 0
        try:
            while time.monotonic() < end:
                sim.set_faults(random_faults(rng))
                extra = []
                if rng.random() < 0.1:
                    size = os.path.getsize(db) if os.path.exists(db) else 0
                    extra = ["--fsize-limit", str(size + rng.randint(4096, 65536))]
                    full_windows += 1
                child = zygote.spawn([db, sim.base_url, str(work), *extra])
                if not child.ready.wait(30):
                    raise AssertionError(f"cycle {cycles}: child did not start: {child.err[-2000:]}")
                threading.Event().wait(rng.uniform(0.05, 1.5))
                child.kill()
                if child.returncode != -signal.SIGKILL:
                    raise AssertionError(f"cycle {cycles}: child ended by itself: {child.err[-3000:]}")
                record_lines(child, signalled)
                check_cycle(db, signalled)
                cycles += 1
                if cycles % 50 == 0:
                    print(f"  {cycles} cycles, {len(signalled)} ops signalled", flush=True)
            sim.set_faults(dict(NO_FAULTS))
            drain = zygote.spawn([db, sim.base_url, str(work), "--drain", "--timeout", "120"])
            drain.finish()
            if drain.returncode != 0 or "drained" not in drain.lines:
                raise AssertionError(f"I7: not drained: {drain.lines[-3:]} {drain.err[-3000:]}")
            check_cycle(db, signalled)
            n_ops, counts = check_final(db, sim)
        except AssertionError as failure:
            print(f"chaos seed {seed}: INVARIANT VIOLATED after {cycles} cycles: {failure}", flush=True)
            return 1
        finally:
            zygote.close()
    print(f"chaos seed {seed}: {cycles} kills, {full_windows} disk-full windows, {n_ops} ops, "
          f"attempts {counts}: every invariant held", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
