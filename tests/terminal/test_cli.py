"""The command table of fmd-terminal (ARCHITECTURE.md: a CLI as a table of commands)."""

import argparse
import subprocess
import sys

import pytest

from fmd_terminal import cli


def test_every_command_of_the_table_has_its_module_and_help():
    parser, modules = cli.build_parser()
    assert set(modules) == set(cli.COMMANDS)
    for name, module in modules.items():
        assert callable(module.add_arguments) and callable(module.execute), name
        assert name in parser.format_help()


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "fmd-terminal" in capsys.readouterr().out


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "fmd_terminal", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("fmd-terminal ")


def usage_error(argv, capsys, monkeypatch, fmd_lang=None):
    """``cli.main(argv)``'s exit code and standard error, for a usage error (argparse exits)."""
    if fmd_lang is None:
        monkeypatch.delenv("FMD_LANG", raising=False)
    else:
        monkeypatch.setenv("FMD_LANG", fmd_lang)
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("argv", "fmd_lang", "line"), [
    (["sync", "--lang", "fr", "--timeout", "abc"], None,
     "fmd-terminal: argument --timeout : 'abc' n'est pas une valeur float valable. "
     "Les options : fmd-terminal sync --help"),
    (["run", "--mode", "sell"], None,  # French by default
     "fmd-terminal: argument --mode : 'sell' n'est pas un choix possible (choisir parmi 'dispense', 'verify', "
     "'undo', 'destroy', 'receive'). Les options : fmd-terminal run --help"),
    (["account", "--lang=de"], None,
     "fmd-terminal: es fehlt das Pflichtargument action. Die Optionen: fmd-terminal account --help"),
    (["account"], None, "fmd-terminal: il manque l'argument obligatoire action. Les options : fmd-terminal account --help"),
    (["sync", "--outbox"], "de",
     "fmd-terminal: Argument --outbox: nach der Option wird ein Wert erwartet. Die Optionen: fmd-terminal sync --help"),
    (["bogus"], "de", "fmd-terminal: Argument COMMAND: 'bogus' ist keine erlaubte Wahl (erlaubt: 'run', 'receive', "
                      "'decode', 'doctor', 'sync', 'attention', 'export', 'report', 'backup', 'update', 'calibrate', 'enrol', "
                      "'account'). Die Optionen: fmd-terminal --help"),
    (["sync", "--lang", "it"], None,  # a language we do not speak: the error in French
     "fmd-terminal: argument --lang : 'it' n'est pas un choix possible (choisir parmi 'fr', 'en', 'de'). "
     "Les options : fmd-terminal sync --help"),
    (["export", "--csv", "-", "--bogus", "1", "--lang", "en"], "de",
     "fmd-terminal: unrecognized arguments: --bogus 1. The options: fmd-terminal --help"),
])
def test_a_usage_error_is_one_line_in_the_persons_language(argv, fmd_lang, line, capsys, monkeypatch):
    code, err = usage_error(argv, capsys, monkeypatch, fmd_lang)
    assert (code, err) == (2, line + "\n")
    assert argparse._("usage: ") == "usage: "  # argparse's own texts are put back


def test_help_headings_are_in_the_persons_language(capsys, monkeypatch):
    code, _ = usage_error(["sync", "--help", "--lang", "fr"], capsys, monkeypatch)
    with pytest.raises(SystemExit):
        cli.main(["sync", "--lang", "fr", "--help"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("utilisation : fmd-terminal sync")
    assert "\noptions:\n  -h, --help" in out and "afficher cette aide et quitter" in out
    monkeypatch.setenv("FMD_LANG", "de")
    with pytest.raises(SystemExit):
        cli.main(["attention", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: fmd-terminal attention") and "\nArgumente:\n" in out and "\nOptionen:\n" in out


def test_every_argparse_text_we_translate_keeps_its_fields():
    """A translation that lost or renamed a %-field would fail when argparse fills it in."""
    import re

    from fmd_terminal.usage import ARGPARSE

    for english, translations in ARGPARSE.items():
        for text in translations:
            assert sorted(re.findall(r"%\(\w+\)\w|%\w", text)) == sorted(re.findall(r"%\(\w+\)\w|%\w", english)), text
