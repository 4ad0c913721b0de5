"""What the console's pages show, read from the running terminal's own objects (no second outbox).

The console runs in the terminal's process and reads the terminal's outbox (its read connection:
the scan path's writer never waits for a page) and its sync worker's status; resolutions and
exports go through the same functions as ``fmd-terminal attention`` and ``fmd-terminal export``.
"""

from __future__ import annotations

import datetime
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from fmd_terminal import __version__

# the op kinds that decommission a pack (a successful one is "the last decommission")
DECOMMISSIONS = ("dispense", "destroy")


def _iso(ns: int | None) -> str:
    return "" if ns is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


def status(terminal: Any) -> dict[str, Any]:
    """The terminal's state for the status page and its live stream (a plain JSON-able dict)."""
    box, worker = terminal.outbox, terminal.worker
    queue = dict(worker.status()) if hasattr(worker, "status") else {"pending": box.pending_count()}
    oldest = box.oldest_pending() if hasattr(box, "oldest_pending") else None
    last = box.ops("op.state = 'done' AND op.kind IN ('dispense', 'destroy')", order="op.seq DESC LIMIT 1")
    alerts = box.ops("op.alert_id IS NOT NULL OR op.state = 'needs_attention'", order="op.seq DESC LIMIT 5")
    directory = os.path.dirname(os.path.abspath(getattr(box, "where", "") or ".")) or "."
    usage = shutil.disk_usage(directory if os.path.isdir(directory) else ".")
    scanner_profile = getattr(terminal.scanner, "profile", None)
    return {
        "version": __version__, "mode": terminal.flow.mode,
        "link": queue.get("breaker", "unknown"), "paused": box.read_meta("paused"),
        "pending": int(queue.get("pending", 0)), "attention": int(queue.get("attention", box.attention_count())),
        "oldest_age_s": queue.get("oldest_age_s"), "oldest_seq": oldest["seq"] if oldest else None,
        "level": queue.get("level"), "alarm": queue.get("text"),
        "storage_alarms": dict(queue.get("storage_alarms") or {}),
        "free_mb": usage.free // 2**20, "total_mb": usage.total // 2**20,
        "last_decommission": _iso(last[0]["wall_corrected_ns"] or last[0]["wall_ns"]) if last else "",
        "scanner": "calibrated" if scanner_profile is not None else (
            "not_calibrated" if hasattr(terminal.scanner, "profile") else "unguarded"),
        "alerts": [{"seq": row["seq"], "kind": row["kind"], "product_code": row["product_code"],
                    "serial": row["serial"], "alert_code": row["alert_code"] or "", "state": row["state"],
                    "return_code": row["return_code"] or ""} for row in alerts],
    }


def credentials(config: Any, now: float | None = None) -> list[dict[str, Any]]:
    """Certificate, password and terms health (``credential_health.states``, as the idle screen and
    ``doctor`` compute it), with the light each shows: a plain JSON-able list."""
    from fmd_terminal.config import enrolment_path
    from fmd_terminal.credential_health import LEVELS, states

    now = time.time() if now is None else now
    directory = enrolment_path(config)  # where the account's dates are kept (``fmd-terminal account``)
    return [{"kind": kind, "state": state, "days": days, "until": _iso(int(until * 1e9)) if until is not None else "",
             "level": LEVELS[state], "tracked": directory is not None}
            for kind, state, days, until in states(config, directory, now)]


def day_bounds_ns(day: str) -> tuple[int, int]:
    """The local day ``YYYY-MM-DD`` as [start, end) in ns since the epoch; ``ValueError`` if not a date."""
    start = datetime.datetime.strptime(day, "%Y-%m-%d").astimezone()
    end = start + datetime.timedelta(days=1)
    return int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)


def history(box: Any, product_code: str = "", serial: str = "", day: str = "") -> list[dict[str, Any]]:
    """Ops of one pack (product code, serial: either may be given alone) and/or of one local day."""
    where: list[str] = ["1"]
    params: list[Any] = []
    if product_code:
        where.append("op.product_code = ?")
        params.append(product_code)
    if serial:
        where.append("op.serial = ?")
        params.append(serial)
    if day:
        start, end = day_bounds_ns(day)
        where.append("COALESCE(op.wall_corrected_ns, op.wall_ns) >= ? AND COALESCE(op.wall_corrected_ns, op.wall_ns) < ?")
        params += [start, end]
    rows = box.ops(" AND ".join(where), tuple(params), order="op.seq DESC LIMIT 500")
    return [{**row, "time": _iso(row["wall_corrected_ns"] or row["wall_ns"])} for row in rows]


def export(box: Any, kind: str) -> bytes:
    """Every op as ``csv`` (for a French spreadsheet) or ``jsonl``, through ``fmd-terminal export``'s writers."""
    from fmd_terminal.commands.export import write_csv, write_jsonl

    handle = io.StringIO(newline="")
    rows = box.ops()
    if kind == "csv":
        write_csv(handle, rows, excel=True)
        return b"\xef\xbb\xbf" + handle.getvalue().encode("utf-8")
    write_jsonl(handle, box, rows)
    return handle.getvalue().encode("utf-8")


def backup(outbox_url: str) -> bytes | None:
    """A consistent copy of a ``sqlite://`` outbox, on a connection of its own as ``fmd-terminal backup``
    makes it (the scan path's writer never waits for it); None for another outbox (``memory://``)."""
    from fmd_terminal.outbox.backup import backup_outbox
    from fmd_terminal.outbox.commands_support import sqlite_path
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox

    path = sqlite_path(outbox_url)
    if path is None:
        return None
    box = open_sqlite_outbox(path, attach=True)
    try:
        with tempfile.TemporaryDirectory(prefix="fmd-console-") as directory:
            target = os.path.join(directory, "outbox-backup.db")
            backup_outbox(box, target)
            with open(target, "rb") as handle:
                return handle.read()
    finally:
        box.close()


def calibration(terminal: Any, lang: str) -> dict[str, Any]:
    """The scanner's calibration: the stored profile and what to change (``fmd_core.calibration.advice``)."""
    from fmd_core.calibration import advice

    scanner = terminal.scanner
    if not hasattr(scanner, "profile"):
        return {"guarded": False, "profile": None, "advice": []}
    profile = scanner.profile
    return {"guarded": True, "profile": profile.as_dict() if profile is not None else None,
            "advice": advice(profile, lang) if profile is not None else []}


def receiving(terminal: Any) -> dict[str, Any]:
    """The receiving page (issue 17): the open session's tally line by line (``ReceivingSession.summary``,
    as the closing one), and every session kept in the outbox, newest first (``export --receipts``'s)."""
    from fmd_terminal.outbox.receipts import receipts
    from fmd_terminal.receiving.report import summary_of

    session = terminal.session  # one read: the loop's thread may replace it meanwhile
    current = None
    if session is not None:
        current = session.summary()
    past = []
    for record in reversed(receipts(terminal.outbox)) if hasattr(terminal.outbox, "reading") else []:
        summary = summary_of(record)
        past.append({"id": record["id"], "reference": record["reference"], "source": record["source"],
                     "started": _iso(record["started_ns"]), "closed": _iso(record["closed_ns"]),
                     "totals": summary.totals if summary is not None else {}})
    return {"current": current, "past": past}


def receipt_file(box: Any, receipt_id: int, kind: str, lang: str) -> tuple[str, bytes] | None:
    """A closed session's summary as ``csv`` or ``pdf`` (``receiving.report``'s writers, as the closing
    writes them): its file name and bytes; None when no closed session has that id."""
    from fmd_terminal.outbox.receipts import receipts
    from fmd_terminal.receiving.report import file_stem, summary_of, write_csv, write_pdf

    record = next((r for r in receipts(box) if r["id"] == receipt_id), None)
    summary = summary_of(record) if record is not None else None
    if summary is None:
        return None
    stem = file_stem(summary)
    with tempfile.TemporaryDirectory(prefix="fmd-console-") as directory:
        target = os.path.join(directory, f"{stem}.{kind}")
        (write_csv if kind == "csv" else write_pdf)(summary, Path(target), lang)
        with open(target, "rb") as handle:
            return f"{stem}.{kind}", handle.read()


def uploaded_note(name: str, data: bytes) -> Any:
    """The delivery note uploaded as ``name`` (``load_note_file``: ``.xml`` a Despatch Advice, else CSV),
    read from a private temporary copy; its ``source`` says it came through the console. Raises
    ``NoteError`` with every bad line."""
    from dataclasses import replace

    from fmd_terminal.receiving.note_files import load_note_file

    with tempfile.TemporaryDirectory(prefix="fmd-console-note-") as directory:
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return replace(load_note_file(path), source=f"console:{name}")
