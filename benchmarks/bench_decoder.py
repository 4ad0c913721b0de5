"""Decoder benchmark: fmd_core.decode_scan beside biip 5.2 on the same FMD codes, same process.

PACK-CODES.md, "Speed"; issue 2, "Performance". A fixed-seed mix of realistic codes: GS1 Data
Matrix element strings (random AI order, with and without NHRN, French and German NTINs), GS1
Digital Link URIs and IFA format 06 envelopes. For each code, the time per call is the mean of
``--repeat`` calls (the two decoders take turns code by code); the figure is the median over the
codes. The anchor is biip 5.2 on the same inputs in the same run (biip has no IFA parser: it returns an error result for those, which is timed
too). Then the same inputs under the MicroPython unix port (``micropython`` from the venv).

Usage: ``python benchmarks/bench_decoder.py [--codes 1200] [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "device"))

from fmd_core import decode_scan  # noqa: E402
from fmd_core.check_digits import gs1_check_digit, ppn_check_digits  # noqa: E402

GS, RS, EOT = "\x1d", "\x1e", "\x04"
TARGET_RATIO = 5.0
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

MICROPYTHON_TIMER = """
import sys, json, time
sys.path.insert(0, sys.argv[1])
from fmd_core import decode_scan
codes = json.load(open(sys.argv[2]))
repeat = int(sys.argv[3])
times = []
for raw in codes:
    start = time.ticks_us()
    for _ in range(repeat):
        decode_scan(raw)
    times.append(time.ticks_diff(time.ticks_us(), start) / repeat)
times.sort()
print(json.dumps(times))
"""


def _text(rnd: random.Random, low: int, high: int) -> str:
    return "".join(rnd.choice(ALNUM) for _ in range(rnd.randint(low, high)))


def _gtin(rnd: random.Random) -> str:
    body = rnd.choice(["0340093", "0415003", "0400638", "0540000"]) + "".join(
        rnd.choice("0123456789") for _ in range(6)
    )
    return body + str(gs1_check_digit(body))


def _expiry(rnd: random.Random) -> str:
    return f"{rnd.randint(26, 31):02d}{rnd.randint(1, 12):02d}{rnd.choice([0, rnd.randint(1, 28)]):02d}"


def make_codes(count: int, seed: int = 20161) -> list[tuple[str, str]]:
    """(kind, raw) pairs: 50% GS1 DM, 20% GS1 DM + NHRN, 15% Digital Link, 15% IFA."""
    rnd = random.Random(seed)
    codes = []
    for index in range(count):
        share = index % 20
        gtin, serial, batch, expiry = _gtin(rnd), _text(rnd, 8, 20), _text(rnd, 4, 10), _expiry(rnd)
        if share < 14:
            fixed = ["01" + gtin, "17" + expiry]
            variable = ["10" + batch, "21" + serial]
            kind = "gs1"
            if share >= 10:
                variable.append(rnd.choice(["710", "711", "714"]) + _text(rnd, 7, 13))
                kind = "gs1+nhrn"
            rnd.shuffle(variable)
            raw = "]d2" + "".join(fixed) + GS.join(variable)
        elif share < 17:
            kind = "digital-link"
            raw = f"https://id.gs1.org/01/{gtin}/10/{batch}/21/{serial}?17={expiry}"
        else:
            kind = "ifa"
            pzn7 = "".join(rnd.choice("0123456789") for _ in range(7))
            check = sum(int(d) * (i + 1) for i, d in enumerate(pzn7)) % 11
            if check == 10:
                pzn7, check = "0375286", 4
            data = "11" + pzn7 + str(check)
            ppn = data + ppn_check_digits(data)
            raw = (
                "]d1[)>"
                + RS
                + "06"
                + GS
                + GS.join(["9N" + ppn, "1T" + batch, "D" + expiry, "S" + serial])
                + RS
                + EOT
            )
        codes.append((kind, raw))
    return codes


def time_each(functions, codes: list[str], repeat: int) -> list[list[float]]:
    """Microseconds per call (mean of ``repeat`` calls) of each function on each code.

    The functions take turns code by code, so a change in machine load hits both alike.
    """
    clock = time.perf_counter
    times: list[list[float]] = [[] for _ in functions]
    for raw in codes:
        for function, sink in zip(functions, times, strict=True):
            start = clock()
            for _ in range(repeat):
                function(raw)
            sink.append((clock() - start) / repeat * 1e6)
    return times


def micropython_times(codes: list[str], repeat: int) -> list[float] | None:
    binary = pathlib.Path(sys.executable).parent / "micropython"
    if not binary.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="fmd-bench-") as tmp:
        (pathlib.Path(tmp) / "codes.json").write_text(json.dumps(codes))
        (pathlib.Path(tmp) / "timer.py").write_text(MICROPYTHON_TIMER)
        run = subprocess.run(
            [str(binary), "-X", "heapsize=16M", "timer.py", str(ROOT / "device"), "codes.json", str(repeat)],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if run.returncode != 0:
        print(run.stderr.strip(), file=sys.stderr)
        return None
    return json.loads(run.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    import biip

    pairs = make_codes(args.codes)
    codes = [raw for _kind, raw in pairs]
    rejected = [raw for raw in codes if not decode_scan(raw).ok]
    if rejected:
        print(
            f"bench_decoder: {len(rejected)} generated codes do not decode, e.g. {rejected[0]!r}",
            file=sys.stderr,
        )
        return 1
    kinds = {}
    for kind, _raw in pairs:
        kinds[kind] = kinds.get(kind, 0) + 1

    def biip_parse(raw: str):
        try:
            return biip.parse(raw)
        except biip.ParseError:  # biip raises for some inputs; fmd_core returns a failure instead
            return None

    for raw in codes[:50]:  # warm both up (imports, caches) before timing
        decode_scan(raw)
        biip_parse(raw)
    ours, theirs = time_each((decode_scan, biip_parse), codes, args.repeat)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    ratio = theirs_median / ours_median

    print(f"inputs: {len(codes)} FMD codes, " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    print(f"fmd_core decode_scan (CPython {sys.version.split()[0]}): median {ours_median:6.2f} us/code")
    print(f"biip {biip.__version__} parse (anchor, same inputs):   median {theirs_median:6.2f} us/code")
    print(f"ratio biip / fmd_core: {ratio:.1f} (fmd_core {ratio:.1f}x faster; target >= {TARGET_RATIO:.0f}x)")
    for kind in kinds:
        index = [i for i, (k, _raw) in enumerate(pairs) if k == kind]
        ours_kind = statistics.median(ours[i] for i in index)
        theirs_kind = statistics.median(theirs[i] for i in index)
        print(
            f"  {kind:13s} fmd_core {ours_kind:6.2f} us, biip {theirs_kind:6.2f} us, ratio {theirs_kind / ours_kind:5.1f}x"
        )
    mp = micropython_times(codes, max(1, args.repeat // 4))
    if mp is None:
        print("MicroPython: not measured (micropython missing or failed)")
        return 1
    mp_median = statistics.median(mp)
    print(
        f"fmd_core decode_scan (MicroPython unix port): median {mp_median:6.2f} us/code "
        f"({mp_median / ours_median:.1f}x CPython)"
    )
    if os.environ.get("FMD_BENCH_STRICT") and ratio < TARGET_RATIO:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
