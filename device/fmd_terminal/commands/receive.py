"""``fmd-terminal receive --note FILE``: run the terminal on one delivery, then close it (issue 17).

The note is read first (``receiving.note_files.load_note_file``: a CSV, or a GS1 Despatch Advice
when the file ends in ``.xml``): a bad line stops here, each printed with its
fix, before anything is scanned. Then the terminal runs as ``run`` does (same configuration and flags)
with a receiving session on that note: each pack is checked against it. When the scanner ends (a
script, the end of standard input) or the close code is scanned, the command waits up to ``--wait``
seconds for the packs still waiting for their answer, closes the session, prints its tally line by line
and writes it (CSV and PDF) to ``--out`` (else ``receipts_dir``). The tally is also kept in the outbox
(``fmd-terminal export --receipts``). A device whose role has no receive mode (``counter``) is refused.
"""

from __future__ import annotations

import argparse
import sys

from fmd_terminal.commands.run import add_arguments as add_run_arguments
from fmd_terminal.commands.run import overrides_of

DEFAULT_WAIT_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--note", metavar="FILE", required=True, help="the delivery note (CSV, or GS1 Despatch Advice .xml; see docs/receiving.md)")
    parser.add_argument("--out", metavar="DIR", help="where to write the summary's CSV and PDF (default: receipts_dir)")
    parser.add_argument("--wait", metavar="S", type=float, default=DEFAULT_WAIT_S,
                        help=f"at the end, wait this long for pending answers (default {DEFAULT_WAIT_S:g} s)")
    add_run_arguments(parser)


def read_note(path: str, lang: str | None):
    """The note, or every bad line printed (in ``lang``) and the first raised."""
    from fmd_terminal.receiving.note import NoteError
    from fmd_terminal.receiving.note_files import load_note_file

    try:
        return load_note_file(path)
    except NoteError as error:
        for problem in error.problems[1:]:
            print(f"fmd-terminal: {problem.in_language(lang)}", file=sys.stderr)
        raise


def summary_lines(summary, lang: str) -> list[str]:
    """The tally for a terminal window: one line per row of the CSV (``report.cells``), ';' between cells."""
    from fmd_terminal.receiving.report import COLUMNS, TITLES, cells

    return [";".join(TITLES[lang][name] for name in COLUMNS)] + [";".join(row) for row in cells(summary, lang)]


def execute(args: argparse.Namespace) -> int:
    import contextlib
    import dataclasses

    from fmd_core.modes import RECEIVE, modes_of
    from fmd_terminal import app, config
    from fmd_terminal.errors import ConfigError
    from fmd_terminal.outbox.texts import Phrase
    from fmd_terminal.scanners.key_replay import refuse_live_service

    settings = config.load(args.config, overrides=overrides_of(args))
    if args.out:
        settings = dataclasses.replace(settings, receipts_dir=args.out)
    settings = settings.validate()
    args.lang = settings.lang
    if RECEIVE not in modes_of(settings.role):
        from fmd_terminal.config_rules import bad

        raise bad("role", settings.role, Phrase("allowed_choice", choices="reception, pui_dock"))
    if args.wait < 0:
        raise ConfigError(f"--wait {args.wait:g}: expected 0 or more seconds")
    note = read_note(args.note, settings.lang)
    refuse_live_service(settings.scanner, settings.service)
    with contextlib.ExitStack() as stack:
        terminal = app.build(settings, stack)
        terminal.request_receiving(note)  # taken at the loop's first turn, after the start screen
        terminal.run()
        left = terminal.settle_receiving(args.wait)
        terminal.close_receiving()
    for summary, files in terminal.summaries:  # the close code may have ended a session before the end
        for line in summary_lines(summary, settings.lang):
            print(line)
        for path in files:
            print(path, file=sys.stderr)
    return 1 if left else 0
