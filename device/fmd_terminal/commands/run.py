"""``fmd-terminal run``: the terminal itself (issue 4, item 5).

``--config FILE`` (TOML, see ``device/system/fmd-terminal.example.toml``); every flag overrides the
file; credentials from the file or ``FMD_CLIENT_ID`` / ``FMD_CLIENT_SECRET``. With a finite scanner
(``script://PATH``, ``keys://PATH``, ``stdin://`` at end of input) the run ends once the last scan's result is shown;
anything still pending stays in the outbox for the next run.
"""

from __future__ import annotations

import argparse

from fmd_core.modes import MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--scanner", metavar="URL", help="evdev://..., serial://..., stdin://, script://PATH, keys://PATH")
    parser.add_argument("--screen", metavar="URL", help="ssd1306://..., sh1106://..., console://, recording://")
    parser.add_argument("--indicators", metavar="URL", help="gpio://..., recording://, none://")
    parser.add_argument("--service", metavar="URL", help="https://... (REST), scripted://offline")
    parser.add_argument("--outbox", metavar="URL", help="sqlite://PATH or memory://")
    parser.add_argument("--mode", choices=MODES, help="mode at start (default: dispense)")
    parser.add_argument("--lang", choices=("fr", "en", "de"), help="language of the texts (default: fr)")
    parser.add_argument("--events-jsonl", metavar="PATH", dest="events_jsonl",
                        help="write one JSON object per scan and per resolution ('-' for standard output)")


def overrides_of(args: argparse.Namespace) -> dict[str, object]:
    from fmd_terminal.config import OVERRIDABLE

    return {name: getattr(args, name, None) for name in OVERRIDABLE}


def execute(args: argparse.Namespace) -> int:
    import contextlib
    import sys

    from fmd_terminal import app, config, console
    from fmd_terminal.enrolment_screen import enrol_by_scan, needs_enrolment
    from fmd_terminal.receiving.stick_dock import watch_sticks
    from fmd_terminal.scanners.key_replay import refuse_live_service
    from fmd_terminal.system_notify import ServiceNotifier

    settings = config.load(args.config, overrides=overrides_of(args))
    notifier = ServiceNotifier()
    with contextlib.ExitStack() as stack:
        scanner = web = None
        if needs_enrolment(settings):  # no credentials yet: "Scannez le code d'inscription" (issue 14)
            web = console.start(settings, None, stack)  # its enrolment page takes the code too (issue 15)
            settings, scanner = enrol_by_scan(settings, stack, desk=web.desk if web is not None else None)
        settings = settings.validate()
        args.lang = settings.lang  # errors from here on are printed in the configured language (cli.main)
        if settings.settings_problem is not None:  # ignored: the configuration file's values are used
            print(f"fmd-terminal: {settings.settings_problem.in_language(settings.lang)}", file=sys.stderr, flush=True)
        refuse_live_service(settings.scanner, settings.service)
        terminal = app.build(settings, stack, notifier=notifier, scanner=scanner)
        watch_sticks(terminal, settings, stack)  # a USB stick of delivery notes, on a receiving device (issue 17)
        if web is not None:
            web.attach(settings, terminal)
        else:
            web = console.start(settings, terminal, stack)  # the web console, when [console] is configured (issue 15)
        # its address for FMD-MODE-ADMIN's QR code (empty: the screen says the console is off)
        terminal.presenter.console_address = web.address if web is not None else ""
        return terminal.run()
