"""Disk full by fault injection (OFFLINE-QUEUE.md section 9, T4, third source): run under ``fiu-run -x``.

Usage: ``fiu-run -x -f CTRL python fiu_child.py DB``. Reads one command per line on stdin:
``record N`` records N dispenses (printing ``recorded SEQ`` or ``not recorded: MESSAGE``), ``quit``
exits. Between commands the parent turns ENOSPC on writes on and off with ``fiu-ctrl``.
"""

import os
import sys


def main() -> int:
    from fmd_core.service import PackRef
    from fmd_terminal.outbox import OpRequest, StorageFullError
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox

    box = open_sqlite_outbox(sys.argv[1], reserve_bytes=0)
    print(f"ready {os.getpid()}", flush=True)
    count = 0
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        for _ in range(int(command[1])):
            count += 1
            ref = PackRef("GTIN", "03400930000014", f"FIU{count:06d}", "B1", "281231")
            try:
                op = box.record(OpRequest("dispense", ref, "raw", "ph", "deferred")).op
                print(f"recorded {op.seq}", flush=True)
            except StorageFullError as error:
                print(f"not recorded: {error}", flush=True)
        print("done", flush=True)
    box.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
