"""A QR code for the screens (issue 15: the web console's address after ``FMD-MODE-ADMIN``).

The symbol is made by segno (pure Python, ISO/IEC 18004): a full QR code, never a Micro QR (phone
cameras do not read those), error correction L raised as far as the same version allows, so a URL
of up to 32 bytes stays a 25x25 version 2 that a 128x64 OLED shows at 2 pixels per module.
``matrix`` is what the OLED draws (``render``) and ``text_rows`` what the console screen prints.
"""

from __future__ import annotations

import functools

Matrix = tuple[tuple[bool, ...], ...]  # rows of modules, True = dark


@functools.lru_cache(maxsize=8)
def matrix(text: str) -> Matrix:
    """The QR code of ``text``, without its quiet zone (the drawer adds one)."""
    import segno

    symbol = segno.make(text, error="l", micro=False, boost_error=True)
    return tuple(tuple(bool(module) for module in row) for row in symbol.matrix)


def text_rows(modules: Matrix, quiet: int = 2) -> list[str]:
    """The code as text, two module rows per line with half blocks, for a dark terminal: a light
    module (and the quiet zone) is a drawn block, a dark one a blank, as the OLED lights its pixels."""
    size = len(modules) + 2 * quiet

    def light(row: int, column: int) -> bool:
        inside = quiet <= row < size - quiet and quiet <= column < size - quiet
        return not (inside and modules[row - quiet][column - quiet])

    rows = []
    for top in range(0, size, 2):
        cells = []
        for column in range(size):
            upper = light(top, column)
            lower = light(top + 1, column) if top + 1 < size else False
            cells.append("█" if upper and lower else "▀" if upper else "▄" if lower else " ")
        rows.append("".join(cells))
    return rows
