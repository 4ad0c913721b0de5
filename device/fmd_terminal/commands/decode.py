"""``fmd-terminal decode``: pack codes in, decoder results out (PACK-CODES.md, "Result contract").

Two ways to use it:

- JSON lines (default): standard input holds one scan per line, ``{"raw": "..."}`` with control
  characters as JSON escapes (``"\\u001d"``) and optionally ``"substitutes": [...]`` for that line.
  Each line gets exactly one output line, ``decode_scan(raw).as_dict()`` as JSON. A line that is not
  a JSON object with a string ``raw`` gets ``{"line": N, "input_error": "..."}`` (it is not a scan,
  so it gets none of the contract's reason codes) and the run goes on. Blank lines are skipped.
- ``--text SCAN``: one scan for a person, printed readably in ``--lang`` (fr, en, de; default fr).
  Escapes ``\\x1d``, ``\\u001d``, ``\\\\``, ``\\r``, ``\\n``, ``\\t`` and ``<GS>``, ``<RS>``,
  ``<EOT>``, ``<CR>``, ``<LF>`` stand for control characters.

``--substitutes S [S ...]`` sets the keyboard-wedge stand-ins for GS (none given: GS only; option
absent: the default list). The sliding century window uses this machine's current year.

Exit status: 0 when every input line was readable (JSON lines) or the scan decoded (``--text``);
1 when an input line was unreadable or the ``--text`` scan was rejected; 3 for a bad ``--text`` escape.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from fmd_terminal.errors import ConfigError

LANGUAGES = ("fr", "en", "de")

# What a person reads (the English ``message`` of the contract stays beside it as the detail).
LABELS = {
    "fr": {
        "valid": "Code valide",
        "pack": "identifiant unique de la boîte",
        "not_pack": "pas un identifiant unique (pas de numéro de série)",
        "rejected": "Code refusé",
        "scheme": "Type",
        "product_code": "Code produit",
        "serial": "Numéro de série",
        "batch": "Lot",
        "expiry": "Date de péremption",
        "raw": "brut",
        "nhrn": "Numéro national",
        "symbology": "Symbologie",
        "extra": "Autres données",
        "warnings": "Avertissements",
        "detail": "Détail",
        "none": "-",
    },
    "en": {
        "valid": "Valid code",
        "pack": "unique pack identifier",
        "not_pack": "not a unique identifier (no serial number)",
        "rejected": "Code rejected",
        "scheme": "Kind",
        "product_code": "Product code",
        "serial": "Serial number",
        "batch": "Batch",
        "expiry": "Expiry date",
        "raw": "raw",
        "nhrn": "National number",
        "symbology": "Symbology",
        "extra": "Other data",
        "warnings": "Warnings",
        "detail": "Detail",
        "none": "-",
    },
    "de": {
        "valid": "Gültiger Code",
        "pack": "individuelles Erkennungsmerkmal der Packung",
        "not_pack": "kein individuelles Erkennungsmerkmal (keine Seriennummer)",
        "rejected": "Code abgelehnt",
        "scheme": "Art",
        "product_code": "Produktcode",
        "serial": "Seriennummer",
        "batch": "Charge",
        "expiry": "Verfalldatum",
        "raw": "roh",
        "nhrn": "Nationale Nummer",
        "symbology": "Symbologie",
        "extra": "Weitere Daten",
        "warnings": "Hinweise",
        "detail": "Detail",
        "none": "-",
    },
}

REASONS = {
    "bad_check_digit": ("chiffre de contrôle faux", "wrong check digit", "falsche Prüfziffer"),
    "invalid_date": ("date invalide", "invalid date", "ungültiges Datum"),
    "missing_serial": ("numéro de série absent", "serial number missing", "Seriennummer fehlt"),
    "missing_batch": ("numéro de lot absent", "batch missing", "Chargenbezeichnung fehlt"),
    "missing_expiry": ("date de péremption absente", "expiry date missing", "Verfalldatum fehlt"),
    "missing_product_code": ("code produit absent", "product code missing", "Produktcode fehlt"),
    "bad_charset": ("caractère non autorisé", "character not allowed", "unzulässiges Zeichen"),
    "too_long": ("valeur trop longue", "value too long", "Wert zu lang"),
    "bad_length": ("longueur incorrecte", "wrong length", "falsche Länge"),
    "unknown_ai": (
        "identifiant de données inconnu",
        "unknown application identifier",
        "unbekannter Datenbezeichner",
    ),
    "duplicate_ai": (
        "donnée répétée avec une autre valeur",
        "element repeated with another value",
        "Element mit anderem Wert wiederholt",
    ),
    "invalid_ai_combination": (
        "combinaison de données interdite",
        "forbidden combination of elements",
        "unzulässige Kombination von Elementen",
    ),
    "truncated": ("code incomplet", "code cut short", "Code unvollständig"),
    "empty_value": ("valeur vide", "empty value", "leerer Wert"),
    "missing_separator": ("séparateur manquant", "missing separator", "Trennzeichen fehlt"),
    "not_a_pack_code": ("ce n'est pas un code de boîte", "not a pack code", "kein Packungscode"),
    "invalid_dl_uri": (
        "lien GS1 Digital Link invalide",
        "invalid GS1 Digital Link",
        "ungültiger GS1 Digital Link",
    ),
}

WARNING_TEXTS = {
    "not_data_matrix": (
        "le code n'est pas un Data Matrix",
        "the code is not a Data Matrix",
        "der Code ist kein Data Matrix",
    ),
    "possible_missing_separator": (
        "un séparateur manque peut-être : vérifier série et lot",
        "a separator may be missing: check serial and batch",
        "evtl. fehlt ein Trennzeichen: Seriennummer und Charge prüfen",
    ),
    "separator_stand_in": (
        "séparateur de remplacement du clavier lu comme GS",
        "keyboard stand-in read as group separator",
        "Tastatur-Ersatzzeichen als Gruppentrennzeichen gelesen",
    ),
}

_NAMED = {"<GS>": "\x1d", "<RS>": "\x1e", "<EOT>": "\x04", "<CR>": "\r", "<LF>": "\n"}
_SIMPLE = {"\\": "\\", "r": "\r", "n": "\n", "t": "\t"}


class EscapeError(ConfigError):
    """A ``--text`` argument holds a broken escape."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--text", metavar="SCAN", help="decode one scan for a person (escapes: \\x1d, \\u001d, <GS>)"
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, default="fr", help="language of --text output (default: fr)"
    )
    parser.add_argument(
        "--substitutes",
        nargs="*",
        metavar="S",
        help="keyboard-wedge stand-ins for GS (default: GS | ^ ~ @ {GS} [GS]; none given: GS only)",
    )


def unescape(text: str, named: bool = True) -> str:
    """``--text`` escapes to characters; a broken escape raises ``EscapeError`` naming it.

    ``named=False`` keeps ``<GS>`` and the like as they are (a configured stand-in may be ``<GS>``).
    """
    if named:
        for name, char in _NAMED.items():
            text = text.replace(name, char)
    if "\\" not in text:
        return text
    out = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        kind = text[pos + 1 : pos + 2]
        if kind in _SIMPLE:
            out.append(_SIMPLE[kind])
            pos += 2
            continue
        width = {"x": 2, "u": 4}.get(kind)
        digits = text[pos + 2 : pos + 2 + width] if width else ""
        if not width or len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise EscapeError.text("bad_escape", escape=text[pos : pos + 2 + (width or 0)])
        out.append(chr(int(digits, 16)))
        pos += 2 + width
    return "".join(out)


def _line_request(line: str, number: int):
    """``(raw, substitutes)`` of one JSON input line, or an error text."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return f"line {number} is not valid JSON: {error.msg} at column {error.colno}"
    if not isinstance(request, dict) or not isinstance(request.get("raw"), str):
        return f'line {number} is not an object with a string "raw"'
    substitutes = request.get("substitutes")
    if substitutes is not None and (
        not isinstance(substitutes, list) or not all(isinstance(s, str) for s in substitutes)
    ):
        return f'line {number}: "substitutes" must be a list of strings'
    if substitutes is not None and not all(substitutes):
        return f'line {number}: "substitutes" must not hold an empty string'
    return request["raw"], substitutes


def run_json_lines(stdin, stdout, substitutes, current_year: int) -> int:
    """Decode every line of ``stdin`` (bytes) to ``stdout`` (text); 1 if any line was unreadable."""
    from fmd_core import decode_scan

    status = 0
    for number, data in enumerate(stdin, start=1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as error:
            request = f"line {number} is not UTF-8: byte {data[error.start]:#04x} at column {error.start + 1}"
        else:
            if not line.strip():
                continue
            request = _line_request(line, number)
        if isinstance(request, str):
            status = 1
            out = {"line": number, "input_error": request}
        else:
            raw, line_substitutes = request
            chosen = substitutes if line_substitutes is None else line_substitutes
            out = decode_scan(raw, substitutes=chosen, current_year=current_year).as_dict()
        stdout.write(json.dumps(out) + "\n")
        stdout.flush()
    return status


def describe(result, lang: str) -> str:
    """A person's view of a result, in ``lang``."""
    labels = LABELS[lang]
    index = LANGUAGES.index(lang)
    if not result.ok:
        return (
            f"{labels['rejected']}: {REASONS[result.error][index]} ({result.error})\n"
            f"  {labels['detail']}: {result.message}\n"
        )
    rows = [
        (labels["scheme"], result.scheme),
        (labels["product_code"], f"{result.product_code} ({result.product_code_scheme})"),
        (labels["serial"], result.serial),
        (labels["batch"], result.batch),
        (
            labels["expiry"],
            f"{result.expiry} ({labels['raw']} {result.expiry_raw})" if result.expiry_raw else None,
        ),
        (labels["nhrn"], f"{result.nhrn['value']} (AI {result.nhrn['ai']})" if result.nhrn else None),
        (labels["symbology"], result.symbology),
        (labels["extra"], ", ".join(f"{k}={v}" for k, v in result.extra.items()) or None),
        (labels["warnings"], "; ".join(WARNING_TEXTS[w][index] for w in result.warnings) or None),
    ]
    width = max(len(label) for label, _value in rows)
    kind = labels["pack"] if result.is_pack_identifier else labels["not_pack"]
    lines = [f"{labels['valid']}: {kind}"]
    for label, value in rows:
        lines.append(f"  {label.ljust(width)} : {labels['none'] if value is None else value}")
    return "\n".join(lines) + "\n"


def _check_substitutes(substitutes: list[str]) -> None:
    """Refuse stand-ins the decoder refuses (an empty one), naming them, before any scan is read."""
    from fmd_core import decode_scan
    from fmd_core.errors import ConfigurationError

    try:
        decode_scan("", substitutes=substitutes)
    except ConfigurationError as error:
        raise ConfigError.text("bad_substitutes", value=" ".join(repr(s) for s in substitutes),
                               why=str(error)) from error


def execute(args: argparse.Namespace) -> int:
    from fmd_core import decode_scan

    current_year = time.localtime().tm_year
    substitutes = args.substitutes
    if substitutes is not None:
        substitutes = [unescape(s, named=False) for s in substitutes]
        _check_substitutes(substitutes)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.text is not None:
        result = decode_scan(unescape(args.text), substitutes=substitutes, current_year=current_year)
        sys.stdout.write(describe(result, args.lang))
        return 0 if result.ok else 1
    return run_json_lines(sys.stdin.buffer, sys.stdout, substitutes, current_year)
