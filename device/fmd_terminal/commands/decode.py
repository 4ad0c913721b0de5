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
from fmd_terminal.i18n import LANGUAGES, Translator

# Every text a person reads comes from the gettext catalogue (fmd_terminal.i18n): labels
# ``text.decode.*``, reasons in their long form ``text.reason.<code>`` (the screen shows the short
# form ``line.reason.<code>``), warnings ``text.warning.<code>``. The English ``message`` of the
# contract is the technical detail, printed with ``--lang en``.
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
            raise EscapeError(
                f"--text: {text[pos : pos + 2 + (width or 0)]} is not an escape "
                "(expected \\xHH, \\uHHHH, \\\\, \\r, \\n, \\t)"
            )
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
    """A person's view of a result, in ``lang`` (every word from the catalogue)."""
    t = Translator(lang)

    def label(key: str) -> str:
        return t("text.decode." + key)

    if not result.ok:
        lines = [f"{label('rejected')}: {_reason(t, result.error)} ({result.error})"]
        if getattr(result, "element", None):
            element = result.element
            lines.append(f"  {label('element')}: {'AI (' + element + ')' if element.isdigit() else element}")
        if lang == "en":
            lines.append(f"  {label('detail')}: {result.message}")
        return "\n".join(lines) + "\n"
    rows = [
        (label("scheme"), result.scheme),
        (label("product_code"), f"{result.product_code} ({result.product_code_scheme})"),
        (label("serial"), result.serial),
        (label("batch"), result.batch),
        (
            label("expiry"),
            f"{result.expiry} ({label('raw')} {result.expiry_raw})" if result.expiry_raw else None,
        ),
        (label("nhrn"), f"{result.nhrn['value']} (AI {result.nhrn['ai']})" if result.nhrn else None),
        (label("symbology"), result.symbology),
        (label("extra"), ", ".join(f"{k}={v}" for k, v in result.extra.items()) or None),
        (label("warnings"), "; ".join(t("text.warning." + w) for w in result.warnings) or None),
    ]
    width = max(len(name) for name, _value in rows)
    kind = label("pack") if result.is_pack_identifier else label("not_pack")
    lines = [f"{label('valid')}: {kind}"]
    for name, value in rows:
        lines.append(f"  {name.ljust(width)} : {label('none') if value is None else value}")
    return "\n".join(lines) + "\n"


def _reason(t: Translator, code: str) -> str:
    key = "text.reason." + code
    return t(key) if t.has(key) else code


def execute(args: argparse.Namespace) -> int:
    from fmd_core import decode_scan

    current_year = time.localtime().tm_year
    substitutes = args.substitutes
    if substitutes is not None:
        substitutes = [unescape(s, named=False) for s in substitutes]
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.text is not None:
        result = decode_scan(unescape(args.text), substitutes=substitutes, current_year=current_year)
        sys.stdout.write(describe(result, args.lang))
        return 0 if result.ok else 1
    return run_json_lines(sys.stdin.buffer, sys.stdout, substitutes, current_year)
