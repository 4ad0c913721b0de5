"""``make run``: the terminal on its embedded default (issue 4, item 6).

Starts the verification-service simulator as a child process on a loopback port, seeded with demo
packs, prepares a few of them (one already dispensed by another pharmacy, one batch recalled), prints
a handful of demo scans to paste, then runs the terminal in this process with the console screen,
reading scans from standard input (``\\x1d`` stands for the group separator).

The scanner is guarded by a scanner profile in a temporary directory (issue 8): the first demo scan
is the calibration code C1 as a scanner with the AIM prefix on sends it, which creates the profile
and shows "Scanner OK"; from then on every scan is checked against it, so the demo's scans carry
their AIM prefixes (``]d2`` for the Data Matrix, ``]E0`` for the linear EAN-13).

``make run < scans.txt`` replays a file and exits after the last result; the demo scans are the same
every run (the simulator seeds deterministically), so ``python -m fmd_terminal.demo --print-scans >
scans.txt`` writes such a file. Ctrl+C, end of input or SIGTERM stop both processes.

``--enrol`` (``make run ENROL=1``) starts as a fresh terminal instead (issue 14): no credentials, the
screen asks "Scannez le code d'inscription". The demo subscribes the first seeded onboarding letter on
the simulator's subscription page (``/subscribe``, which can also be opened in a browser) and prints
the one-time enrolment code's text to paste; the terminal makes its key, enrols, and carries on.

Options: ``--lang fr|en|de``, ``--events-jsonl PATH``, ``--print-scans``, ``--enrol``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fmd_terminal.config import Config
from fmd_terminal.errors import TerminalError

log = logging.getLogger(__name__)

SEED = 7
SEED_PACKS = 60
DEMO_CLIENT = ("pharmacy-demo", "demo-secret")
OTHER_CLIENT = ("pharmacy-other", "other-secret")


def escaped(raw: str) -> str:
    """A scan as one pasteable line: control characters as ``\\xNN`` escapes (PACK-CODES.md)."""
    return "".join(ch if ch.isprintable() and ch != "\\" else "\\\\" if ch == "\\" else f"\\x{ord(ch):02x}"
                   for ch in raw)


def _distinct_batches(packs: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    batches: set[tuple[str, str]] = set()
    for pack in packs:
        key = (pack["productCode"], pack["batch"])
        if pack.get("market", "FR") == "FR" and key not in batches:
            batches.add(key)
            chosen.append(pack)
        if len(chosen) == n:
            return chosen
    raise TerminalError(f"the simulator seeded too few batches for the demo ({len(chosen)} of {n})")


def demo_scans(packs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(what it shows, raw scan) for the demo, from the seeded packs (same packs every run)."""
    from fmd_core.calibration import C1

    fresh, dispensed, recalled = _distinct_batches(packs, 3)
    cip13 = fresh["productCode"][1:]
    return [
        ("the calibration code C1: Scanner OK, the scanner profile is stored", C1),
        ("a fresh pack: dispensed, green", fresh["raw"]),
        ("the same pack again: shown again, nothing sent", fresh["raw"]),
        ("a pack another pharmacy dispensed: red", dispensed["raw"]),
        ("a pack of a recalled batch: red", recalled["raw"]),
        ("an unknown serial number: alert, red", fresh["raw"][:-4] + "QQQQ"),
        ("the linear CIP13 code (AIM ]E0): scan the Data Matrix, amber", "]E0" + cip13),
        ("a garbled code: scan again, amber", fresh["raw"][:14]),
    ]


def prepare(sim: Any, packs: list[dict[str, Any]]) -> None:
    """Another pharmacy dispenses one pack; the manufacturer recalls another's batch."""
    _fresh, dispensed, recalled = _distinct_batches(packs, 3)
    token = sim.token(*OTHER_CLIENT)
    path = "/product/GTIN/{}/pack/{}".format(dispensed["productCode"], quote(dispensed["serial"], safe=""))
    status, _, body = sim.request(
        "PATCH", path, {"batch": dispensed["batch"], "expiry": dispensed["expiry"], "state": "Supplied"},
        {"Authorization": f"Bearer {token}", "emvs-data-entry-mode": "non-manual",
         "X-Client-Trx-Id": "demo0other0pharmacy0dispense01"})
    if status != 200:
        raise TerminalError(f"demo set-up: the other pharmacy's dispense answered {status}: {body!r}")
    sim.admin("POST", "/admin/batches/GTIN/{}/{}/recall".format(recalled["productCode"], quote(recalled["batch"])))


@contextlib.contextmanager
def simulator() -> Iterator[Any]:
    from fmd_simulator.testing import running_simulator

    with running_simulator(seed_packs=SEED_PACKS, seed=SEED, separate_process=True) as sim:
        yield sim


def demo_config(base_url: str, lang: str, events_jsonl: str, profile: str) -> Config:
    """The demo's configuration; ``profile``: where the scanner profile is stored (a temporary file)."""
    scanner = f"stdin://?escapes=1&profile={quote(profile)}&lang={lang}"
    return replace(Config(), scanner=scanner, screen="console://", indicators="none://",
                   service=base_url, outbox="memory://", lang=lang, events_jsonl=events_jsonl,
                   client_id=DEMO_CLIENT[0], client_secret=DEMO_CLIENT[1],
                   # a loopback simulator: close the start-up breaker in 0.1 s instead of 4 s
                   sync={"probe_gap_s": 0.05}).validate()


def subscribe(sim: Any) -> tuple[Any, str]:
    """Subscribe the first seeded letter on the simulator's page; (the letter, the enrolment code's text)."""
    import html
    import re
    import urllib.request
    from urllib.parse import urlencode

    from fmd_simulator.enrolment import letters

    letter = letters(SEED, 1)[0]
    form = urlencode({"identifier": letter.identifier, "finess": letter.finess, "route": "direct"}).encode()
    with urllib.request.urlopen(sim.base_url + "/subscribe", data=form, timeout=30) as page:  # loopback only
        found = re.search(r'<code id="enrolment-text">([^<]+)</code>', page.read().decode("utf-8"))
    if found is None:
        raise TerminalError("demo set-up: the subscription page showed no enrolment code")
    return letter, html.unescape(found.group(1))


def run_enrolling(sim: Any, config: Config, interactive: bool) -> int:
    """A fresh terminal: the enrolment screen first, then the counter (``--enrol``)."""
    from fmd_terminal import app
    from fmd_terminal.enrolment_screen import enrol_by_scan

    letter, code = subscribe(sim)
    print(f"demo: subscription page {sim.base_url}/subscribe (letter {letter.identifier}, "
          f"FINESS {letter.finess}); enrolment code:\n{code}", file=sys.stderr, flush=True)
    if interactive:
        print(f"A fresh terminal: paste the enrolment code above (valid 15 minutes, once), then C1 and packs.\n"
              f"  {code}", flush=True)
    with contextlib.ExitStack() as stack:
        settings, scanner = enrol_by_scan(config, stack)
        return app.build(settings.validate(), stack, scanner=scanner).run()


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fmd_terminal.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("fr", "en", "de"), default="fr")
    parser.add_argument("--events-jsonl", default="", metavar="PATH")
    parser.add_argument("--print-scans", action="store_true", help="print the demo scans, one per line, and exit")
    parser.add_argument("--enrol", action="store_true", help="start as a fresh terminal: enrol by scanning first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _stop_on_sigterm()
    from fmd_terminal import app

    try:
        with simulator() as sim:
            packs = sim.seeded_packs()
            scans = demo_scans(packs)
            if args.print_scans:
                print("\n".join(escaped(raw) for _, raw in scans))
                return 0
            prepare(sim, packs)
            print(f"demo: simulator on {sim.base_url}", file=sys.stderr, flush=True)
            interactive = sys.stdin.isatty()
            if interactive:
                print(f"Simulator on {sim.base_url} ({len(packs)} demo packs). Paste a scan and press Enter;"
                      " Ctrl+D or Ctrl+C ends.\nDemo scans (\\x1d is the group separator):")
                for what, raw in scans:
                    print(f"  # {what}\n  {escaped(raw)}")
                print("Mode barcodes: FMD-MODE-VERIFY, FMD-MODE-UNDO, FMD-MODE-DISPENSE ...", flush=True)
            with tempfile.TemporaryDirectory(prefix="fmd-demo-") as state, contextlib.ExitStack() as stack:
                profile = os.path.join(state, "scanner-profile.json")
                config = demo_config(sim.base_url, args.lang, args.events_jsonl, profile)
                if args.enrol:
                    fresh = replace(config, service="", client_id="", client_secret="",
                                    enrolment_dir=os.path.join(state, "enrolled"))
                    return run_enrolling(sim, fresh, interactive)
                terminal = app.build(config, stack)
                return terminal.run()
    except KeyboardInterrupt:
        return 130
    except TerminalError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
