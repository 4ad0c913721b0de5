"""Disk full by ``RLIMIT_FSIZE`` (OFFLINE-QUEUE.md section 9, T4): a child that records until refused.

Usage: ``disk_full_child.py DB LIMIT_BYTES N``. Sets the file-size limit, ignores SIGXFSZ (so a
write past the limit fails with EFBIG instead of killing the process), then records up to N
dispenses, printing ``recorded SEQ`` or ``not recorded: MESSAGE`` for each, flushed.
"""

import resource
import signal
import sys


def main() -> int:
    db, limit, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from fmd_core.service import PackRef
    from fmd_terminal.outbox import OpRequest, StorageFullError
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox

    box = open_sqlite_outbox(db, reserve_bytes=0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for i in range(n):
        ref = PackRef("GTIN", "03400930000014", f"FULL{i:06d}" + "x" * 40, "B1", "281231")
        try:
            op = box.record(OpRequest("dispense", ref, "raw" * 50, "ph", "deferred")).op
        except StorageFullError as error:
            print(f"not recorded: {error}", flush=True)
            continue
        print(f"recorded {op.seq}", flush=True)
    try:
        box.close()
    except Exception as error:  # closing a full database may fail too; the parent checks the file
        print(f"close: {error}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
