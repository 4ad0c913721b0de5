"""Where a scanned delivery-note barcode finds its note (issue 17, ``receiving.desk``): a CSV or a GS1
Despatch Advice (``.xml``) in ``notes_dir``, by file name first, else by the reference inside."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fmd_terminal.receiving.desk import Desk, NoteNotFound
from fmd_terminal.receiving.note import NoteError

SAMPLE = Path(__file__).parent / "data" / "despatch-advice.xml"


def test_a_despatch_advice_is_found_by_its_file_name(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "bl-2026-118.XML")
    note = Desk(notes_dir=str(tmp_path)).find_note("BL-2026-118")
    assert note.reference == "BL-2026-118" and [line.quantity for line in note.lines] == [40, 12, 5]


def test_a_despatch_advice_is_found_by_the_reference_inside(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "livraison-du-jour.xml")
    (tmp_path / "cassé.xml").write_text("<pas du xml", encoding="utf-8")  # another delivery's broken file
    (tmp_path / "BL-1.csv").write_text("Code produit;Désignation;Quantité\n3400930012345;Doliprane;2\n",
                                       encoding="utf-8")
    note = Desk(notes_dir=str(tmp_path)).find_note("BL-2026-118")
    assert note.source.endswith("livraison-du-jour.xml") and len(note.lines) == 3
    assert Desk(notes_dir=str(tmp_path)).find_note("BL-1").lines[0].quantity == 2


def test_a_named_advice_that_is_broken_says_why(tmp_path):
    (tmp_path / "BL-9.xml").write_text("<pas du xml", encoding="utf-8")
    with pytest.raises(NoteError) as caught:
        Desk(notes_dir=str(tmp_path)).find_note("BL-9")
    assert not isinstance(caught.value, NoteNotFound) and "BL-9.xml" in caught.value.in_language("fr")


def test_an_unknown_reference_is_not_found(tmp_path):
    shutil.copy(SAMPLE, tmp_path / "x.xml")
    with pytest.raises(NoteNotFound):
        Desk(notes_dir=str(tmp_path)).find_note("BL-2026-119")
