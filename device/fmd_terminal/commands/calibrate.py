"""``fmd-terminal calibrate``: find out how the scanner is set up, store it, say what to change (issue 8).

For a person at a desk (SCANNERS-AND-HARDWARE.md 3.2): scan the calibration code C1 (and C2 for RS
and EOT) printed on the set-up sheet. The command reads the scanner named by ``--scanner`` (the same
URLs as ``run``: a keyboard-wedge scanner gives its key events, a serial one its exact bytes), or a
recording (``--keys FILE``: JSON lines of ``[code, value]`` or ``{"code": .., "value": ..}``, or a
``--record`` file; one scan ended by Enter), or a scan typed with escapes (``--text '...\\x1d...'``). It infers the keyboard
country, how GS/RS/EOT arrive, case handling, the AIM prefix and the suffix (``fmd_core.calibration``),
stores the profile as JSON (``--profile``), and prints "Scanner OK" or exactly what to change, with
the set-up sheet code to scan, in ``--lang`` (fr, en, de).

``--print-codes`` prints the contents of C1 and C2 (escaped), for the set-up sheet. ``--record FILE``
(evdev scanners) also writes every raw event, the golden recording of SCANNERS-AND-HARDWARE.md 7.4.

Exit status: 0 calibrated and nothing blocks scanning; 1 no calibration code was read, or the
scanner must be changed before scans are sent; 3 configuration or device error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from fmd_terminal.errors import ConfigError
from fmd_terminal.scanners.guarded import load_profile  # noqa: F401  (re-exported for callers)

DEFAULT_PROFILE = "scanner-profile.json"
LANGUAGES = ("fr", "en", "de")

LABELS = {
    "fr": {
        "scan": "Scanner le code de calibrage C1 (puis C2) de la feuille de configuration…",
        "not_calibration": "Ce n'est pas un code de calibrage",
        "read": "Code {code} lu : clavier {layout}, préfixe AIM {aim}, casse {case}, suffixe {suffix}, GS {gs}",
        "none": "Aucun code de calibrage lu",
        "saved": "Profil enregistré : {path}",
        "scanner_fault": "Lecteur : {text}",
        "cannot_read": "l'enregistrement de touches {path} est illisible ({why}) : vérifier le chemin",
        "record_needs_evdev": "--record demande un lecteur evdev:// (touches brutes), pas {url}",
        "cannot_write": "impossible d'écrire l'enregistrement {path} ({why}) : choisir un dossier accessible",
        "yes": "oui",
        "no": "non",
        "unknown": "inconnu",
        "case.normal": "normale",
        "case.inverted": "inversée (Verr. Maj)",
        "case.upper": "tout en majuscules",
        "case.lower": "tout en minuscules",
        "suffix.none": "aucun",
        "control.ctrl": "Ctrl+]",
        "control.ctrl_layout": "Ctrl + touche du clavier du lecteur",
        "control.alt": "Alt + pavé numérique",
        "control.byte": "caractère exact",
        "control.dropped": "supprimé",
        "control.substitute": "remplacé par « {char} »",
        "control.function": "touche de fonction {key}",
    },
    "en": {
        "scan": "Scan calibration code C1 (then C2) from the set-up sheet…",
        "not_calibration": "This is not a calibration code",
        "read": "Code {code} read: keyboard {layout}, AIM prefix {aim}, case {case}, suffix {suffix}, GS {gs}",
        "none": "No calibration code was read",
        "saved": "Profile saved: {path}",
        "scanner_fault": "Scanner: {text}",
        "cannot_read": "key recording {path} cannot be read ({why}): check the path",
        "record_needs_evdev": "--record needs an evdev:// scanner (raw key events), not {url}",
        "cannot_write": "recording {path} cannot be written ({why}): choose a writable folder",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "case.normal": "normal",
        "case.inverted": "inverted (Caps Lock)",
        "case.upper": "all upper case",
        "case.lower": "all lower case",
        "suffix.none": "none",
        "control.ctrl": "Ctrl+]",
        "control.ctrl_layout": "Ctrl + the scanner keyboard's key",
        "control.alt": "Alt + numeric keypad",
        "control.byte": "exact character",
        "control.dropped": "dropped",
        "control.substitute": "replaced by '{char}'",
        "control.function": "function key {key}",
    },
    "de": {
        "scan": "Kalibriercode C1 (dann C2) vom Einrichtungsblatt scannen…",
        "not_calibration": "Das ist kein Kalibriercode",
        "read": "Code {code} gelesen: Tastatur {layout}, AIM-Präfix {aim}, Schreibung {case}, Suffix {suffix}, GS {gs}",
        "none": "Kein Kalibriercode gelesen",
        "saved": "Profil gespeichert: {path}",
        "scanner_fault": "Scanner: {text}",
        "cannot_read": "Tastenaufzeichnung {path} nicht lesbar ({why}): Pfad prüfen",
        "record_needs_evdev": "--record braucht einen evdev://-Scanner (rohe Tastenereignisse), nicht {url}",
        "cannot_write": "Aufzeichnung {path} nicht schreibbar ({why}): einen beschreibbaren Ordner wählen",
        "yes": "ja",
        "no": "nein",
        "unknown": "unbekannt",
        "case.normal": "normal",
        "case.inverted": "vertauscht (Feststelltaste)",
        "case.upper": "nur Großbuchstaben",
        "case.lower": "nur Kleinbuchstaben",
        "suffix.none": "keiner",
        "control.ctrl": "Strg+]",
        "control.ctrl_layout": "Strg + Taste der Scanner-Tastatur",
        "control.alt": "Alt + Ziffernblock",
        "control.byte": "exaktes Zeichen",
        "control.dropped": "weggelassen",
        "control.substitute": "ersetzt durch '{char}'",
        "control.function": "Funktionstaste {key}",
    },
}


def default_profile_path() -> str:
    """``$STATE_DIRECTORY/scanner-profile.json`` under systemd, else the current directory."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return os.path.join(state, DEFAULT_PROFILE) if state else DEFAULT_PROFILE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scanner", metavar="URL", help="scanner URL (evdev://..., serial://..., stdin://)")
    source.add_argument("--keys", metavar="FILE", help="recorded key events: JSON lines of [code, value], or a --record file")
    source.add_argument("--text", metavar="SCAN", help="a scan with \\x1d-style escapes (serial or typed)")
    source.add_argument("--print-codes", action="store_true", help="print the contents of C1 and C2")
    parser.add_argument(
        "--profile", metavar="PATH", help=f"where the profile is stored (default {default_profile_path()})"
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, help="language of the messages (default: FMD_LANG, else fr)"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the codes (--scanner)"
    )
    parser.add_argument(
        "--c1-only",
        action="store_true",
        help="stop after C1 (--scanner); how RS and EOT arrive then stays unknown",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="with an evdev:// scanner: also write every raw event as JSON lines (a golden recording)",
    )


def _read_keys_file(path: str, lang: str) -> list[tuple[int, int]]:
    """The key events of a recording (``scanners.key_recording``: plain ``[code, value]`` lines or a
    ``--record`` file); a line that is no event is a configuration error naming it."""
    from fmd_core.keyboard import codes
    from fmd_terminal.scanners.key_recording import RecordingProblem, read_recording

    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        why = error.strerror or error
        raise ConfigError(LABELS[lang]["cannot_read"].format(path=repr(path), why=why)) from error
    events = []
    for item in read_recording(lines):
        if isinstance(item, RecordingProblem):
            raise ConfigError(f"{path}: {item.text(lang)}")
        if item.type == codes.EV_KEY:
            events.append((item.code, item.value))
    return events


def _word(labels: dict[str, str], group: str, value: str) -> str:
    """A profile value for a person: ``case.inverted`` -> "inversée (Verr. Maj)"; suffix names such
    as CR stay as the scanner's manual writes them; anything unforeseen is "unknown" in words."""
    if value == "unknown":
        return labels["unknown"]
    return labels.get(f"{group}.{value}", value if group == "suffix" and value.isupper() else labels["unknown"])


def _control(labels: dict[str, str], method: str) -> str:
    """How a control character arrives (``fmd_core.calibration`` methods), in words."""
    from fmd_core.calibration import SUBSTITUTE

    if method.startswith(SUBSTITUTE):
        return labels["control.substitute"].format(char=method[len(SUBSTITUTE):])
    if method.startswith("function:"):
        return labels["control.function"].format(key=method.split(":", 1)[1])
    return _word(labels, "control", method)


def _describe(calibration: Any, lang: str) -> str:
    from fmd_core.calibration import layout_name

    labels = LABELS[lang]
    profile = calibration.profile
    return labels["read"].format(
        code=calibration.code,
        layout=layout_name(profile, lang) if profile.layout else "-",
        aim=labels["yes"] if profile.aim else labels["no"],
        case=_word(labels, "case", profile.case),
        suffix=_word(labels, "suffix", profile.suffix),
        gs=_control(labels, profile.control("GS")),
    )


def _scans_from_scanner(
    url: str, timeout_s: float, lang: str, recorded: list | None = None, seen: list | None = None
):
    """Yield each scan (key events or text) until C1 and C2 were read or ``timeout_s`` passed.

    With ``recorded`` (a list), an evdev scanner's raw events are appended to it as they arrive, and
    ``seen`` gets ``[kind, text]`` of every scan or fault the adapter framed from them.
    """
    from fmd_terminal.scanners import END, FAULT, SCAN
    from fmd_terminal.scanners.factory import open_scanner
    from fmd_terminal.urls import scheme_of

    print(LABELS[lang]["scan"], file=sys.stderr)
    if recorded is not None:
        if scheme_of(url) != "evdev":
            raise ConfigError(LABELS[lang]["record_needs_evdev"].format(url=repr(url)))
        source = open_scanner(url, recorder=lambda *event: recorded.append(list(event)))
    else:
        source = open_scanner(url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            event = source.read(min(0.5, max(0.0, deadline - time.monotonic())))
            if event is None:
                continue
            if event.kind == END:
                return
            if seen is not None and event.kind in (SCAN, FAULT):
                seen.append([event.kind, event.text])
            if event.kind == FAULT and event.keys is not None:
                yield event.keys  # keys the configured layout cannot read: calibration tries them all
            elif event.kind == FAULT:
                print(LABELS[lang]["scanner_fault"].format(text=event.text), file=sys.stderr)
            elif event.kind == SCAN:
                yield event.keys if event.keys is not None else event.text
    finally:
        source.close()


def calibrate(scans, lang: str, wanted: frozenset = frozenset({"C1", "C2"})):
    """The merged profile of the calibration codes among ``scans`` (C1's layout wins), or None."""
    from fmd_core.calibration import infer_keys, infer_text
    from fmd_terminal.scanners.guarded import combine

    profile = None
    seen = set()
    for scan in scans:
        found = infer_text(scan, suffix="unknown") if isinstance(scan, str) else infer_keys(scan)
        if found is None:
            print(LABELS[lang]["not_calibration"], file=sys.stderr)
            continue
        print(_describe(found, lang))
        seen.add(found.code)
        profile = combine(profile, found.code, found.profile)
        if wanted <= seen:
            break
    return profile


def _write_recording(path: str, url: str, profile: Any, events: list, seen: list, lang: str) -> None:
    """The dumper format of SCANNERS-AND-HARDWARE.md 7.4: a header object (with ``expected``, the
    ``[kind, text]`` the adapter framed), then one ``[sec, usec, type, code, value]`` per line;
    tests/terminal/scanners replays every recording in ``tests/recordings`` (through evdev and ``keys://``)."""
    header = {
        "synthetic": False,
        "scanner": url,
        "expected": seen,
        "profile": profile.as_dict() if profile else None,
    }
    if profile is not None:
        header.update(layout=profile.layout, gs=profile.control("GS"))
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(json.dumps(header) + "\n")
            for event in events:
                out.write(json.dumps(event) + "\n")
    except OSError as error:
        raise ConfigError(LABELS[lang]["cannot_write"].format(path=repr(path), why=error.strerror or error)) from error


def execute(args: argparse.Namespace) -> int:
    from fmd_core.calibration import C1, C2, advice, is_blocking
    from fmd_core.keyboard import describe
    from fmd_terminal.outbox.texts import language
    from fmd_terminal.scanners.guarded import save_profile
    from fmd_terminal.scanners.stdin import unescape

    lang = language(args.lang)  # --lang, else FMD_LANG, else French
    if args.print_codes:
        print("C1", describe(C1))
        print("C2", describe(C2))
        return 0
    if args.keys:
        scans: Any = [_read_keys_file(args.keys, lang)]
    elif args.text is not None:
        scans = [unescape(args.text)]
    else:
        recorded: list | None = [] if args.record else None
        seen: list = []
        scans = _scans_from_scanner(args.scanner or "stdin://", args.timeout, lang, recorded, seen)
    profile = calibrate(scans, lang, frozenset({"C1"}) if args.c1_only else frozenset({"C1", "C2"}))
    if args.record and not args.keys and args.text is None:
        _write_recording(args.record, args.scanner, profile, recorded or [], seen, lang)
    if profile is None:
        print(LABELS[lang]["none"])
        return 1
    path = args.profile or default_profile_path()
    save_profile(profile, path)
    for line in advice(profile, lang):
        print(line)
    print(LABELS[lang]["saved"].format(path=path), file=sys.stderr)
    return 1 if is_blocking(profile) else 0
