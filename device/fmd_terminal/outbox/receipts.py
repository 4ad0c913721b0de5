"""The receiving sessions kept in the outbox for audit (issue 17): tables ``receipt`` and ``receipt_pack``.

A session's row holds the delivery note (JSON), where it came from, the device's role, when it started
and closed, and its tally at closing (JSON, ``fmd_terminal.receiving.session.Summary.as_dict``). Each
pack of the session has a row naming its op (``seq``, None when nothing was recorded: a local refusal),
its note line, the differences found, and its last known state (``fmd_core.receiving``: accepted,
refused, pending) with the service's codes, updated as answers come. Written in the outbox's own
transactions, so a session survives a power cut with its ops: at the next start the terminal resumes
a session left open (``open_receipts``; ``fmd_terminal.receiving.session.resume``), its packs scanned
again (``rescans``) counted in the row so the tally is the one an uninterrupted session would give.
"""

from __future__ import annotations

import json
from typing import Any


def open_receipt(box: Any, reference: str, source: str, role: str | None, note: list[dict], started_ns: int) -> int:
    """A new session's row; returns its id."""
    with box.transaction() as db:
        db.execute("INSERT INTO receipt (reference, source, role, started_ns, note) VALUES (?, ?, ?, ?, ?)",
                   (reference, source, role, started_ns, json.dumps(note, ensure_ascii=False)))
        return int(db.execute("SELECT last_insert_rowid() AS id")[0]["id"])


def note_pack(box: Any, receipt_id: int, pack_key: str, *, seq: int | None, line: int | None, product_code: str,
              problems: tuple[str, ...], state: str, service_code: str | None, alert_code: str | None) -> None:
    """Record (or update) one pack of the session with its latest state."""
    with box.transaction() as db:
        db.execute(
            "INSERT INTO receipt_pack (receipt_id, pack_key, seq, line, product_code, problems, state, service_code,"
            " alert_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (receipt_id, pack_key) DO UPDATE SET"
            " seq = COALESCE(excluded.seq, seq), state = excluded.state,"
            " service_code = COALESCE(excluded.service_code, service_code),"
            " alert_code = COALESCE(excluded.alert_code, alert_code)",
            (receipt_id, pack_key, seq, line, product_code, json.dumps(list(problems)), state, service_code,
             alert_code))


def note_rescan(box: Any, receipt_id: int) -> None:
    """One more pack of the session scanned again (not counted, not sent): kept for the tally."""
    with box.transaction() as db:
        db.execute("UPDATE receipt SET rescans = rescans + 1 WHERE id = ?", (receipt_id,))


def open_receipts(box: Any) -> list[dict[str, Any]]:
    """The sessions not closed (a power cut or a killed process during a delivery), oldest first, as
    stored: ``note`` is the JSON text, decoded by whoever resumes the session (it may be damaged)."""
    with box.reading() as db:
        return [dict(row) for row in db.execute("SELECT * FROM receipt WHERE closed_ns IS NULL ORDER BY id")]


def pack_rows(box: Any, receipt_id: int) -> list[dict[str, Any]]:
    """The session's packs as stored, in the order they were first noted (``problems`` as JSON text)."""
    with box.reading() as db:
        return [dict(row) for row in db.execute("SELECT * FROM receipt_pack WHERE receipt_id = ? ORDER BY rowid",
                                                (receipt_id,))]


def close_receipt(box: Any, receipt_id: int, closed_ns: int, summary: dict) -> None:
    with box.transaction() as db:
        db.execute("UPDATE receipt SET closed_ns = ?, summary = ? WHERE id = ?",
                   (closed_ns, json.dumps(summary, ensure_ascii=False), receipt_id))


def receipts(box: Any) -> list[dict[str, Any]]:
    """Every session, oldest first, with its note and summary decoded (summary None while open; note
    None when its stored text no longer reads: such a session is closed as interrupted at start)."""
    with box.reading() as db:
        if not db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'receipt'"):
            return []  # an outbox no session was ever received in, attached read-only by a command
        rows = db.execute("SELECT * FROM receipt ORDER BY id")
    out = []
    for row in rows:
        record = dict(row)
        record["note"] = _decoded(row["note"])
        record["summary"] = json.loads(row["summary"]) if row["summary"] else None
        out.append(record)
    return out


def packs(box: Any, receipt_id: int) -> list[dict[str, Any]]:
    return [dict(row, problems=json.loads(row["problems"])) for row in pack_rows(box, receipt_id)]


def _decoded(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
