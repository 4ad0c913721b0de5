"""``fmd-terminal export``: the pharmacy's record of what it did (issue 5, "Records").

``--csv FILE`` and/or ``--jsonl FILE`` (``-`` for standard output) write every op with its pack
identifier, its times (raw and corrected, with their quality), the service's answer and every
resolution. JSON lines also carry the op's full attempt history. The files keep their format (column
names, values); the summary and the errors for a person are in ``--lang`` (else ``FMD_LANG``, else French).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys

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
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    parser.add_argument("--csv", metavar="FILE", help="write CSV ('-' for standard output)")
    parser.add_argument("--jsonl", metavar="FILE", help="write JSON lines with attempt history ('-' for standard output)")


def record_of(row: dict) -> dict:
    from fmd_terminal.outbox.sqlite import iso_utc

    out = {name: row.get(name) for name in COLUMNS}
    out["wall_time"] = iso_utc(row["wall_ns"])
    out["corrected_time"] = iso_utc(row["wall_corrected_ns"])
    out["resolved_at"] = iso_utc(row["resolved_at"])
    out["time_quality"] = row["time_quality"] or "unknown"
    return out


@contextlib.contextmanager
def _opened(path: str, texts: Texts):
    if path == "-":
        yield sys.stdout
        return
    from fmd_terminal.errors import ConfigError

    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as error:
        raise ConfigError(texts("cannot_write", path=repr(path), why=error.strerror)) from error
    with handle:
        yield handle


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.errors import ConfigError

    texts = texts_of(args)
    if not args.csv and not args.jsonl:
        raise ConfigError(texts("export_needs"))
    box = open_configured_outbox(args, copy_dir=directory_of(args.jsonl) or directory_of(args.csv))
    try:
        rows = box.ops()
        if args.csv:
            with _opened(args.csv, texts) as handle:
                writer = csv.DictWriter(handle, COLUMNS)
                writer.writeheader()
                for row in rows:
                    writer.writerow(record_of(row))
        if args.jsonl:
            with _opened(args.jsonl, texts) as handle:
                for row in rows:
                    record = record_of(row)
                    record["reasons"] = json.loads(row["reasons"] or "[]")
                    record["history"] = box.attempts(row["seq"])
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(texts("exported", count=len(rows)), file=sys.stderr)
        return 0
    finally:
        box.close()
