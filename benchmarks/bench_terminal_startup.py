"""Cold start to ready, and resident memory, of ``fmd-terminal run`` (issue 4, "Performance").

The terminal is started as systemd would start it: a child process with ``NOTIFY_SOCKET`` pointing
at a datagram socket of this script; "ready" is the moment ``READY=1`` arrives (after configuration,
every adapter, the outbox and the sync worker are up). Then its peak resident memory (``VmHWM`` of
``/proc/PID/status``) is read, standard input is closed and it exits.

Configuration as on the counter, minus hardware: stdin scanner, console screen (to /dev/null),
no LEDs, SQLite outbox in a temporary directory, the REST client for the simulator on loopback.

Anchors measured in the same run: the bare interpreter (``python -c pass``: start-up time and
VmHWM), i.e. what any Python program pays before its first line. Targets: ready under 1 s,
resident memory under 60 MB.

Usage: ``python benchmarks/bench_terminal_startup.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host")]


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc (Linux only)")


def bare_interpreter() -> tuple[float, int]:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdout.write('x'); sys.stdout.flush(); "
                                "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    process.stdout.read(1)
    took = time.perf_counter() - start
    hwm = vm_hwm_kb(process.pid)
    process.stdin.close()
    process.wait(10)
    process.stdout.close()
    return took, hwm


def terminal(base_url: str, tmp: str, run: int) -> tuple[float, int]:
    address = os.path.join(tmp, f"notify-{run}.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(30)
        env = dict(os.environ, NOTIFY_SOCKET=address, FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret")
        command = [sys.executable, "-m", "fmd_terminal", "run", "--scanner", "stdin://", "--screen", "console://",
                   "--indicators", "none://", "--service", base_url, "--outbox", f"sqlite://{tmp}/outbox-{run}.db"]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
        try:
            while b"READY=1" not in sock.recv(4096):
                pass
            took = time.perf_counter() - start
            hwm = vm_hwm_kb(process.pid)
        finally:
            process.stdin.close()
            process.wait(30)
    return took, hwm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from fmd_simulator.testing import running_simulator

    with running_simulator(separate_process=True) as sim, tempfile.TemporaryDirectory() as tmp:
        ours = [terminal(sim.base_url, tmp, run) for run in range(args.runs)]
    bare = [bare_interpreter() for _ in range(args.runs)]
    ready = statistics.median(t for t, _ in ours)
    anchor = statistics.median(t for t, _ in bare)
    rss = max(m for _, m in ours) / 1024
    rss_anchor = max(m for _, m in bare) / 1024
    print(f"fmd-terminal run, {args.runs} cold starts (median), READY=1 on NOTIFY_SOCKET")
    print(f"{'':<40}{'start s':>9}{'peak RSS MB':>13}")
    print(f"{'terminal: start to READY=1':<40}{ready:>9.3f}{rss:>13.1f}")
    print(f"{'anchor: bare python -c pass':<40}{anchor:>9.3f}{rss_anchor:>13.1f}")
    print(f"ratio terminal/anchor: start {ready / anchor:.1f}x, memory {rss / rss_anchor:.1f}x; "
          f"targets: ready < 1 s {'met' if ready < 1 else 'NOT met'}, RSS < 60 MB {'met' if rss < 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
