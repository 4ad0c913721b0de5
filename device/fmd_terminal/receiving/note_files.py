"""A delivery-note file, whichever format it is in: ``.xml`` a GS1 Despatch Advice, anything else the CSV.

``fmd-terminal receive --note FILE`` and the USB stick's notes both come through ``load_note_file``.
"""

from __future__ import annotations

from pathlib import Path

from fmd_terminal.receiving.despatch_advice import load_despatch_advice
from fmd_terminal.receiving.note import DeliveryNote, load_note

NOTE_SUFFIXES = (".csv", ".xml")


def load_note_file(path: str | Path) -> DeliveryNote:
    """The delivery note in ``path``: a Despatch Advice when its name ends in ``.xml`` (any case), else
    the CSV of ``note.load_note``. Raises ``NoteError`` (one line per problem, with its fix)."""
    file_path = Path(path)
    if file_path.suffix.lower() == ".xml":
        return load_despatch_advice(file_path)
    return load_note(file_path)
