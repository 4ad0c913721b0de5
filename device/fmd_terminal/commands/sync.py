"""``fmd-terminal sync``: run the sync worker alone (OFFLINE-QUEUE.md section 6; issue 5, "Draining").

``--until-drained`` stops when no op is pending (exit 0) or when ``--timeout`` passes (exit 1, with
what was tried and what is still pending on standard error). It starts sending at once: the random
start delay that keeps a fleet from reconnecting all at once (OFFLINE-QUEUE.md 6.2) is the service's
(``fmd-terminal run``); ``--start-delay`` asks for one here. ``resolved`` events go to ``--events-jsonl`` exactly as
``fmd-terminal run`` writes them. Without ``--until-drained`` it runs until interrupted. It refuses
(exit 3) while another process has the outbox open: ``fmd-terminal run`` has its own sync worker,
and two workers break "at most one request per pack in flight" (OFFLINE-QUEUE.md 6.1). What it
prints for a person is in ``--lang`` (else ``FMD_LANG``, else French); the events keep their format.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

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
    parser.add_argument("--start-delay", type=float, default=0.0, metavar="SECONDS",
                        help="upper bound of a random delay before the backlog is sent (default 0: a person "
                             "running this command waits for nothing; the fleet's random delay of section "
                             "6.2 belongs to the service, fmd-terminal run)")
    parser.add_argument("--unpaced", action="store_true",
                        help="lift the pacing limits (benchmarks against the local simulator only)")


class Witness:
    """The service client as the worker sees it, counting the requests it made and keeping the last
    answer, so that a timeout says what was tried (issue 12)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0
        self.last: Any = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name == "close" or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            result = attribute(*args, **kwargs)
            if hasattr(result, "transport"):
                self.last = result
            return result

        return call

    def tried(self, service: str, timeout: float | None, texts: Any) -> str:
        from fmd_core.op_states import classify

        last = texts("none")
        if self.last is not None:
            why = self.last.transport_error or f"HTTP {self.last.http_status}"
            last = f"{texts.word(classify(self.last))} ({why})"
        return texts("drain_tried", attempts=self.calls, timeout=timeout, service=service, last=last)


def execute(args: argparse.Namespace) -> int:
    import contextlib

    from fmd_core.flow import LATE, Flow, Verdict
    from fmd_terminal.app import open_configured_service
    from fmd_terminal.i18n import Translator
    from fmd_terminal.journal import Journal
    from fmd_terminal.outbox.factory import open_outbox
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
    from fmd_terminal.presenter import Presenter

    texts = texts_of(args)
    config = load_config(args, service=args.service, events_jsonl=args.events_jsonl)
    config.validate(("outbox", "service", "mode", "lang", "timeouts", "events_jsonl", "client_id", "client_secret",
                     "client_cert", "client_key", "ca_bundle"))
    refuse_beside_terminal(config.outbox, texts)
    with contextlib.ExitStack() as stack:
        journal = Journal(config.events_jsonl)
        stack.callback(journal.close)
        presenter = Presenter(Translator(config.lang))
        service = Witness(open_configured_service(config))
        stack.callback(service.close)
        outbox = open_outbox(config.outbox)
        stack.callback(outbox.close)
        settings = SyncSettings.unpaced() if args.unpaced else SyncSettings()
        settings.start_jitter_s = max(0.0, args.start_delay)
        worker = SyncWorker(outbox, service, settings=settings)
        flow = Flow(mode=config.mode)

        def resolved(settlement) -> None:
            for effect in flow.resolved(settlement.seq, settlement.kind, settlement.state, settlement.answer, 0):
                verdict = effect.payload  # LATE: journaled once (a red one's ALERT notice is for a screen)
                if effect.kind == LATE and isinstance(verdict, Verdict):
                    journal.write(verdict, presenter.headline(verdict))

        drained = worker.run_until_drained(args.timeout if args.until_drained else None, resolved,
                                           forever=not args.until_drained)
        if drained:
            return 0
        pending = outbox.ops("op.state IN ('queued', 'in_flight', 'uncertain')")
        print(f"fmd-terminal: {service.tried(config.service, args.timeout, texts)}", file=sys.stderr)
        print(texts("pending", count=len(pending), timeout=args.timeout), file=sys.stderr)
        for row in pending[:50]:
            print(texts("pending_op", seq=row["seq"], kind=texts.word(row["kind"]), state=texts.word(row["state"]),
                        serial=row["serial"][-4:], error=texts.word(row["last_error_class"])), file=sys.stderr)
        return 1
