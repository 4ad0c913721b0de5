"""The outbox port: the terminal's durable record of every operation and the worker that sends it.

OFFLINE-QUEUE.md is the design. The application (``fmd_terminal.app``) uses only what is declared
here, so the SQLite outbox (``sqlite://PATH``) and the in-memory twin (``memory://``) are
interchangeable, chosen by ``open_outbox(url)``.

The scan path (OFFLINE-QUEUE.md section 5.1) as the application drives it:

1. ``outbox.record(request)``: local checks (section 5.2) and the insert, in one transaction.
   Returns a ``RecordResult``: either ``.refusal`` (nothing recorded, nothing sent) or ``.op`` (the
   committed op). Raises ``StorageFullError`` / ``StorageError`` when the op could not be recorded.
   Only after it returns may a result be shown (promise P1).
2. ``worker.submit_live(op, deadline_s)``: the worker sends the op first in line; the application
   goes on reading the scanner and polls ``worker.live_result(ticket)`` (``wait_live`` wakes it when
   the answer comes): the ``Settlement`` if one arrived while the scan could wait, or None (the op
   carries on in the background and the screen shows "recorded, awaiting answer"). How long the scan
   may wait is the worker's to say (OFFLINE-QUEUE.md 6.2): the live deadline on a healthy link, about
   300 ms on a link known down. ``send_live`` does both and blocks (tools, tests).
3. ``worker.take_resolutions()``: settlements of earlier, deferred ops, for ``resolved`` events.
"""

from __future__ import annotations

from typing import Any, Protocol

from fmd_core.service import PackRef, ServiceAnswer
from fmd_terminal.errors import StorageError

# Operation kinds (OFFLINE-QUEUE.md section 3), and the service state each one requests.
REQUESTED_STATE = {
    "verify": None,
    "dispense": "Supplied",
    "undo_dispense": "Active",
    "destroy": "Destroyed",
}

# Receiving ops (issue 17): the modes whose scans are a delivery being received at the dock. Their
# state changes are gathered and sent in mixed bulks (G195/G196) rather than one request per pack; see
# ``fmd_terminal.outbox.sync`` and docs/outbox.md. A receiving session records its ops with ``mode`` set
# to one of these (``OpRequest.mode``); verifications still go one by one, since G195 takes no verify.
RECEIVING_MODES = ("receive",)


def gathered(kind: str, mode: str | None, single_only: bool = False) -> bool:
    """Whether an op waits to go in a receiving bulk: a state change recorded in a receiving mode,
    that the bulk endpoint can take (not ``single_only``: an unknown product goes alone)."""
    return mode in RECEIVING_MODES and REQUESTED_STATE.get(kind) is not None and not single_only


# Local refusals (OFFLINE-QUEUE.md section 5.2): nothing is recorded or sent.
ALREADY_DISPENSED_HERE = "already_dispensed_here"
DISPENSE_PENDING = "dispense_pending"  # the earlier dispense has no answer yet: "awaiting answer", with its age
NO_DISPENSE_HERE = "no_dispense_here"
UNDO_PERIOD_OVER = "undo_period_over"
UNDO_TIME_UNKNOWN = "undo_time_unknown"
PACK_BLOCKED = "pack_blocked"


class StorageFullError(StorageError):
    """The scan could not be recorded: storage is full or below its reserve (OFFLINE-QUEUE.md 2.3)."""


class OpRequest:
    """What a scan asks for. ``origin`` is "live" or "deferred" (OFFLINE-QUEUE.md section 3); ``mode``
    the terminal's mode at the scan (``fmd_core.modes``; None: not known), kept for the audit export.

    ``site_yield``: (reason, note) when the site ledger already said another counter has the pack
    (README, "Site ledger"): the op is recorded cancelled, in the same transaction, so the sync worker
    can never send it."""

    __slots__ = ("kind", "pack", "raw_scan", "user_id", "origin", "mode", "site_yield")

    def __init__(self, kind: str, pack: PackRef, raw_scan: str, user_id: str = "", origin: str = "live",
                 mode: str | None = None, site_yield: tuple[str, str] | None = None) -> None:
        self.kind = kind
        self.pack = pack
        self.raw_scan = raw_scan
        self.user_id = user_id
        self.origin = origin
        self.mode = mode
        self.site_yield = site_yield


class RecordedOp:
    """A committed op, as the application needs to see it (``mode``: the terminal's mode at the scan)."""

    __slots__ = ("seq", "op_id", "kind", "pack", "client_trx_id", "ref_client_trx_id", "state", "wall_ns", "mode")

    def __init__(self, seq: int, op_id: str, kind: str, pack: PackRef, client_trx_id: str,
                 ref_client_trx_id: str | None, state: str, wall_ns: int, mode: str | None = None) -> None:
        self.seq = seq
        self.op_id = op_id
        self.kind = kind
        self.pack = pack
        self.client_trx_id = client_trx_id
        self.ref_client_trx_id = ref_client_trx_id
        self.state = state
        self.wall_ns = wall_ns
        self.mode = mode


class LocalRefusal:
    """Why the outbox refused a scan locally; ``since_wall_ns`` is the earlier op's time when known,
    ``age_ns`` how long a pending earlier op has waited for its answer."""

    __slots__ = ("reason", "seq", "since_wall_ns", "age_ns")

    def __init__(self, reason: str, seq: int | None = None, since_wall_ns: int | None = None,
                 age_ns: int | None = None) -> None:
        self.reason = reason
        self.seq = seq
        self.since_wall_ns = since_wall_ns
        self.age_ns = age_ns


class RecordResult:
    __slots__ = ("op", "refusal")

    def __init__(self, op: RecordedOp | None = None, refusal: LocalRefusal | None = None) -> None:
        self.op = op
        self.refusal = refusal


class Settlement:
    """How an op ended (or stands): its state after the answer, and the answer that settled it.

    ``state`` is the op state of OFFLINE-QUEUE.md section 4 (done, rejected, needs_attention,
    queued, uncertain ...). ``reconciled`` is None, "verify" or "duplicate_answer".
    """

    __slots__ = ("seq", "kind", "state", "answer", "reconciled")

    def __init__(self, seq: int, kind: str, state: str, answer: ServiceAnswer | None,
                 reconciled: str | None = None) -> None:
        self.seq = seq
        self.kind = kind
        self.state = state
        self.answer = answer
        self.reconciled = reconciled


class Outbox(Protocol):
    def record(self, request: OpRequest) -> RecordResult: ...

    def recent(self, n: int) -> list[RecordedOp]: ...

    def pending_count(self) -> int: ...

    def attention_count(self) -> int: ...

    def close(self) -> None: ...


class Worker(Protocol):
    def submit_live(self, op: RecordedOp, deadline_s: float) -> Any: ...

    def live_result(self, ticket: Any, give_up: bool = False) -> tuple[bool, Settlement | None]: ...

    def wait_live(self, ticket: Any, timeout_s: float) -> None: ...

    def send_live(self, op: RecordedOp, deadline_s: float) -> Settlement | None: ...

    def take_resolutions(self) -> list[Settlement]: ...

    def close(self) -> None: ...
