"""``fmd-terminal decode``: JSON lines in and out, ``--text`` for a person, no traceback ever."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from fmd_core import decode_scan
from fmd_terminal import cli
from fmd_terminal.commands import decode

GS = "\x1d"
VALID = "]d201034009300123451727063010ABC" + GS + "21XYZ"


def run_lines(text: bytes, substitutes=None) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = decode.run_json_lines(io.BytesIO(text), out, substitutes, 2026)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_result_per_line_exactly_as_dict():
    scans = [
        VALID,
        "]d20103400930012346",
        "https://id.gs1.org/01/03400930012345/10/B/21/S?17=270600",
        "3400930012345",
    ]
    status, results = run_lines("".join(json.dumps({"raw": s}) + "\n" for s in scans).encode())
    assert status == 0
    assert results == [decode_scan(s, current_year=2026).as_dict() for s in scans]
    assert results[0]["serial"] == "XYZ" and results[1]["error"] == "bad_check_digit"


def test_bad_lines_are_named_and_the_run_goes_on():
    lines = b'{"raw": "3400930012345"}\nnot json\n\n[1, 2]\n{"raw": 5}\n{"raw": "x", "substitutes": "|"}\n\xff\xfe\n'
    status, results = run_lines(lines + json.dumps({"raw": VALID}).encode() + b"\n")
    assert status == 1
    assert results[0]["ok"] is True
    assert results[1] == {"line": 2, "input_error": results[1]["input_error"]}
    assert results[1]["input_error"].startswith("line 2 is not valid JSON")
    assert [r.get("line") for r in results[2:6]] == [4, 5, 6, 7]
    assert "substitutes" in results[4]["input_error"]
    assert "not UTF-8" in results[5]["input_error"]
    assert results[6]["serial"] == "XYZ"  # the run continued to the last line


def test_substitutes_from_the_command_line_and_per_line():
    scan = "01034009300123451727063010ABC|21XYZ"
    status, results = run_lines(
        (json.dumps({"raw": scan}) + "\n" + json.dumps({"raw": scan, "substitutes": ["|"]}) + "\n").encode(),
        [],
    )
    assert status == 0
    assert results[0]["error"] == "bad_charset"  # GS only on the command line
    assert results[1]["serial"] == "XYZ"  # the line's own list wins


def test_control_characters_as_json_escapes():
    status, results = run_lines(b'{"raw": "]d201034009300123451727063010ABC\\u001d21XYZ\\r\\n"}\n')
    assert results[0]["batch"] == "ABC" and results[0]["serial"] == "XYZ"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["Code valide", "Numéro de série", "XYZ", "2027-06-30", "270630"]),
        ("en", ["Valid code", "Serial number", "XYZ"]),
        ("de", ["Gültiger Code", "Seriennummer", "Verfalldatum"]),
    ],
)
def test_text_for_a_person(capsys, lang, words):
    assert cli.main(["decode", "--lang", lang, "--text", VALID.replace(GS, "\\x1d")]) == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out


def test_text_rejected_in_french_by_default(capsys):
    assert cli.main(["decode", "--text", "]d201034009300123451727023010ABC<GS>21XYZ"]) == 1
    out = capsys.readouterr().out
    assert "Code refusé: date invalide : vérifier la date sur la boîte et scanner à nouveau (invalid_date)" in out
    assert "Élément: AI (17)" in out


@pytest.mark.parametrize(
    ("lang", "words", "foreign"),
    [
        ("fr", "ce n'est pas un code de boîte", "rejected"),
        ("de", "kein Packungscode", "rejected"),
        ("en", "not a pack code", "abgelehnt"),
    ],
)
def test_empty_text_speaks_the_chosen_language(capsys, lang, words, foreign):
    """``decode --text ''`` answers in --lang only: the English detail is printed with --lang en."""
    assert cli.main(["decode", "--lang", lang, "--text", ""]) == 1
    out = capsys.readouterr().out
    assert words in out and "(not_a_pack_code)" in out
    assert foreign not in out
    assert ("Scan '' rejected: it is empty." in out) == (lang == "en")


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_one_catalogue_has_a_long_and_a_short_form_of_every_reason(lang):
    """The screen's short reason and decode --text's long one come from the same catalogue."""
    from fmd_core.result import REASON_CODES, WARNINGS
    from fmd_terminal.i18n import parse_po, po_path

    messages = parse_po(po_path(lang).read_text(encoding="utf-8"))
    for code in REASON_CODES:
        short, long = messages["line.reason." + code], messages["text.reason." + code]
        assert 0 < len(short) <= 21 < len(long), code
    for code in WARNINGS:
        assert messages["text.warning." + code]
    assert not hasattr(decode, "REASONS") and not hasattr(decode, "WARNING_TEXTS")


@pytest.mark.parametrize("escaped", ["\\x1d", "\\u001d", "<GS>"])
def test_text_escapes(escaped):
    assert decode.unescape("10A" + escaped + "21B") == "10A" + GS + "21B"


def test_lt_gs_gt_is_a_stand_in_only_when_configured(capsys):
    scan = "01034009300123451727063010ABC\\x3cGS>21XYZ"  # <GS> typed, not the --text escape
    assert cli.main(["decode", "--text", scan]) == 1
    assert "(missing_serial)" in capsys.readouterr().out  # the batch ran on: "ABC<GS>21XYZ"
    assert cli.main(["decode", "--substitutes", "<GS>", "--text", scan]) == 0
    assert "XYZ" in capsys.readouterr().out


def test_broken_escape_is_a_user_error_not_a_traceback(capsys):
    assert cli.main(["decode", "--text", "ab\\xZZ"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("fmd-terminal: --text: \\xZZ is not an escape")
    assert "Traceback" not in err


def test_console_script_end_to_end():
    lines = json.dumps({"raw": VALID}) + "\n{oops\n"
    run = subprocess.run(
        [sys.executable, "-m", "fmd_terminal", "decode"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr == ""
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert first["ok"] is True and first["expiry_raw"] == "270630"
    assert second["line"] == 2
