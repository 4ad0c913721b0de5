"""``fmd-terminal``: a table of commands, one user-facing error caught in ``main``.

Each command lives in ``fmd_terminal.commands.<module>`` and exposes ``add_arguments(parser)`` and
``execute(args) -> int``. Modules import their heavy dependencies inside ``execute`` so that
``fmd-terminal --help`` stays fast.

Exit codes (documented in the README):
  0  success
  1  the command ran but its goal was not reached (e.g. ``sync --until-drained`` timed out)
  2  usage error (argparse; one line in the person's language, ``fmd_terminal.usage``)
  3  configuration or device error
  4  storage error (the outbox cannot be opened or written)
  5  verification service error
  130 interrupted (Ctrl+C)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from fmd_terminal import __version__, usage
from fmd_terminal.errors import ServiceError, StorageError, TerminalError
from fmd_terminal.usage import Parser

PROG = "fmd-terminal"

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("fmd_terminal.commands.run", "run the terminal: read scans, show verdicts"),
    "receive": ("fmd_terminal.commands.receive", "receive a delivery against its note (CSV), then its summary"),
    "decode": ("fmd_terminal.commands.decode", "decode pack codes: JSON lines in, JSON lines out"),
    "doctor": ("fmd_terminal.commands.doctor", "check scanner, screen, pins, service, clock and storage"),
    "sync": ("fmd_terminal.commands.sync", "run the sync worker alone (drain the outbox)"),
    "attention": ("fmd_terminal.commands.attention", "list and resolve operations that need a person"),
    "export": ("fmd_terminal.commands.export", "export every recorded operation (CSV or JSON lines)"),
    "report": ("fmd_terminal.commands.report", "decommissions accepted this quarter, and the last one"),
    "backup": ("fmd_terminal.commands.backup", "back up, restore or prune the outbox (sqlite:// only)"),
    "update": ("fmd_terminal.commands.update", "install a signed release bundle, switch once doctor passes"),
    "calibrate": ("fmd_terminal.commands.calibrate", "calibrate the scanner from its calibration code"),
    "enrol": ("fmd_terminal.commands.enrol", "enrol this terminal from a one-time enrolment code"),
    "account": ("fmd_terminal.commands.account", "account status; renew the password or certificate, accept terms"),
}

EXIT_NOT_REACHED = 1
EXIT_CONFIG = 3
EXIT_STORAGE = 4
EXIT_SERVICE = 5


def _command_modules() -> dict[str, object]:
    """Import each command's module (cheap: heavy imports happen inside ``execute``)."""
    return {name: importlib.import_module(module) for name, (module, _help) in COMMANDS.items()}


def build_parser(lang: str = "fr") -> tuple[argparse.ArgumentParser, dict[str, object]]:
    """The parser, whose usage errors are one line in ``lang`` (``usage.Parser``)."""
    parser = Parser(prog=PROG, description="FMD scan terminal", lang=lang)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = _command_modules()
    for name, module in modules.items():
        command_parser = sub.add_parser(name, help=COMMANDS[name][1], description=COMMANDS[name][1], lang=lang)
        module.add_arguments(command_parser)  # type: ignore[attr-defined]
    return parser, modules


def configure_logging(verbosity: int) -> None:
    """Log to stderr; under systemd (JOURNAL_STREAM set) without timestamps."""
    import os

    level = logging.WARNING - 10 * min(verbosity, 2)
    fmt = "%(levelname)s %(name)s: %(message)s"
    if "JOURNAL_STREAM" not in os.environ:
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    lang = usage.language_of(argv)
    with usage.speaking(lang):  # argparse's usage errors and help headings in the person's language
        parser, modules = build_parser(lang)
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
    configure_logging(args.verbose)
    try:
        return int(modules[args.command].execute(args) or 0)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except TerminalError as error:
        # one line, in the person's language (--lang, else FMD_LANG, else French) when it has a text id
        print(f"{PROG}: {error.in_language(getattr(args, 'lang', None))}".replace("\n", " "), file=sys.stderr)
        if isinstance(error, StorageError):
            return EXIT_STORAGE
        return EXIT_SERVICE if isinstance(error, ServiceError) else EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
