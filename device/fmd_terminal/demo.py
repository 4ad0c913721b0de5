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

``--second-counter`` (``make run COUNTERS=2``): a real Mosquitto on a loopback port (its own CA and
certificates) makes a site of two counters; this terminal is counter 1, and counter 2 runs in the
background and dispenses one more demo pack, which counter 1 then shows amber "already dispensed at
counter 2 at HH:MM" and does not send (the site ledger).

Options: ``--lang fr|en|de``, ``--events-jsonl PATH``, ``--print-scans``, ``--enrol``, ``--second-counter``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fmd_terminal.config import Config
from fmd_terminal.errors import TerminalError

log = logging.getLogger(__name__)

SEED = 7
SEED_PACKS = 60
DEMO_CLIENT = ("pharmacy-demo", "demo-secret")
OTHER_CLIENT = ("pharmacy-other", "other-secret")

# What the demo says to the person running it, in the terminal's languages (French first).
TEXTS = {
    "fr": {
        "scan.c1": "le code de calibrage C1 : Scanner OK, le profil du lecteur est enregistré",
        "scan.fresh": "une boîte neuve : délivrée, vert",
        "scan.again": "la même boîte à nouveau : déjà délivrée ici (avec l'heure), orange, rien n'est envoyé",
        "scan.site": "une boîte déjà délivrée au comptoir 2 (la seconde caisse) : orange, rien n'est envoyé",
        "second": "démo : comptoir 2 sur le même site (broker MQTT {url}) : il délivre une boîte",
        "scan.elsewhere": "une boîte délivrée par une autre pharmacie : rouge",
        "scan.recalled": "une boîte d'un lot rappelé : rouge",
        "scan.unknown_serial": "un numéro de série inconnu : alerte, rouge",
        "scan.linear": "le code linéaire CIP13 (AIM ]E0) : scanner le Data Matrix, orange",
        "scan.garbled": "un code tronqué : scanner à nouveau, orange",
        "started": "démo : simulateur sur {url}",
        "intro": "Simulateur sur {url} ({n} boîtes de démonstration). Collez un scan puis Entrée ; "
                 "Ctrl+D ou Ctrl+C pour finir.\nScans de démonstration (\\x1d est le séparateur de groupe GS) :",
        "modes": "Codes de mode : FMD-MODE-VERIFY, FMD-MODE-UNDO, FMD-MODE-DISPENSE …",
        "too_few": "le simulateur a créé trop peu de lots pour la démo ({found} sur {wanted}) : relancer make run",
        "setup_failed": "préparation de la démo : la délivrance par l'autre pharmacie a répondu {status} : {body}",
        "error": "démo : {error}",
        "enrol_page": "démo : page d'abonnement {url}/subscribe (courrier {identifier}, FINESS {finess}) ; "
                      "code d'inscription :",
        "enrol_intro": "Un terminal neuf : collez le code d'inscription ci-dessus (valable 15 minutes, une seule "
                       "fois), puis C1 et des boîtes.",
        "no_code": "préparation de la démo : la page d'abonnement n'a montré aucun code d'inscription",
    },
    "en": {
        "scan.c1": "the calibration code C1: Scanner OK, the scanner profile is stored",
        "scan.fresh": "a fresh pack: dispensed, green",
        "scan.again": "the same pack again: already dispensed here (with the time), amber, nothing sent",
        "scan.site": "a pack already dispensed at counter 2 (the second till): amber, nothing sent",
        "second": "demo: counter 2 on the same site (MQTT broker {url}): it dispenses one pack",
        "scan.elsewhere": "a pack another pharmacy dispensed: red",
        "scan.recalled": "a pack of a recalled batch: red",
        "scan.unknown_serial": "an unknown serial number: alert, red",
        "scan.linear": "the linear CIP13 code (AIM ]E0): scan the Data Matrix, amber",
        "scan.garbled": "a garbled code: scan again, amber",
        "started": "demo: simulator on {url}",
        "intro": "Simulator on {url} ({n} demo packs). Paste a scan and press Enter; Ctrl+D or Ctrl+C ends."
                 "\nDemo scans (\\x1d is the group separator GS):",
        "modes": "Mode barcodes: FMD-MODE-VERIFY, FMD-MODE-UNDO, FMD-MODE-DISPENSE …",
        "too_few": "the simulator seeded too few batches for the demo ({found} of {wanted}): run make run again",
        "setup_failed": "demo set-up: the other pharmacy's dispense answered {status}: {body}",
        "error": "demo: {error}",
        "enrol_page": "demo: subscription page {url}/subscribe (letter {identifier}, FINESS {finess}); "
                      "enrolment code:",
        "enrol_intro": "A fresh terminal: paste the enrolment code above (valid 15 minutes, once), then C1 and packs.",
        "no_code": "demo set-up: the subscription page showed no enrolment code",
    },
    "de": {
        "scan.c1": "der Kalibriercode C1: Scanner OK, das Scanner-Profil wird gespeichert",
        "scan.fresh": "eine neue Packung: abgegeben, grün",
        "scan.again": "dieselbe Packung noch einmal: hier bereits abgegeben (mit Uhrzeit), gelb, nichts gesendet",
        "scan.site": "eine an Theke 2 (zweite Kasse) bereits abgegebene Packung: gelb, nichts gesendet",
        "second": "Demo: Theke 2 am selben Standort (MQTT-Broker {url}): sie gibt eine Packung ab",
        "scan.elsewhere": "eine von einer anderen Apotheke abgegebene Packung: rot",
        "scan.recalled": "eine Packung einer zurückgerufenen Charge: rot",
        "scan.unknown_serial": "eine unbekannte Seriennummer: Alarm, rot",
        "scan.linear": "der lineare CIP13-Code (AIM ]E0): Data Matrix scannen, gelb",
        "scan.garbled": "ein verstümmelter Code: erneut scannen, gelb",
        "started": "Demo: Simulator auf {url}",
        "intro": "Simulator auf {url} ({n} Demo-Packungen). Scan einfügen und Enter drücken; Strg+D oder "
                 "Strg+C beendet.\nDemo-Scans (\\x1d ist das Gruppentrennzeichen GS):",
        "modes": "Modus-Codes: FMD-MODE-VERIFY, FMD-MODE-UNDO, FMD-MODE-DISPENSE …",
        "too_few": "der Simulator hat zu wenige Chargen für die Demo angelegt ({found} von {wanted}): make run neu starten",
        "setup_failed": "Demo-Vorbereitung: die Abgabe der anderen Apotheke antwortete {status}: {body}",
        "error": "Demo: {error}",
        "enrol_page": "Demo: Abonnementseite {url}/subscribe (Brief {identifier}, FINESS {finess}); "
                      "Registrierungscode:",
        "enrol_intro": "Ein neues Terminal: den Registrierungscode oben einfügen (15 Minuten gültig, nur einmal), "
                       "dann C1 und Packungen.",
        "no_code": "Demo-Vorbereitung: die Abonnementseite zeigte keinen Registrierungscode",
    },
}


def escaped(raw: str) -> str:
    """A scan as one pasteable line: control characters as ``\\xNN`` escapes (PACK-CODES.md)."""
    return "".join(ch if ch.isprintable() and ch != "\\" else "\\\\" if ch == "\\" else f"\\x{ord(ch):02x}"
                   for ch in raw)


def _distinct_batches(packs: list[dict[str, Any]], n: int, lang: str = "fr") -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    batches: set[tuple[str, str]] = set()
    for pack in packs:
        key = (pack["productCode"], pack["batch"])
        if pack.get("market", "FR") == "FR" and key not in batches:
            batches.add(key)
            chosen.append(pack)
        if len(chosen) == n:
            return chosen
    raise TerminalError(TEXTS[lang]["too_few"].format(found=len(chosen), wanted=n))


def ledger_url(broker: Any, device: str, counter: str) -> str:
    """The ``ledger`` configuration of one demo counter on the demo site's broker."""
    cert, key = broker.identity(device)
    return (f"mqtts://127.0.0.1:{broker.port}?site={broker.site}&device={device}&counter={counter}"
            f"&ca={quote(broker.ca)}&cert={quote(cert)}&key={quote(key)}"
            f"&site_key={quote(str(broker.directory / 'site-ledger.key'))}")


def second_counter(base_url: str, broker: Any, raw: str, state: str, stack: contextlib.ExitStack) -> Any:
    """Counter 2 in the background: it waits for the site broker, dispenses ``raw`` and stops."""
    import threading

    from fmd_terminal import app

    script = os.path.join(state, "counter2.jsonl")
    with open(script, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"raw": raw}) + "\n")
    config = replace(Config(), scanner=f"script://{script}", screen="recording://?render=0", indicators="none://",
                     service=base_url, outbox="memory://", client_id=DEMO_CLIENT[0], client_secret=DEMO_CLIENT[1],
                     sync={"probe_gap_s": 0.05}, ledger=ledger_url(broker, "counter2", "2")).validate()
    terminal = app.build(config, stack)

    def run() -> None:
        terminal.site.link.connected.wait(30)
        terminal.run()

    thread = threading.Thread(target=run, name="counter-2", daemon=True)
    thread.start()
    return thread


def demo_scans(packs: list[dict[str, Any]], lang: str = "fr", second_counter: bool = False) -> list[tuple[str, str]]:
    """(what it shows, in ``lang``; raw scan) for the demo, from the seeded packs (same packs every run)."""
    from fmd_core.calibration import C1

    fresh, dispensed, recalled, *more = _distinct_batches(packs, 4 if second_counter else 3, lang)
    cip13 = fresh["productCode"][1:]
    scans = [
        ("scan.c1", C1),
        ("scan.fresh", fresh["raw"]),
        ("scan.again", fresh["raw"]),
        ("scan.elsewhere", dispensed["raw"]),
        ("scan.recalled", recalled["raw"]),
        ("scan.unknown_serial", fresh["raw"][:-4] + "QQQQ"),
        ("scan.linear", "]E0" + cip13),
        ("scan.garbled", fresh["raw"][:14]),
    ] + [("scan.site", pack["raw"]) for pack in more]  # counter 2 dispenses it (--second-counter)
    return [(TEXTS[lang][what], raw) for what, raw in scans]


def prepare(sim: Any, packs: list[dict[str, Any]], lang: str = "fr") -> None:
    """Another pharmacy dispenses one pack; the manufacturer recalls another's batch."""
    _fresh, dispensed, recalled = _distinct_batches(packs, 3, lang)
    token = sim.token(*OTHER_CLIENT)
    path = "/product/GTIN/{}/pack/{}".format(dispensed["productCode"], quote(dispensed["serial"], safe=""))
    status, _, body = sim.request(
        "PATCH", path, {"batch": dispensed["batch"], "expiry": dispensed["expiry"], "state": "Supplied"},
        {"Authorization": f"Bearer {token}", "emvs-data-entry-mode": "non-manual",
         "X-Client-Trx-Id": "demo0other0pharmacy0dispense01"})
    if status != 200:
        raise TerminalError(TEXTS[lang]["setup_failed"].format(status=status, body=repr(body)))
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
                   client_id=DEMO_CLIENT[0], client_secret=DEMO_CLIENT[1]).validate()


def subscribe(sim: Any, lang: str = "fr") -> tuple[Any, str]:
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
        raise TerminalError(TEXTS[lang]["no_code"])
    return letter, html.unescape(found.group(1))


def run_enrolling(sim: Any, config: Config, interactive: bool) -> int:
    """A fresh terminal: the enrolment screen first, then the counter (``--enrol``)."""
    from fmd_terminal import app
    from fmd_terminal.enrolment_screen import enrol_by_scan

    texts = TEXTS[config.lang]
    letter, code = subscribe(sim, config.lang)
    print(texts["enrol_page"].format(url=sim.base_url, identifier=letter.identifier, finess=letter.finess) + "\n"
          + code, file=sys.stderr, flush=True)
    if interactive:
        print(f"{texts['enrol_intro']}\n  {code}", flush=True)
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
    parser.add_argument("--second-counter", action="store_true",
                        help="a second counter on the same site (a local Mosquitto): the site ledger at work")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _stop_on_sigterm()
    from fmd_terminal import app

    texts = TEXTS[args.lang]
    try:
        with simulator() as sim:
            packs = sim.seeded_packs()
            scans = demo_scans(packs, args.lang, args.second_counter)
            if args.print_scans:
                print("\n".join(escaped(raw) for _, raw in scans))
                return 0
            prepare(sim, packs, args.lang)
            print(texts["started"].format(url=sim.base_url), file=sys.stderr, flush=True)
            interactive = sys.stdin.isatty()
            if interactive:
                print(texts["intro"].format(url=sim.base_url, n=len(packs)))
                for what, raw in scans:
                    print(f"  # {what}\n  {escaped(raw)}")
                print(texts["modes"], flush=True)
            with tempfile.TemporaryDirectory(prefix="fmd-demo-") as state, contextlib.ExitStack() as stack:
                profile = os.path.join(state, "scanner-profile.json")
                config = demo_config(sim.base_url, args.lang, args.events_jsonl, profile)
                if args.enrol:
                    fresh = replace(config, service="", client_id="", client_secret="",
                                    enrolment_dir=os.path.join(state, "enrolled"))
                    return run_enrolling(sim, fresh, interactive)
                if args.second_counter:
                    from fmd_provision.mosquitto import running_site

                    broker = stack.enter_context(running_site(Path(state) / "broker", "demo",
                                                              ["counter1", "counter2"]))
                    print(texts["second"].format(url=f"127.0.0.1:{broker.port}"), file=sys.stderr, flush=True)
                    second_counter(sim.base_url, broker, scans[-1][1], state, stack).join(30)
                    config = replace(config, ledger=ledger_url(broker, "counter1", "1"))
                terminal = app.build(config, stack)
                if args.second_counter:
                    terminal.site.link.connected.wait(30)
                return terminal.run()
    except KeyboardInterrupt:
        return 130
    except TerminalError as error:
        print(texts["error"].format(error=error), file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
