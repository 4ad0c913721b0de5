"""A scripted scanner: the terminal's in-memory twin of a real one (ARCHITECTURE.md, "Fakes are features").

``script://PATH`` reads JSON lines in the format of ``fmd-terminal decode`` (PACK-CODES.md):
``{"raw": "..."}`` is one scan (control characters as JSON escapes), ``{"mode": "verify"}`` switches
the terminal's mode. Blank lines are skipped; a line that is neither is reported as a ``FAULT`` naming
its line number, and the script goes on. After the last line every read returns ``END``.

A relative path is read from the current directory (``script://demo/scans.jsonl``); an absolute one
is written ``script:///abs/path.jsonl``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable

from fmd_terminal.errors import DeviceError
from fmd_terminal.scanners import END, FAULT, MODE, SCAN, ScanEvent


def parse_script_line(line: str, number: int, source: str) -> ScanEvent | None:
    """The event one script line stands for (None for a blank line)."""
    if not line.strip():
        return None
    try:
        item = json.loads(line)
    except ValueError as error:
        return ScanEvent(FAULT, f"{source} line {number}: not JSON ({error})", source=source)
    if isinstance(item, dict) and isinstance(item.get("raw"), str):
        return ScanEvent(SCAN, item["raw"], source=source)
    if isinstance(item, dict) and isinstance(item.get("mode"), str):
        return ScanEvent(MODE, item["mode"], source=source)
    return ScanEvent(
        FAULT,
        f'{source} line {number}: expected {{"raw": ...}} or {{"mode": ...}}, got {line.strip()[:80]!r}',
        source=source,
    )


class ScriptedScanSource:
    """A ``ScanSource`` that replays a list of events, then reports ``END``.

    ``waits_for_verdict``: the terminal reads the next event only once the scan before has its verdict,
    as a person waits for the light (a script's events are all there at once).
    """

    waits_for_verdict = True

    def __init__(self, events: Iterable[ScanEvent], source: str = "script://") -> None:
        self.source = source
        self._events = deque(events)
        self.closed = False

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = "script://") -> ScriptedScanSource:
        events = []
        for number, line in enumerate(lines, start=1):
            event = parse_script_line(line, number, source)
            if event is not None:
                events.append(event)
        return cls(events, source)

    @classmethod
    def from_file(cls, path: str) -> ScriptedScanSource:
        try:
            with open(path, encoding="utf-8") as script:
                lines = script.readlines()
        except OSError as error:
            raise DeviceError.text("script_unreadable", path=repr(path), why=error.strerror or str(error)) from error
        except UnicodeDecodeError as error:
            raise DeviceError.text("not_utf8", path=path, position=error.start + 1) from error
        return cls.from_lines(lines, f"script://{path}")

    def read(self, timeout_s: float) -> ScanEvent | None:
        if self._events:
            return self._events.popleft()
        return ScanEvent(END, source=self.source)

    def close(self) -> None:
        self.closed = True
