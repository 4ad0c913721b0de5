"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``), each in its own process.

Usage: ``python benchmarks/run_all.py [NAME ...]``; a name is ``decoder``, ``bench_decoder`` or
``bench_decoder.py``. Each benchmark runs with this interpreter (the venv's), under a header; a failing
one is reported and the others still run. Exit status 1 if any failed, 2 for an unknown name.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def discover() -> dict[str, pathlib.Path]:
    return {path.stem.removeprefix("bench_"): path for path in sorted(HERE.glob("bench_*.py"))}


def main(argv: list[str]) -> int:
    available = discover()
    chosen = []
    for name in argv:
        key = name.removesuffix(".py").removeprefix("bench_")
        if key not in available:
            print(f"run_all: no benchmark {name!r}; known: {', '.join(available)}", file=sys.stderr)
            return 2
        chosen.append(key)
    failed = []
    for key in chosen or list(available):
        print(f"=== {available[key].name} ===", flush=True)
        started = time.perf_counter()
        status = subprocess.run([sys.executable, str(available[key])], cwd=HERE.parent).returncode
        elapsed = time.perf_counter() - started
        if status != 0:
            failed.append(key)
            print(f"--- {available[key].name} FAILED (exit {status}) after {elapsed:.1f} s", flush=True)
        else:
            print(f"--- {available[key].name} done in {elapsed:.1f} s", flush=True)
    if failed:
        print(f"run_all: {len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
