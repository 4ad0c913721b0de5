"""One delivery being received (issue 17): the note, its tally, every pack's last known state.

The terminal (``fmd_terminal.app.Terminal.start_receiving``) sets the session's ``receipt`` on the
flow, which checks each receive-mode scan against the note (``fmd_core.receiving``) and puts the check
in the verdict; every verdict shown or resolved later comes back here (``on_verdict``), so each pack's
state follows its answers as they come, whether its op was sent alone or in bulk, live or after an
outage. Each pack is written to the outbox (``outbox.receipts``) as it changes; ``close`` computes the
tally per note line and keeps it there for audit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fmd_core.receiving import (
    ACCEPTED,
    ALREADY_SCANNED,
    PENDING,
    REFUSED,
    NoteEntry,
    Receipt,
    state_of,
    summarise,
)
from fmd_terminal.outbox import receipts
from fmd_terminal.receiving.note import DeliveryNote

TOTALS = ("ordered", ACCEPTED, PENDING, REFUSED, "missing", "extra")


@dataclass
class PackState:
    """A pack of the session: its op (``seq``), note line, differences and last known state."""

    seq: int | None
    line: int | None
    product_code: str
    problems: tuple[str, ...]
    state: str
    service_code: str | None = None
    alert_code: str | None = None


@dataclass(frozen=True)
class Summary:
    """A session's tally: one row per note line then per unexpected product (``fmd_core.receiving.summarise``
    keys, with ``designation``, ``batch`` and ``expiry`` of the note), and the rescans not counted."""

    reference: str
    source: str
    role: str | None
    started_ns: int
    closed_ns: int | None
    rows: list[dict[str, Any]]
    rescans: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "source": self.source, "role": self.role, "started_ns": self.started_ns,
                "closed_ns": self.closed_ns, "rows": self.rows, "rescans": self.rescans, "totals": self.totals}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        return cls(**data)

    def alert_codes(self) -> list[str]:
        return [code for row in self.rows for code in row["alerts"]]


def pack_key_of(pack: dict[str, Any]) -> str:
    """The outbox's pack key (``fmd_core.service.PackRef.pack_key``) of a verdict's pack."""
    from fmd_core.service import PackRef

    return PackRef(pack.get("product_code_scheme") or "GTIN", pack["product_code"], pack["serial"], None,
                   None).pack_key


def answered(verdict: Any) -> bool:
    """Whether the verdict is a final word: the service's answer, or a local decision (nothing recorded)."""
    return not verdict.recorded or verdict.service_code is not None or verdict.light == "red"


def alert_of(verdict: Any) -> str | None:
    """The code the tally lists for a red verdict: the alert code, else the service's refusal code
    (a recalled batch ``NMVS_FE_LOT_01``, an unknown pack ...), else None."""
    if verdict.alert_code:
        return verdict.alert_code
    if verdict.light == "red" and verdict.service_code and verdict.service_code != "NMVS_SUCCESS":
        return verdict.service_code
    return None


class ReceivingSession:
    """A delivery being received against ``note``. ``outbox``: where the session is kept (None: nowhere,
    e.g. a test of the tally); ``role``: the device's, for the record."""

    def __init__(self, note: DeliveryNote, *, short_expiry_days: int = 0, role: str | None = None,
                 outbox: Any = None, wall_ns: Callable[[], int] = time.time_ns) -> None:
        self.note = note
        self.role = role
        self.outbox = outbox if outbox is not None and hasattr(outbox, "transaction") else None
        self.wall_ns = wall_ns
        self.started_ns = wall_ns()
        self.receipt = Receipt([NoteEntry(line.product_code, line.quantity, line.batch,
                                          line.expiry.isoformat() if line.expiry else None, line.designation)
                                for line in note.lines], short_expiry_days)
        self.packs: dict[str, PackState] = {}
        self.rescans = 0
        self.closed: Summary | None = None
        self.id = None
        if self.outbox is not None:
            self.id = receipts.open_receipt(self.outbox, note.reference, note.source, role, self._note_rows(),
                                            self.started_ns)

    def _note_rows(self) -> list[dict[str, Any]]:
        return [{"product_code": line.product_code, "designation": line.designation, "quantity": line.quantity,
                 "batch": line.batch, "expiry": line.expiry.isoformat() if line.expiry else None}
                for line in self.note.lines]

    def on_verdict(self, verdict: Any) -> None:
        """A verdict shown or resolved for a pack of this session (``details["receiving"]``): its state."""
        check = verdict.details.get("receiving")
        if check is None or not verdict.pack:
            return
        if ALREADY_SCANNED in check.problems:
            if verdict.event == "scan":
                self.rescans += 1
            return
        key = pack_key_of(verdict.pack)
        state = state_of(verdict.details.get("service_light", verdict.light), answered(verdict))
        seq = verdict.seq if verdict.recorded else None
        known = self.packs.get(key)
        if known is None:
            known = self.packs[key] = PackState(seq, check.line, verdict.pack["product_code"], check.problems, state)
        known.state = state
        known.seq = seq if seq is not None else known.seq
        known.service_code = verdict.service_code or known.service_code
        known.alert_code = alert_of(verdict) or known.alert_code
        if self.outbox is not None and self.id is not None:
            receipts.note_pack(self.outbox, self.id, key, seq=known.seq, line=known.line,
                               product_code=known.product_code, problems=known.problems, state=known.state,
                               service_code=known.service_code, alert_code=known.alert_code)

    def pending(self) -> int:
        """Packs of the session still waiting for their answer."""
        return sum(1 for pack in self.packs.values() if pack.state == PENDING)

    def summary(self, closed_ns: int | None = None) -> Summary:
        """The tally now, line by line."""
        packs = list(self.packs.values())  # one copy: the web console reads the tally from its own thread
        rows = summarise(self.receipt.entries, [(p.line, p.problems, p.product_code, p.state, p.alert_code)
                                                for p in packs])
        for row in rows:
            if row["line"] is not None:
                line = self.note.lines[row["line"]]
                row.update(designation=line.designation, batch=line.batch,
                           expiry=line.expiry.isoformat() if line.expiry else None)
            else:
                row.update(designation="", batch=None, expiry=None)
        totals = {name: sum(row[name] for row in rows) for name in TOTALS}
        totals["alerts"] = sum(len(row["alerts"]) for row in rows)
        return Summary(self.note.reference, self.note.source, self.role, self.started_ns, closed_ns, rows,
                       self.rescans, totals)

    def close(self) -> Summary:
        """The closing tally, kept in the outbox; closing twice gives the first closing's tally."""
        if self.closed is None:
            self.closed = self.summary(self.wall_ns())
            if self.outbox is not None and self.id is not None:
                receipts.close_receipt(self.outbox, self.id, self.closed.closed_ns or 0, self.closed.as_dict())
        return self.closed
