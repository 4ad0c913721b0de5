"""Scans from standard input: one scan per line (``stdin://``).

For a person at a terminal and for pipes. A line is one scan, its line ending removed. When standard
input is a terminal, a person cannot type GS, RS or EOT, so ``\\x1d``-style escapes are accepted there
(``\\x1d`` GS, ``\\x1e`` RS, ``\\x04`` EOT, ``\\\\`` a backslash), as in ``fmd-terminal decode --text``
(PACK-CODES.md). A line longer than the length cap is reported as a fault and skipped; the end of
input is ``END``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from fmd_core.framing import DEFAULT_MAX_LENGTH
from fmd_terminal.scanners import END, FAULT, SCAN
from fmd_terminal.scanners.queued import QueuedScanSource

HEX_DIGITS = "0123456789abcdefABCDEF"


def unescape(text: str) -> str:
    """Replace ``\\xNN`` escapes and ``\\\\`` by the characters they name; anything else is kept."""
    out = []
    index = 0
    while index < len(text):
        ch = text[index]
        if ch == "\\" and text[index + 1 : index + 2] == "\\":
            out.append("\\")
            index += 2
            continue
        digits = text[index + 2 : index + 4]
        if (
            ch == "\\"
            and text[index + 1 : index + 2] == "x"
            and len(digits) == 2
            and all(d in HEX_DIGITS for d in digits)
        ):
            out.append(chr(int(digits, 16)))
            index += 4
            continue
        out.append(ch)
        index += 1
    return "".join(out)


class StdinScanSource(QueuedScanSource):
    """A ``ScanSource`` reading lines from a text stream (standard input by default)."""

    thread_name = "scanner-stdin"
    join_timeout_s = 0.2  # a blocked readline cannot be interrupted; the daemon thread ends with us

    def __init__(
        self,
        stream: TextIO | None = None,
        escapes: bool | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        super().__init__("stdin://", clock_ns)
        self.stream = stream if stream is not None else sys.stdin
        if escapes is None:
            isatty = getattr(self.stream, "isatty", None)
            escapes = bool(isatty and isatty())
        self.escapes = escapes
        self.max_length = max_length

    def _run(self) -> None:
        while not self.stopped:
            line = self.stream.readline(self.max_length + 3)
            if not line:
                self._emit(END)
                self._stop.set()
                return
            too_long = f"scan longer than {self.max_length} characters: discarded up to its end"
            if len(line) == self.max_length + 3 and not line.endswith("\n"):
                while line and not line.endswith("\n"):  # skip the rest without keeping it
                    line = self.stream.readline(self.max_length + 3)
                self._emit(FAULT, too_long)
                continue
            text = line.rstrip("\r\n")
            if len(text) > self.max_length:
                self._emit(FAULT, too_long)
                continue
            if self.escapes:
                text = unescape(text)
            if text:
                self._emit(SCAN, text)
