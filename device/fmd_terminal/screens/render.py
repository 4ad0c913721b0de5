"""Draw a ``ScreenModel`` on a monochrome 128x64 canvas (SCANNERS-AND-HARDWARE.md section 4).

``render(model)`` is pure: the same model gives the same pixels, whatever the device. It uses the
bundled Spleen pixel font (BSD-2-Clause, ``fonts/LICENSE-spleen.txt``), 8x16 for the headline and
6x12 for everything else, loaded once with ``ImageFont.truetype``; its glyphs are squares on the
pixel grid, so mode "1" shows them without thresholding artefacts and golden images do not move
with Pillow's default font.

Layout, top to bottom:

- a 12-pixel bar: the mode label in inverse video on the left, the badge (e.g. "3 en attente")
  right-aligned; left out when the model has neither;
- the headline (the verdict), centred: one 8x16 row when it fits, else wrapped 8x16 rows, else
  wrapped 6x12 rows, else one truncated 6x12 row ending in an ellipsis. A red headline is drawn
  in inverse video, so a blocked pack (VERIFICATION-SERVICE.md section 10) stands out even on a
  one-colour panel;
- up to three detail lines in 6x12, in order, each truncated with an ellipsis; a long line wraps
  only into rows the headline left free. Detail lines always keep their row: the alert code and
  alert id that Art. 36 and the NMVO follow-up need are never pushed off by a long headline.

A model with a ``qr`` text (the web console's address, issue 15) is laid out otherwise: the QR code
on the left, at 2 pixels per module when it fits the height (1 else), its modules unlit on a lit
square with a quiet zone of up to 4 modules (a phone reads dark modules on a light ground); on the
right, in 6x12, the headline and then each detail line wrapped whole (the URL is never cut: a person
may type it). The mode bar is left out: 64 pixels are the code's height.

Characters outside the fonts (ISO 8859-1) fall back to an ASCII look-alike ("–" to "-", "œ" to
"oe", "ő" to "o") or "?"; nothing in a model can make ``render`` raise.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fmd_core.screen import ScreenModel

FONT_DIR = Path(__file__).with_name("fonts")
BIG_FONT = FONT_DIR / "spleen-8x16.otf"
SMALL_FONT = FONT_DIR / "spleen-6x12.otf"

BAR_HEIGHT = 12
ELLIPSIS = "\u2026"  # one cell wide; drawn as three dots where the font has no glyph for it
MAX_DETAIL_LINES = 3

# Look-alikes for what the Spleen 6x12 font (ISO 8859-1) lacks; typography that translations use.
_FALLBACK = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u0153": "oe",
    "\u0152": "OE",
    "\u20ac": "EUR",
    "\u2022": "\u00b7",
    "\u202f": " ",
    "\u2009": " ",
    "\u00a0": " ",
    "\t": " ",
    "\n": " ",
    "\r": " ",
}


class _Face:
    """A monospaced font with its cell size, loaded once."""

    __slots__ = ("font", "cell_width", "cell_height")

    def __init__(self, path: Path, size: int, cell_width: int):
        self.font = ImageFont.truetype(str(path), size)
        self.cell_width = cell_width
        self.cell_height = size

    def columns(self, width: int) -> int:
        return max(1, width // self.cell_width)


@functools.cache
def _faces() -> tuple[_Face, _Face]:
    return _Face(BIG_FONT, 16, 8), _Face(SMALL_FONT, 12, 6)


@functools.lru_cache(maxsize=512)
def printable(text: str) -> str:
    """``text`` in characters the bundled fonts have (ISO 8859-1), look-alikes for the others."""
    out = []
    for char in unicodedata.normalize("NFC", str(text)):
        code = ord(char)
        if 0x20 <= code < 0x7F or 0xA1 <= code <= 0xFF or char == ELLIPSIS:
            out.append(char)
        elif char in _FALLBACK:
            out.append(_FALLBACK[char])
        else:
            base = unicodedata.normalize("NFKD", char)[:1]
            if base and (0x20 <= ord(base) < 0x7F or 0xA1 <= ord(base) <= 0xFF):
                out.append(base)
            elif unicodedata.category(char)[0] in "CZ":
                out.append(" " if unicodedata.category(char)[0] == "Z" else "")
            else:
                out.append("?")
    return "".join(out).strip()


def wrap(text: str, columns: int) -> list[str]:
    """Split ``text`` into rows of at most ``columns`` characters, at spaces where possible."""
    rows: list[str] = []
    row = ""
    for word in text.split():
        while len(word) > columns:  # a word longer than a row (an alert id) breaks anywhere
            if row:
                rows.append(row)
                row = ""
            rows.append(word[:columns])
            word = word[columns:]
        if not word:
            continue
        if not row:
            row = word
        elif len(row) + 1 + len(word) <= columns:
            row += " " + word
        else:
            rows.append(row)
            row = word
    if row:
        rows.append(row)
    return rows


class _Row:
    """One row of text to draw in one face."""

    __slots__ = ("face", "text")

    def __init__(self, face: _Face, text: str):
        self.face = face
        self.text = text

    @property
    def width(self) -> int:
        return len(self.text) * self.face.cell_width


def _truncate(face: _Face, text: str, columns: int) -> _Row:
    if len(text) <= columns:
        return _Row(face, text)
    return _Row(face, text[: columns - 1].rstrip() + ELLIPSIS)


def _wrapped(face: _Face, text: str, columns: int, max_rows: int) -> list[_Row]:
    """Wrap ``text`` into at most ``max_rows`` rows; the last one ends in an ellipsis if cut."""
    rows = wrap(text, columns)
    if len(rows) <= max_rows:
        return [_Row(face, row) for row in rows]
    kept = [_Row(face, row) for row in rows[: max_rows - 1]]
    rest = " ".join(rows[max_rows - 1 :])
    kept.append(_truncate(face, rest, columns) if len(rest) >= columns else _Row(face, rest + ELLIPSIS))
    return kept


def _headline_rows(text: str, width: int, room: int) -> list[_Row]:
    """The largest legible headline that fits ``room`` pixels of height (see the module doc)."""
    big, small = _faces()
    if not text:
        return []
    for face in (big, small):
        rows = wrap(text, face.columns(width))
        if len(rows) * face.cell_height <= room:
            return [_Row(face, row) for row in rows]
    return _wrapped(small, text, small.columns(width), max(1, room // small.cell_height))


def _detail_rows(lines: list[str], width: int, spare_rows: int) -> list[_Row]:
    small = _faces()[1]
    columns = small.columns(width)
    rows: list[_Row] = []
    for line in lines:
        wrapped = wrap(line, columns) or [""]
        extra = min(spare_rows, len(wrapped) - 1)
        spare_rows -= extra
        if extra:
            rows.extend(_wrapped(small, line, columns, extra + 1))
        else:
            rows.append(_truncate(small, line, columns))
    return rows


def _draw_row(draw: ImageDraw.ImageDraw, row: _Row, x: int, y: int, fill: int) -> None:
    face = row.face
    if face.cell_width == 8 or ELLIPSIS not in row.text:  # the 8x16 font has its own "…"
        draw.text((x, y), row.text, font=face.font, fill=fill)
        return
    # The 6x12 font has no "…": three dots on the baseline of its cell.
    for index, piece in enumerate(row.text.split(ELLIPSIS)):
        if index:
            for dx in (0, 2, 4):
                draw.point((x + dx, y + face.cell_height - 4), fill=fill)
            x += face.cell_width
        draw.text((x, y), piece, font=face.font, fill=fill)
        x += len(piece) * face.cell_width


def _draw_bar(draw: ImageDraw.ImageDraw, mode: str, badge: str, width: int) -> None:
    small = _faces()[1]
    columns = small.columns(width - 2)
    badge_row = _truncate(small, badge, max(0, columns - 4)) if badge else None
    badge_cols = len(badge_row.text) if badge_row else 0
    if mode:
        mode_row = _truncate(small, mode, max(1, columns - badge_cols - (1 if badge_cols else 0)))
        mode_width = mode_row.width + 2
        draw.rectangle((0, 0, mode_width - 1, BAR_HEIGHT - 1), fill=1)
        _draw_row(draw, mode_row, 1, 0, 0)
    if badge_row:
        _draw_row(draw, badge_row, width - badge_row.width, 0, 1)
    draw.line((0, BAR_HEIGHT - 1, width - 1, BAR_HEIGHT - 1), fill=1)


def _draw_qr(image: Image.Image, draw: ImageDraw.ImageDraw, model: ScreenModel, width: int, height: int) -> None:
    """The QR layout (see the module doc): the code left, the headline and lines wrapped on the right."""
    from fmd_terminal.screens.qr import matrix

    modules = matrix(model.qr)
    count = len(modules)
    scale = 2 if (count + 2) * 2 <= height else 1
    quiet = max(1, min(4, (height // scale - count) // 2))
    side = (count + 2 * quiet) * scale
    top = max(0, (height - side) // 2)
    code = Image.new("L", (count + 2 * quiet, count + 2 * quiet), 255)  # one pixel per module, lit ground
    modules_image = Image.new("L", (count, count))
    modules_image.putdata([0 if dark else 255 for row in modules for dark in row])  # dark modules unlit
    code.paste(modules_image, (quiet, quiet))
    image.paste(code.convert("1").resize((side, side), Image.Resampling.NEAREST), (0, top))
    small = _faces()[1]
    x0 = side + 3
    columns = small.columns(width - x0)
    rows = _wrapped(small, printable(model.headline), columns, 1) if model.headline else []
    for line in model.lines:
        rows += [_Row(small, part) for part in wrap(printable(line), columns)]
    rows = rows[: height // small.cell_height]
    y = max(0, (height - len(rows) * small.cell_height) // 2)
    for row in rows:
        _draw_row(draw, row, x0, y, 1)
        y += small.cell_height


def render(model: ScreenModel, width: int = 128, height: int = 64) -> Image.Image:
    """Draw ``model`` into a new mode "1" image of ``width`` x ``height`` pixels."""
    image = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(image)
    if model.qr:
        _draw_qr(image, draw, model, width, height)
        return image
    mode = printable(model.mode)
    badge = printable(model.badge)
    top = 0
    if mode or badge:
        _draw_bar(draw, mode, badge, width)
        top = BAR_HEIGHT
    small = _faces()[1]
    lines = [printable(line) for line in model.lines[:MAX_DETAIL_LINES]]
    body = height - top
    lines = lines[: max(0, body // small.cell_height - 1)] if lines else lines
    headline = _headline_rows(printable(model.headline), width, body - len(lines) * small.cell_height)
    headline_height = sum(row.face.cell_height for row in headline)
    spare = (body - headline_height - len(lines) * small.cell_height) // small.cell_height
    details = _detail_rows(lines, width, spare)
    used = headline_height + len(details) * small.cell_height
    y = top + max(0, (body - used) // 2)
    inverse = model.light == "red"
    if inverse and headline:
        draw.rectangle((0, y, width - 1, y + headline_height - 1), fill=1)
    for row in headline:
        _draw_row(draw, row, max(0, (width - row.width) // 2), y, 0 if inverse else 1)
        y += row.face.cell_height
    for row in details:
        _draw_row(draw, row, 1, y, 1)
        y += row.face.cell_height
    return image
