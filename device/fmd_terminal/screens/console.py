"""The console screen (``console://``): the same ``ScreenModel`` as text, one block per screen.

For ``make run``, a laptop demo and the journal of a headless box. On a TTY the light colours the
headline (ANSI green, yellow for amber, red in inverse video); anywhere else the block is plain
text that reads well in a log. Options: ``console://?color=1`` (or ``0``) forces colours on or
off; ``console://stderr`` writes to standard error. Like the OLED it draws only on change.

    +-- DÉLIVRER ----------------- 3 en attente --+
    | [GREEN] Boîte authentique                    |
    |   PC 03400933112345                          |

is what the block looks like (without the frame when there is no mode and no badge). A model with
a QR code (the web console's address) has the code printed in half blocks below its block.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO
from urllib.parse import SplitResult, parse_qsl

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError
from fmd_terminal.screens.qr import matrix, text_rows

log = logging.getLogger(__name__)

WIDTH = 48

_ANSI = {"green": "\x1b[1;32m", "amber": "\x1b[1;33m", "red": "\x1b[1;7;31m"}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"


def format_block(model: ScreenModel, *, color: bool = False, width: int = WIDTH) -> str:
    """The text block for ``model`` (``width`` columns; long texts are kept whole, never cut)."""
    inner = width - 4
    head = " ".join(part for part in (model.mode, model.badge) if part)
    if model.mode and model.badge:
        gap = max(1, width - 8 - len(model.mode) - len(model.badge))
        head = f"{model.mode} {'-' * gap} {model.badge}"
    top = f"+-- {head} " if head else "+--"
    top = top + "-" * max(0, width - 1 - len(top)) + "+"
    tag = f"[{model.light.upper()}]" if model.light else "[....]" if model.busy else "[    ]"
    headline = f"{tag} {model.headline}"
    if color and model.light in _ANSI:
        headline = f"{_ANSI[model.light]}{tag}{_RESET} {model.headline}"
    rows = [headline] + [f"  {line}" for line in model.lines]
    visible = [len(f"{tag} {model.headline}")] + [len(row) for row in rows[1:]]
    body = [f"| {row}{' ' * max(0, inner - shown)} |" for row, shown in zip(rows, visible, strict=True)]
    bottom = "+" + "-" * (width - 2) + "+"
    if color:
        top, bottom = f"{_DIM}{top}{_RESET}", f"{_DIM}{bottom}{_RESET}"
    code = text_rows(matrix(model.qr)) if model.qr else []  # the console's address (issue 15), below the block
    return "\n".join([top, *body, bottom, *code])


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ConsoleScreen:
    """Prints one block per changed model to ``stream``."""

    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.color = _is_tty(self.stream) if color is None else color
        self._last: ScreenModel | None = None
        self._failed = False
        self._lock = threading.Lock()

    def show(self, model: ScreenModel) -> None:
        with self._lock:
            if model == self._last:
                return
            self._last = model
            try:
                self.stream.write(format_block(model, color=self.color) + "\n")
                self.stream.flush()
            except (OSError, ValueError) as exc:  # a closed or broken stdout must not stop the terminal
                if not self._failed:
                    log.warning("console screen cannot write (%s); the terminal goes on without it", exc)
                self._failed = True

    def close(self) -> None:
        """Nothing to release (the stream belongs to the caller)."""


def open_console(parts: SplitResult, *, stream: TextIO | None = None) -> ConsoleScreen:
    """``console://`` (stdout), ``console://stderr``, ``console://?color=0|1``."""
    target = parts.netloc.lower()
    if target not in ("", "stdout", "stderr"):
        raise ConfigError.text("console_screen_url", url=repr(parts.geturl()))
    if stream is None:
        stream = sys.stderr if target == "stderr" else sys.stdout
    color = None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "color" or value not in ("0", "1"):
            raise ConfigError.text("console_screen_color", url=repr(parts.geturl()))
        color = value == "1"
    return ConsoleScreen(stream, color=color)
