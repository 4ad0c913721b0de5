"""``fmd-terminal report --quarter [YYYYQn]``: the figure France's penalty is computed from.

Since 1 January 2024 a French pharmacy that does not decommission pays 2,000 EUR per quarter (loi
2023-171, art. L162-16-3-2 of the Code de la sécurité sociale), and France MVO reports
non-decommissioning pharmacies every quarter. The pharmacy can prove its quarter from its own outbox:
the number of decommissions the service accepted in the quarter and the date of the last one.

What counts (``quarter_summary``): a dispense or destruction in state ``done`` (accepted by the
service, or confirmed by a reconciling verify), whose service time (else its corrected time, else its
recorded time) falls in the quarter, and that no accepted undo later reversed. Quarters are calendar
quarters in the terminal's local time zone. Ops still queued, uncertain or needing attention are
reported beside the figure, since they may still add to it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from fmd_terminal.outbox.commands_support import add_outbox_arguments, open_configured_outbox, texts_of

DECOMMISSIONS = ("dispense", "destroy")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    parser.add_argument("--quarter", nargs="?", const="current", metavar="YYYYQn",
                        help="the quarter to report (default: the current one), e.g. 2026Q4")


def quarter_bounds(text: str, now: float | None = None) -> tuple[str, int, int]:
    """(label, start_ns, end_ns) of a calendar quarter in local time; ``current`` is the one holding ``now``."""
    from fmd_terminal.errors import ConfigError

    if text == "current":
        today = dt.datetime.fromtimestamp(time.time() if now is None else now).astimezone()
        year, number = today.year, (today.month - 1) // 3 + 1
    else:
        match = _QUARTER.match(text.strip())
        if match is None:
            raise ConfigError.text("bad_quarter", value=repr(text))
        year, number = int(match.group(1)), int(match.group(2))
    start = dt.datetime(year, 3 * number - 2, 1).astimezone()
    end = dt.datetime(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1).astimezone()
    return f"{year}Q{number}", int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9


def _time_ns(row: Mapping[str, Any]) -> int:
    """The service's time of the answer when it gave one, else the best time the terminal knows."""
    for name in ("svc_time_ns", "wall_corrected_ns", "wall_ns"):
        if row.get(name):
            return int(row[name])
    return 0


def quarter_summary(rows: Iterable[Mapping[str, Any]], start_ns: int, end_ns: int) -> dict[str, Any]:
    """Count accepted decommissions in [start_ns, end_ns) that no accepted undo reversed (module docstring)."""
    rows = list(rows)
    undone = {r["ref_seq"] for r in rows if r["kind"] == "undo_dispense" and r["state"] == "done" and r["ref_seq"]}
    counted = [r for r in rows if r["kind"] in DECOMMISSIONS and r["state"] == "done" and r["seq"] not in undone
               and start_ns <= _time_ns(r) < end_ns]
    open_ops = [r for r in rows if r["kind"] in DECOMMISSIONS
                and r["state"] in ("queued", "in_flight", "uncertain", "needs_attention")
                and start_ns <= _time_ns(r) < end_ns]
    last = max((_time_ns(r) for r in counted), default=None)
    return {"count": len(counted), "last_ns": last, "undone": len(undone), "open": len(open_ops)}


def outbox_summary(box: Any, quarter: str = "current") -> tuple[str, dict[str, Any]]:
    """The quarter's label and ``quarter_summary`` read from an open outbox (``report`` and the terminal's
    screen on request, issue 14 item 6)."""
    label, start_ns, end_ns = quarter_bounds(quarter)
    rows = box.ops(where="op.kind IN ('dispense', 'destroy', 'undo_dispense')")
    return label, quarter_summary(rows, start_ns, end_ns)


def last_text(last_ns: int | None, never: str) -> str:
    """The date of the last counted decommission in local time, else ``never``."""
    return dt.datetime.fromtimestamp(last_ns / 1e9).astimezone().strftime("%Y-%m-%d %H:%M") if last_ns else never


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.errors import ConfigError

    texts = texts_of(args)
    if not args.quarter:
        raise ConfigError(texts("report_needs"))
    quarter_bounds(args.quarter)  # a malformed quarter is refused before the outbox is opened
    box = open_configured_outbox(args)
    try:
        label, summary = outbox_summary(box, args.quarter)
    finally:
        box.close()
    when = last_text(summary["last_ns"], texts("report_never"))
    print(texts("report_quarter", quarter=label, count=summary["count"], last=when))
    if summary["open"]:
        print(texts("report_open", count=summary["open"]))
    return 0
