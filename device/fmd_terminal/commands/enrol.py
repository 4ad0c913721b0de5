"""``fmd-terminal enrol CODE | --file FILE``: enrol from a shell, as scanning the code does (issue 14).

The code's text comes from the argument, or a file (``-``: standard input), e.g. the text printed under
the Data Matrix of the subscription page. The credentials go to the configuration's ``enrolment_dir``
(or ``--dir``); nothing is written unless enrolment and the credential check succeeded. Refusals are
one line in ``--lang`` (else ``FMD_LANG``, else French) and exit code 3.
"""

from __future__ import annotations

import argparse
import sys

from fmd_terminal.outbox.commands_support import texts_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fmd_terminal.i18n import LANGUAGES
    from fmd_terminal.outbox.texts import LANG_HELP

    parser.add_argument("code", nargs="?", help="the enrolment code's text")
    parser.add_argument("--file", metavar="FILE", help="read the code's text from FILE ('-': standard input)")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (as for run)")
    parser.add_argument("--dir", metavar="DIR", help="enrolment directory (default: the configuration's enrolment_dir)")
    parser.add_argument("--lang", choices=LANGUAGES, help=LANG_HELP)


def _code_text(args: argparse.Namespace) -> str | None:
    if args.file == "-":
        return sys.stdin.read()
    if args.file:
        from fmd_terminal.errors import ConfigError

        try:
            with open(args.file, encoding="utf-8") as handle:
                return handle.read()
        except OSError as error:
            raise ConfigError.text("file_unreadable", path=args.file, why=error.strerror) from error
    return args.code


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal import config as terminal_config
    from fmd_terminal.enrolment import enrol
    from fmd_terminal.errors import ConfigError

    texts = texts_of(args)
    settings = terminal_config.load(args.config, overrides={"enrolment_dir": args.dir})
    directory = terminal_config.enrolment_path(settings)
    text = _code_text(args)
    if not text or directory is None:
        raise ConfigError(texts("enrol_needs"))
    from fmd_terminal.enrolment import EnrolmentFailed
    from fmd_terminal.enrolment_screen import refusal_line

    try:
        enrolled = enrol(text, str(directory))
    except EnrolmentFailed as refused:
        raise ConfigError(f"{refusal_line(refused, texts.lang)} ({refused.detail})") from refused
    print(texts("enrolled", name=enrolled.pharmacy_name, finess=enrolled.finess, route=enrolled.route,
                directory=enrolled.directory))
    return 0
