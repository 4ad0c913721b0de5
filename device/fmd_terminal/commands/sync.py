"""``fmd-terminal sync``: run the sync worker alone (OFFLINE-QUEUE.md section 6; issue 5, "Draining").

``--until-drained`` stops when no op is pending (exit 0) or when ``--timeout`` passes (exit 1, with
what is still pending on standard error). ``resolved`` events go to ``--events-jsonl`` exactly as
``fmd-terminal run`` writes them. Without ``--until-drained`` it runs until interrupted. It refuses
(exit 3) while another process has the outbox open: ``fmd-terminal run`` has its own sync worker,
and two workers break "at most one request per pack in flight" (OFFLINE-QUEUE.md 6.1). What it
prints for a person is in ``--lang`` (else ``FMD_LANG``, else French); the events keep their format.
"""

from __future__ import annotations

import argparse
import sys

from fmd_terminal.outbox.commands_support import (
    add_outbox_arguments,
    load_config,
    refuse_beside_terminal,
    texts_of,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    parser.add_argument("--service", metavar="URL", help="https://... (REST), scripted://success")
    parser.add_argument("--events-jsonl", metavar="PATH", dest="events_jsonl",
                        help="append resolved events as JSON lines ('-' for standard output)")
    parser.add_argument("--until-drained", action="store_true", help="stop once nothing is pending")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="with --until-drained: give up after this")
    parser.add_argument("--start-delay", type=float, default=60.0, metavar="SECONDS",
                        help="upper bound of the random delay before the backlog is sent (default 60; "
                             "section 6.2: a fleet must not reconnect all at once)")
    parser.add_argument("--unpaced", action="store_true",
                        help="lift the pacing limits (benchmarks against the local simulator only)")


def execute(args: argparse.Namespace) -> int:
    import contextlib

    from fmd_core.flow import Flow, Verdict
    from fmd_terminal.app import open_configured_service
    from fmd_terminal.i18n import Translator
    from fmd_terminal.journal import Journal
    from fmd_terminal.outbox.factory import open_outbox
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
    from fmd_terminal.presenter import Presenter

    texts = texts_of(args)
    config = load_config(args, service=args.service, events_jsonl=args.events_jsonl)
    if not config.service:
        from fmd_terminal.errors import ConfigError

        raise ConfigError(texts("no_service"))
    refuse_beside_terminal(config.outbox, texts)
    with contextlib.ExitStack() as stack:
        journal = Journal(config.events_jsonl)
        stack.callback(journal.close)
        presenter = Presenter(Translator(config.lang))
        service = open_configured_service(config)
        stack.callback(service.close)
        outbox = open_outbox(config.outbox)
        stack.callback(outbox.close)
        settings = SyncSettings.unpaced() if args.unpaced else SyncSettings()
        settings.start_jitter_s = max(0.0, args.start_delay)
        worker = SyncWorker(outbox, service, settings=settings)
        flow = Flow(mode=config.mode)

        def resolved(settlement) -> None:
            for effect in flow.resolved(settlement.seq, settlement.kind, settlement.state, settlement.answer, 0):
                verdict = effect.payload
                if isinstance(verdict, Verdict) and verdict.event == "resolved":
                    journal.write(verdict, presenter.headline(verdict))

        drained = worker.run_until_drained(args.timeout if args.until_drained else None, resolved,
                                           forever=not args.until_drained)
        if drained:
            return 0
        pending = outbox.ops("op.state IN ('queued', 'in_flight', 'uncertain')")
        print(texts("pending", count=len(pending), timeout=args.timeout), file=sys.stderr)
        for row in pending[:50]:
            print(texts("pending_op", seq=row["seq"], kind=texts.word(row["kind"]), state=texts.word(row["state"]),
                        serial=row["serial"][-4:], error=texts.word(row["last_error_class"])), file=sys.stderr)
        return 1
