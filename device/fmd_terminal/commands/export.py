"""``fmd-terminal export``: the pharmacy's record of what it did (issue 5, "Records").

``--csv FILE`` and/or ``--jsonl FILE`` (``-`` for standard output) write every op with its pack
identifier, its kind and the terminal's mode at the scan (``mode``: a receive-mode scan is a
``dispense`` op; empty for a dispense recorded before the mode was kept), its times (raw and
corrected, with their quality), the service's answer and every resolution. JSON lines also carry the
op's full attempt history. The files keep their format (column names, values); the summary and the
errors for a person are in ``--lang`` (else ``FMD_LANG``, else French).

``--receipts`` lists the receiving sessions kept in the outbox (issue 17), one line each (id, note
reference, source, role, start and closing times, then the tally's totals); with ``--receipts-dir DIR``
each closed session's summary is also written there as CSV and PDF (``receiving.report``), with
``--receipt ID`` only that one.

``--excel`` makes the CSV one a French spreadsheet (Excel, LibreOffice Calc) opens as it is: UTF-8
with a byte-order mark (else accents come out garbled), ``;`` between fields (the comma is the
French decimal separator), CRLF line ends, times as local ``JJ/MM/AAAA HH:MM:SS`` (a date cell), and
every code a spreadsheet would turn into a number, a date or a formula (``03400930012345`` losing its
leading zero, a serial starting with ``=``) written as the text formula ``="..."``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import re
import sys
import time

from fmd_core.modes import OP_KIND
from fmd_terminal.outbox.commands_support import (
    add_outbox_arguments,
    directory_of,
    open_configured_outbox,
    texts_of,
)
from fmd_terminal.outbox.texts import Texts

COLUMNS = [
    "seq", "op_id", "kind", "state", "origin", "scheme", "product_code", "serial", "batch", "expiry", "nhrn",
    "entry_mode", "user_id", "client_trx_id", "wall_time", "wall_quality", "corrected_time", "time_quality",
    "attempts", "svc_trx_id", "svc_time", "return_code", "return_desc", "pack_state_after", "alert_id",
    "alert_code", "intermarket", "reconciled", "resolved_by", "resolved_at", "resolution", "resolution_note",
    "mode",  # added last (issue 12): a reader of the earlier columns by position is not disturbed
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    parser.add_argument("--csv", metavar="FILE", help="write CSV ('-' for standard output)")
    parser.add_argument("--jsonl", metavar="FILE", help="write JSON lines with attempt history ('-' for standard output)")
    parser.add_argument("--excel", action="store_true",
                        help="with --csv: for a French spreadsheet (UTF-8 with BOM, ';', local dates, codes as text)")
    parser.add_argument("--receipts", action="store_true", help="list the receiving sessions (issue 17)")
    parser.add_argument("--receipts-dir", metavar="DIR", dest="receipts_dir",
                        help="with --receipts: write each closed session's summary there (CSV and PDF)")
    parser.add_argument("--receipt", metavar="ID", type=int, help="with --receipts: only this session")


def record_of(row: dict) -> dict:
    from fmd_terminal.outbox.sqlite import iso_utc

    out = {name: row.get(name) for name in COLUMNS}
    for column, source in TIME_COLUMNS.items():
        out[column] = iso_utc(row[source])
    out["time_quality"] = row["time_quality"] or "unknown"
    out["mode"] = row.get("mode") or _MODE_OF_KIND.get(row["kind"])
    return out


# column -> the op row's time (ns since the epoch) it shows
TIME_COLUMNS = {"wall_time": "wall_ns", "corrected_time": "wall_corrected_ns", "resolved_at": "resolved_at"}
# Ops recorded before ``op.mode`` existed: the mode their kind can only come from (a dispense may
# have been scanned in dispense or in receive mode, so it stays empty).
_MODE_OF_KIND = {kind: mode for mode, kind in OP_KIND.items() if list(OP_KIND.values()).count(kind) == 1}
# what a spreadsheet reads as a number, a date or a formula rather than as text
_NOT_TEXT = re.compile(r"^[\d\s.,:/+\-Ee%]*\d[\d\s.,:/+\-Ee%]*$|^[=+\-@\t\r]")


class FrenchSpreadsheet(csv.excel):
    """The CSV dialect a French Excel or LibreOffice opens without an import dialog."""

    delimiter = ";"


def spreadsheet_record(record: dict, row: dict) -> dict:
    """``record`` (of the op ``row``) for a French spreadsheet: local times ``JJ/MM/AAAA HH:MM:SS``, and
    codes that would be read as numbers, dates or formulas as ``="..."`` text."""
    out = {}
    for name, value in record.items():
        if name in TIME_COLUMNS:
            ns = row[TIME_COLUMNS[name]]
            value = None if ns is None else time.strftime("%d/%m/%Y %H:%M:%S", time.localtime(ns / 1e9))
        else:
            value = spreadsheet_text(value)
        out[name] = value
    return out


def spreadsheet_text(value: object) -> object:
    """A code a spreadsheet would read as a number, a date or a formula, as the text formula ``="..."``."""
    if isinstance(value, str) and _NOT_TEXT.search(value):
        return '="' + value.replace('"', '""') + '"'
    return value


def write_csv(handle, rows: list[dict], *, excel: bool = False) -> None:
    """The ops ``rows`` as CSV (``excel``: for a French spreadsheet); the CLI and the web console write this."""
    writer = csv.DictWriter(handle, COLUMNS, dialect=FrenchSpreadsheet if excel else csv.excel)
    writer.writeheader()
    for row in rows:
        record = record_of(row)
        writer.writerow(spreadsheet_record(record, row) if excel else record)


def write_jsonl(handle, box, rows: list[dict]) -> None:
    """The ops ``rows`` as JSON lines with their reasons and attempt history."""
    for row in rows:
        record = record_of(row)
        record["reasons"] = json.loads(row["reasons"] or "[]")
        record["history"] = box.attempts(row["seq"])
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def _opened(path: str, texts: Texts, bom: bool = False):
    if path == "-":
        if bom:
            sys.stdout.write("\ufeff")
        yield sys.stdout
        return
    from fmd_terminal.errors import ConfigError

    try:
        handle = open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="")
    except OSError as error:
        raise ConfigError(texts("cannot_write", path=repr(path), why=error.strerror)) from error
    with handle:
        yield handle


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.errors import ConfigError

    texts = texts_of(args)
    if getattr(args, "receipts", False):
        return export_receipts(args, texts)
    if not args.csv and not args.jsonl:
        raise ConfigError(texts("export_needs"))
    if args.excel and not args.csv:
        raise ConfigError(texts("excel_needs_csv"))
    box = open_configured_outbox(args, copy_dir=directory_of(args.jsonl) or directory_of(args.csv))
    try:
        rows = box.ops()
        if args.csv:
            with _opened(args.csv, texts, bom=args.excel) as handle:
                write_csv(handle, rows, excel=args.excel)
        if args.jsonl:
            with _opened(args.jsonl, texts) as handle:
                write_jsonl(handle, box, rows)
        print(texts("exported", count=len(rows)), file=sys.stderr)
        return 0
    finally:
        box.close()


RECEIPT_COLUMNS = ("id", "reference", "source", "role", "started", "closed", "ordered", "accepted", "pending",
                   "refused", "missing", "extra", "alerts")


def export_receipts(args: argparse.Namespace, texts: Texts) -> int:
    """The receiving sessions, one ``;``-separated line each after a header; their files when asked."""
    from pathlib import Path

    from fmd_terminal.outbox.receipts import receipts
    from fmd_terminal.receiving.report import summary_of, write_files

    box = open_configured_outbox(args, copy_dir=args.receipts_dir)
    try:
        records = [r for r in receipts(box) if args.receipt is None or r["id"] == args.receipt]
    finally:
        box.close()
    print(";".join(RECEIPT_COLUMNS))
    written = 0
    for record in records:
        summary = summary_of(record)
        totals = summary.totals if summary is not None else {}
        when = {"started": record["started_ns"], "closed": record["closed_ns"]}
        values = {**record, **totals, **{k: time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(v / 1e9)) if v else ""
                                         for k, v in when.items()}}
        print(";".join(str(values.get(name) if values.get(name) is not None else "") for name in RECEIPT_COLUMNS))
        if summary is not None and args.receipts_dir:
            for path in write_files(summary, Path(args.receipts_dir), texts.lang):
                print(path, file=sys.stderr)
                written += 1
    print(texts("receipts_listed", count=len(records), files=written), file=sys.stderr)
    return 0
