"""One delivery being received (issue 17): the note, its tally, every pack's last known state.

The terminal (``fmd_terminal.app.Terminal.start_receiving``) sets the session's ``receipt`` on the
flow, which checks each receive-mode scan against the note (``fmd_core.receiving``) and puts the check
in the verdict; every verdict shown or resolved later comes back here (``on_verdict``), so each pack's
state follows its answers as they come, whether its op was sent alone or in bulk, live or after an
outage. Each pack is written to the outbox (``outbox.receipts``) as it changes; ``close`` computes the
tally per note line and keeps it there for audit.

After a power cut or a killed process (``resume``): a session left open in the outbox is taken up
again with the same note and row; its tally is rebuilt from the packs it noted (``Receipt.restore``)
and from their ops' current states in the outbox (an answer stored just before the cut counts); a pack
scanned again is "already scanned" as before the cut, and the late answers of its ops, which the flow
no longer knows, come back here by their op (``owns``). A session whose note or packs can no longer be
read is closed as interrupted (``interrupt``) with what its row holds; nothing stored is deleted.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
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
from fmd_terminal.errors import TerminalError
from fmd_terminal.outbox import receipts
from fmd_terminal.receiving.note import DeliveryNote, NoteLine

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
    interrupted: bool = False  # closed at a restart because its note or packs could not be read again

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "source": self.source, "role": self.role, "started_ns": self.started_ns,
                "closed_ns": self.closed_ns, "rows": self.rows, "rescans": self.rescans, "totals": self.totals,
                "interrupted": self.interrupted}

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


class SessionDamaged(TerminalError):
    """A session left open in the outbox whose note or packs can no longer be read."""


def _op_answer(row: dict[str, Any]) -> Any:
    """The pack's last word from its op's row, as a verdict's fields (``light``, ``service_code``,
    ``alert_code``, ``recorded``); None while the op has no answer (``fmd_core.outcomes.of_settlement``)."""
    from fmd_core.outcomes import of_settlement
    from fmd_terminal.outbox.sqlite import answer_of

    answer = answer_of(row)
    outcome = of_settlement(row["kind"], row["state"], answer)
    if outcome.code in ("pending", "recorded_offline"):
        return None
    return SimpleNamespace(light=outcome.light, recorded=True, service_code=answer.operation_code if answer else None,
                           alert_code=answer.alert_code if answer else None)


def _note_of(record: dict[str, Any]) -> DeliveryNote:
    """The note of a stored session (its row's JSON lines)."""
    lines = tuple(NoteLine(str(line["product_code"]), str(line["designation"]), int(line["quantity"]),
                           line["batch"], datetime.date.fromisoformat(line["expiry"]) if line["expiry"] else None)
                  for line in json.loads(record["note"]))
    if not lines or any(not line.product_code.isdigit() or line.quantity < 0 for line in lines):
        raise ValueError("note lines")
    return DeliveryNote(record["reference"], lines, record["source"])


class ReceivingSession:
    """A delivery being received against ``note``. ``outbox``: where the session is kept (None: nowhere,
    e.g. a test of the tally); ``role``: the device's, for the record."""

    def __init__(self, note: DeliveryNote, *, short_expiry_days: int = 0, role: str | None = None,
                 outbox: Any = None, wall_ns: Callable[[], int] = time.time_ns, _resuming: bool = False) -> None:
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
        self.resumed = False
        self._by_seq: dict[int, str] = {}  # op seq -> pack key, for the answers of ops from before a restart
        if self.outbox is not None and not _resuming:
            self.id = receipts.open_receipt(self.outbox, note.reference, note.source, role, self._note_rows(),
                                            self.started_ns)

    @classmethod
    def resume(cls, outbox: Any, record: dict[str, Any], *, short_expiry_days: int = 0,
               wall_ns: Callable[[], int] = time.time_ns) -> ReceivingSession:
        """The session ``record`` (``receipts.open_receipts``) taken up after a restart: same note, same
        row, the packs it noted put back on the note (``Receipt.restore``, in the order first seen),
        each pending one brought up to its op's current state. ``SessionDamaged`` when the note or a
        pack no longer reads."""
        try:
            note = _note_of(record)
            session = cls(note, short_expiry_days=short_expiry_days, role=record["role"], outbox=outbox,
                          wall_ns=wall_ns, _resuming=True)
            session.id, session.started_ns, session.resumed = record["id"], record["started_ns"], True
            session.rescans = int(record.get("rescans") or 0)
            for row in receipts.pack_rows(outbox, record["id"]):
                problems = tuple(str(p) for p in json.loads(row["problems"]))
                session.receipt.restore(row["pack_key"], row["line"], problems)
                pack = PackState(row["seq"], row["line"], row["product_code"], problems, row["state"],
                                 row["service_code"], row["alert_code"])
                session.packs[row["pack_key"]] = pack
                if pack.seq is not None:
                    session._by_seq[pack.seq] = row["pack_key"]
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise SessionDamaged.text("receive_damaged", reference=str(record.get("reference") or "-"),
                                      why=f"{type(error).__name__}: {error}") from error
        session.catch_up()
        return session

    def catch_up(self) -> None:
        """Each pending pack of an op from before the restart brought up to its op's state in the outbox
        (an answer stored just before the cut, or one settled since without a word to the session)."""
        for seq, key in self._by_seq.items():
            pack = self.packs[key]
            if pack.state == PENDING and pack.seq == seq:
                self._catch_up(key, pack)

    def _catch_up(self, key: str, pack: PackState) -> None:
        """A pending pack whose op was answered before the cut, its answer not yet noted: noted now."""
        from fmd_terminal.errors import StorageError

        if self.outbox is None:  # a session with no outbox to read (it cannot have resumed)
            return
        try:
            word = _op_answer(self.outbox.op(pack.seq))
        except (StorageError, LookupError):
            return
        if word is not None:
            self._note_answer(key, pack, word)

    def owns(self, verdict: Any) -> bool:
        """Whether the verdict is about a pack of this session: checked against its note in this run,
        or the late answer of an op it recorded before a restart."""
        return "receiving" in verdict.details or (verdict.recorded and verdict.seq in self._by_seq)

    def _note_rows(self) -> list[dict[str, Any]]:
        return [{"product_code": line.product_code, "designation": line.designation, "quantity": line.quantity,
                 "batch": line.batch, "expiry": line.expiry.isoformat() if line.expiry else None}
                for line in self.note.lines]

    def on_verdict(self, verdict: Any) -> None:
        """A verdict shown or resolved for a pack of this session (``details["receiving"]``): its state."""
        check = verdict.details.get("receiving")
        if check is None and verdict.recorded and verdict.seq in self._by_seq:  # an op from before a restart
            key = self._by_seq[verdict.seq]
            self._note_answer(key, self.packs[key], verdict)
            return
        if check is None or not verdict.pack:
            return
        if ALREADY_SCANNED in check.problems:
            if verdict.event == "scan":
                self.rescans += 1
                if self.outbox is not None and self.id is not None:
                    receipts.note_rescan(self.outbox, self.id)
            return
        key = pack_key_of(verdict.pack)
        seq = verdict.seq if verdict.recorded else None
        known = self.packs.get(key)
        if known is None:
            known = self.packs[key] = PackState(seq, check.line, verdict.pack["product_code"], check.problems, PENDING)
        known.seq = seq if seq is not None else known.seq
        self._note_answer(key, known, verdict, verdict.details.get("service_light", verdict.light))

    def _note_answer(self, key: str, known: PackState, verdict: Any, light: str | None = None) -> None:
        """The pack's state from its latest verdict (``light``: the service's, before the note's
        differences made a green amber), kept in the outbox."""
        known.state = state_of(light or verdict.light, answered(verdict))
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
            self.catch_up()
            self.closed = self.summary(self.wall_ns())
            if self.outbox is not None and self.id is not None:
                receipts.close_receipt(self.outbox, self.id, self.closed.closed_ns or 0, self.closed.as_dict())
        return self.closed


def interrupt(outbox: Any, record: dict[str, Any], closed_ns: int) -> Summary:
    """Close a stored session that cannot be resumed, as interrupted, with what its row holds: no line
    of the note, the packs counted by their last stored state. Its note and packs stay in the outbox."""
    totals = dict.fromkeys(TOTALS, 0)
    for row in receipts.pack_rows(outbox, record["id"]):
        if row.get("state") in totals:
            totals[row["state"]] += 1
    totals["alerts"] = 0
    summary = Summary(str(record.get("reference") or "-"), str(record.get("source") or "-"), record.get("role"),
                      int(record.get("started_ns") or 0), closed_ns, [], int(record.get("rescans") or 0), totals,
                      interrupted=True)
    receipts.close_receipt(outbox, record["id"], closed_ns, summary.as_dict())
    return summary
