"""Where receiving sessions find their notes and leave their summaries (issue 17), from the configuration.

``notes_dir``: a scanned delivery-note barcode (``FMD-NOTE-<reference>``, ``fmd_core.modes``) names a
note file there: ``<reference>.csv`` or ``<reference>.xml`` first (any case), else any note file whose
reference says ``<reference>``. ``LOADERS`` maps a file's extension to its reader: ``.csv`` the CSV note,
``.xml`` a GS1 Despatch Advice (``note_files.load_note_file``). ``receipts_dir``: where each closing writes its CSV and PDF (``report``);
empty, the summary is kept in the outbox only (``fmd-terminal export --receipts`` writes it later).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fmd_terminal.receiving.note import DeliveryNote, NoteError, load_note
from fmd_terminal.receiving.note_files import load_note_file
from fmd_terminal.receiving.session import Summary

LOADERS: dict[str, Callable[[Path], DeliveryNote]] = {".csv": load_note, ".xml": load_note_file}


class NoteNotFound(NoteError):
    """No note in the notes folder has the scanned reference."""


class Desk:
    """The receiving settings of one terminal: ``role``, ``short_expiry_days``, ``notes_dir``,
    ``receipts_dir`` and the language of the summary's files."""

    def __init__(self, *, role: str | None = None, short_expiry_days: int = 0, notes_dir: str = "",
                 receipts_dir: str = "", lang: str = "fr") -> None:
        self.role = role or None
        self.short_expiry_days = short_expiry_days
        self.notes_dir = Path(notes_dir) if notes_dir else None
        self.receipts_dir = Path(receipts_dir) if receipts_dir else None
        self.lang = lang

    @classmethod
    def of(cls, config) -> Desk:
        return cls(role=config.role, short_expiry_days=config.short_expiry_days, notes_dir=config.notes_dir,
                   receipts_dir=config.receipts_dir, lang=config.lang)

    def find_note(self, reference: str) -> DeliveryNote:
        """The note ``reference`` in ``notes_dir``; ``NoteNotFound``, or the note's own ``NoteError``."""
        files = sorted(p for p in self.notes_dir.iterdir() if p.suffix.lower() in LOADERS) if self.notes_dir and \
            self.notes_dir.is_dir() else []
        named = [p for p in files if p.stem.casefold() == reference.casefold()]
        if named:
            return LOADERS[named[0].suffix.lower()](named[0])
        for path in files:
            try:
                note = LOADERS[path.suffix.lower()](path)
            except NoteError:
                continue  # a broken note of another delivery does not hide this one
            if note.reference.casefold() == reference.casefold():
                return note
        raise NoteNotFound.text("note_not_found", reference=reference, directory=str(self.notes_dir or "-"))

    def write(self, summary: Summary) -> list[Path]:
        """The summary's CSV and PDF in ``receipts_dir`` (none when it is not set)."""
        if self.receipts_dir is None:
            return []
        from fmd_terminal.receiving.report import write_files

        return write_files(summary, self.receipts_dir, self.lang)
