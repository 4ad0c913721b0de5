"""The queue service as a child process, for the kill -9 loop (OFFLINE-QUEUE.md section 9, T2).

The real outbox (``sqlite://``), the real sync worker on its own thread and the real REST client,
driven by a scripted scanner: a workload file of JSON lines ``{"kind", "scheme", "productCode",
"serial", "batch", "expiry"}``. The child continues the workload where the database stands (each
workload line becomes exactly one op, so the op count is the position) and prints, flushed::

    ready <pid>
    recorded <seq> <op_id> <kind> <pack_key>     after the commit returned (the "result shown")
    refused <index> <reason>                       a local refusal (logged to DB.skips first)
    settled <seq> <state>                          for a live answer in time

The parent SIGKILLs it at random moments. Usage::

    queue_service.py DB SERVICE_URL WORKLOAD [--gap-ms 5] [--drain]

``queue_service.py --zygote`` forks such children on request (see ``zygote``).
``--drain``: record nothing, run the worker until nothing is pending, print ``drained`` and exit.
Credentials come from ``FMD_CLIENT_ID`` / ``FMD_CLIENT_SECRET``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def preload() -> None:
    """Import everything a child needs, so that a forked child starts in milliseconds."""
    import fmd_terminal.outbox.sqlite  # noqa: F401
    import fmd_terminal.outbox.sync  # noqa: F401
    import fmd_terminal.verification.factory  # noqa: F401


def zygote() -> int:
    """Fork children on request (``spawn FIFO JSON-ARGS`` -> ``pid N``; ``wait N`` -> ``status N CODE``).

    The zygote imports the modules and opens nothing: no database, no socket and no thread crosses
    the fork (SQLite, "How To Corrupt": no connection used across fork()). Each child is a real
    process with its own outbox connection, killed by the parent with SIGKILL.
    """
    preload()
    sys.stdout.write("zygote ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command == "spawn":
            fifo, _, argv = rest.partition(" ")
            pid = os.fork()
            if pid == 0:
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                out = os.open(fifo, os.O_WRONLY)
                os.dup2(out, 1)
                err = os.open(fifo + ".err", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(err, 2)
                sys.stdin = open(os.devnull)  # noqa: SIM115
                sys.stdout = os.fdopen(1, "w", buffering=1)
                sys.stderr = os.fdopen(2, "w", buffering=1)
                code = 1
                try:
                    code = main(json.loads(argv))
                finally:
                    sys.stdout.flush()
                    os._exit(code)
            sys.stdout.write(f"pid {pid}\n")
        elif command == "wait":
            pid = int(rest)
            _, status = os.waitpid(pid, 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            sys.stdout.write(f"status {pid} {code}\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("service")
    parser.add_argument("workload")
    parser.add_argument("--gap-ms", type=float, default=5.0)
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--fsize-limit", type=int, default=0, help="RLIMIT_FSIZE in bytes (a disk-full window)")
    args = parser.parse_args(argv)

    from fmd_core.service import PackRef
    from fmd_terminal.outbox import OpRequest, StorageFullError
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
    from fmd_terminal.verification.factory import open_service

    out = sys.stdout
    box = open_sqlite_outbox(args.db, reserve_bytes=0)
    service = open_service(args.service, client_id=os.environ["FMD_CLIENT_ID"],
                           client_secret=os.environ["FMD_CLIENT_SECRET"],
                           timeouts={"connect": 2.0, "read": 2.0, "total": 4.0})
    # Shortened CI timings (section 9, I7); small recovery batches so kills land during polls too.
    settings = SyncSettings(rate=200.0, burst=20.0, quiet_s=0.5, start_jitter_s=0.05, bulk_threshold=8,
                            batch_size=8, poll_first_s=0.02, poll_cap_s=0.1, breaker_open_s=0.2,
                            probe_gap_s=0.01, backoff_base_s=0.02)
    worker = SyncWorker(box, service, settings=settings)
    if args.fsize_limit:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize_limit, args.fsize_limit))
    out.write(f"ready {os.getpid()}\n")
    out.flush()
    if args.drain:
        drained = worker.run_until_drained(args.timeout, sleep=lambda s: time.sleep(min(s, 0.02)))
        out.write("drained\n" if drained else f"not drained: {box.pending_count()} pending\n")
        out.flush()
        box.close()
        return 0 if drained else 1
    worker.start()
    with open(args.workload, encoding="utf-8") as f:
        workload = [json.loads(line) for line in f if line.strip()]
    skips_path = args.db + ".skips"
    skipped = 0
    if os.path.exists(skips_path):
        with open(skips_path, encoding="utf-8") as f:
            skipped = len(f.read().split())
    done = len(box.ops()) + skipped
    for index, item in enumerate(workload[done:], start=done):
        ref = PackRef(item["scheme"], item["productCode"], item["serial"], item["batch"], item["expiry"])
        origin = "live" if item.get("live") else "deferred"
        try:
            result = box.record(OpRequest(item["kind"], ref, item.get("raw", ""), "kill-test", origin))
        except StorageFullError as error:  # "NOT RECORDED - storage full": the pharmacist keeps the pack aside
            out.write(f"not recorded {index} {error}\n")
            out.flush()
            break  # scanning stops while the storage is full; syncing goes on
        if result.op is None:  # e.g. an undo of a pack whose dispense is uncertain after a kill
            with open(skips_path, "a", encoding="utf-8") as f:
                f.write(f"{index}\n")
                f.flush()
                os.fsync(f.fileno())
            out.write(f"refused {index} {result.refusal.reason}\n")
            out.flush()
            continue
        op = result.op
        out.write(f"recorded {op.seq} {op.op_id} {op.kind} {op.pack.pack_key}\n")
        out.flush()
        if origin == "live":
            settled = worker.send_live(op, 0.2)
            if settled is not None:
                out.write(f"settled {op.seq} {settled.state}\n")
                out.flush()
        time.sleep(args.gap_ms / 1000)
    out.write("workload done\n")
    out.flush()
    while True:  # keep syncing until killed
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(zygote() if sys.argv[1:] == ["--zygote"] else main())
