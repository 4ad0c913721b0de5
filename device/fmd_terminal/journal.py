"""The events journal of ``fmd-terminal run --events-jsonl PATH`` (or ``-`` for standard output).

One JSON object per line, written and flushed when the result is shown:

per scan::

  {"event": "scan", "seq": 12, "time": "2026-11-26T03:10:00.123+00:00", "mode": "dispense",
   "raw": "...", "pack": {decoder result fields} | null, "decode_error": "<reason code>" | null,
   "outcome": "decommissioned", "light": "green", "service_code": "NMVS_SUCCESS" | null,
   "alert_code": "A24" | null, "message": "Boîte désactivée"}

per later resolution of a scan shown as pending::

  {"event": "resolved", "seq": 12, "time": "...", "outcome": ..., "light": ..., "service_code": ...,
   "alert_code": ..., "message": ...}

``seq`` is the outbox op's seq when the scan was recorded (so a ``resolved`` event names its scan),
else the terminal's own count of scans since start (scans that were refused locally, or never reached
the outbox: decode failures, duplicates, expired packs). ``recorded`` says which of the two it is.
``pack`` is the decoder's ``as_dict()``; ``message`` is the headline in the configured language.

A scan the scan guard held (issue 8: the scanner's settings changed, it drops the group separator, or
it failed or lacks calibration) is a ``scan`` event with ``"outcome": "scanner_settings"``, ``"light":
"amber"``, ``"pack": null`` and ``"recorded": false``: it was neither recorded nor sent. ``raw`` is the
text as read (null when no keyboard country reads its keys). Calibration codes themselves are not
journaled: they are not scans of packs.
"""

from __future__ import annotations

import datetime
import json
import sys
from typing import IO, Any

from fmd_core.flow import Verdict
from fmd_terminal.errors import ConfigError


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def event_of(verdict: Verdict, message: str, time: str) -> dict[str, Any]:
    event: dict[str, Any] = {"event": verdict.event, "seq": verdict.seq, "time": time}
    if verdict.event == "scan":
        event.update(mode=verdict.mode, raw=verdict.raw, pack=verdict.pack, decode_error=verdict.decode_error)
    event.update(outcome=verdict.outcome, light=verdict.light, service_code=verdict.service_code,
                 alert_code=verdict.alert_code, message=message, recorded=verdict.recorded)
    return event


def line_of(event: dict[str, Any]) -> str:
    """One JSON line; a scan whose bytes were not UTF-8 (kept as lone surrogates by the reader) is
    written with ``\\uXXXX`` escapes, so the event is kept and the file stays valid UTF-8 (issue 12)."""
    line = json.dumps(event, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(event, ensure_ascii=True)
    return line


class Journal:
    """Writes events to a file (appending) or to standard output; ``""`` writes nothing."""

    def __init__(self, target: str = "") -> None:
        self._owned = False
        self._stream: IO[str] | None = None
        if target == "-":
            self._stream = sys.stdout
        elif target:
            try:
                self._stream = open(target, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
            except OSError as error:
                raise ConfigError.text("journal_unwritable", path=repr(target), why=error.strerror) from error
            self._owned = True

    def write(self, verdict: Verdict, message: str, time: str | None = None) -> dict[str, Any]:
        event = event_of(verdict, message, time or iso_now())
        if self._stream is not None:
            self._stream.write(line_of(event) + "\n")
            self._stream.flush()
        return event

    def close(self) -> None:
        if self._owned and self._stream is not None:
            self._stream.close()
        self._stream = None
