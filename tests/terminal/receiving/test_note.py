"""The delivery note's CSV (issue 17): what French spreadsheets export is read; every bad line is named
with its fix, in French, English and German, and nothing of a bad note is used."""

from __future__ import annotations

import datetime

import pytest

from fmd_terminal.receiving.note import DeliveryNote, NoteError, NoteLine, load_note, parse_date

DOLIPRANE = "3400930000007"  # CIP13 with a right GS1 check digit
GTIN = "03400936000001"


def _write(tmp_path, text, encoding="utf-8", name="BL-2026-0042.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("text, encoding", [
    ("\ufeffCode produit;Désignation;Quantité;N° Lot;Péremption\n"
     f"{DOLIPRANE};Doliprane 1000 mg;40;AB12;31/12/2027\n{GTIN};Spasfon;1 200;;\n", "utf-8"),
    ("CIP13;Libellé;Qté;Lot;Date de péremption\r\n"
     f"{DOLIPRANE};Doliprane 1000 mg;40,00;AB12;12/2027\r\n{GTIN};Spasfon;1200;;\r\n", "cp1252"),
    ("product code,designation,quantity,batch,expiry\n"
     f"{DOLIPRANE},Doliprane 1000 mg,40,AB12,2027-12-31\n{GTIN},Spasfon,1200,,\n", "utf-8"),
    ("Menge\tBezeichnung\tProduktcode\tCharge\tVerfall\n"
     f"40\tDoliprane 1000 mg\t{DOLIPRANE}\tAB12\t31.12.2027\n\n1200\tSpasfon\t{GTIN}\t\t\n", "utf-8"),
])
def test_spreadsheet_exports_read_alike(tmp_path, text, encoding):
    note = load_note(_write(tmp_path, text, encoding))
    assert note == DeliveryNote("BL-2026-0042", (
        NoteLine(DOLIPRANE, "Doliprane 1000 mg", 40, "AB12", datetime.date(2027, 12, 31)),
        NoteLine(GTIN, "Spasfon", 1200)), str(tmp_path / "BL-2026-0042.csv"))


def test_reference_column_names_the_note(tmp_path):
    note = load_note(_write(tmp_path, f"N° BL;code;désignation;qte\nBL77;{DOLIPRANE};Doliprane;2\n"))
    assert note.reference == "BL77"


@pytest.mark.parametrize("line, text_id, fr_words", [
    (f"{DOLIPRANE[:-1]}2;Doliprane;40;;", "note_bad_code", "clé de contrôle"),
    ("3,40093E+12;Doliprane;40;;", "note_code_number", "format texte"),
    (f"{DOLIPRANE};Doliprane;quarante;;", "note_bad_quantity", "nombre entier"),
    (f"{DOLIPRANE};Doliprane;0;;", "note_bad_quantity", "nombre entier"),
    (f"{DOLIPRANE};Doliprane;2,5;;", "note_bad_quantity", "nombre entier"),
    (f"{DOLIPRANE};Doliprane;4;;31/02/2027", "note_bad_date", "JJ/MM/AAAA"),
    (f"{DOLIPRANE};;4;;", "note_empty_cell", "'désignation' est vide"),
])
def test_a_bad_line_is_named_with_its_fix(tmp_path, line, text_id, fr_words):
    path = _write(tmp_path, f"code produit;désignation;quantité;lot;péremption\n{GTIN};Spasfon;3;;\n{line}\n")
    with pytest.raises(NoteError) as caught:
        load_note(path)
    error = caught.value
    assert error.text_id == text_id and error.fields["line"] == 3
    french = error.in_language("fr")
    assert f"{path} ligne 3" in french and fr_words in french and "\n" not in french
    assert "line 3" in error.in_language("en") and "Zeile 3" in error.in_language("de")


def test_every_bad_line_is_reported_not_only_the_first(tmp_path):
    path = _write(tmp_path, f"code;désignation;quantité\n1;A;1\n{GTIN};B;1\n{GTIN};C;x\n")
    with pytest.raises(NoteError) as caught:
        load_note(path)
    assert [p.fields["line"] for p in caught.value.problems] == [2, 4]


@pytest.mark.parametrize("text, text_id", [
    ("", "note_empty"),
    ("code produit;désignation;quantité\n\n", "note_empty"),
    (f"article;nombre\n{GTIN};3\n", "note_no_header"),
])
def test_a_note_without_lines_or_columns(tmp_path, text, text_id):
    with pytest.raises(NoteError) as caught:
        load_note(_write(tmp_path, text))
    assert caught.value.text_id == text_id


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path):
    with pytest.raises(NoteError) as caught:
        load_note(tmp_path / "absent.csv")
    assert caught.value.text_id == "note_unreadable" and "absent.csv" in caught.value.in_language("fr")


@pytest.mark.parametrize("text, expected", [
    ("05/03/2027", datetime.date(2027, 3, 5)), ("2027-03-05", datetime.date(2027, 3, 5)),
    ("02/2028", datetime.date(2028, 2, 29)), ("12/2027", datetime.date(2027, 12, 31)),
    ("5-3-2027", datetime.date(2027, 3, 5)), ("27-03-05", None), ("13/2027", None), ("", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected
