"""The delivery note: what the supplier says it delivered, one ``NoteLine`` per product (issue 17).

A ``DeliveryNote`` is the same whatever it was read from: a CSV a spreadsheet exported (``load_note``
here), a GS1 XML Despatch Advice, a note a console form filled in. ``source`` says where it came from
(a path, ``usb:...``), for the session's summary and audit.

The CSV (docs/receiving.md): a first line naming the columns, in French, English or German, in any
order: product code (CIP13 or GTIN-14, digits), designation, quantity, and optionally batch, expiry and
the note's reference. Separator ``;`` (what a French spreadsheet writes) or ``,`` (or a tab); encoding
UTF-8 with or without BOM, else Windows-1252 (what Excel writes in France for "CSV (séparateur:
point-virgule)"); dates ``JJ/MM/AAAA``, ``MM/AAAA`` (end of that month) or ISO ``AAAA-MM-JJ``. Every bad
line is a ``NoteError`` naming the file, the line and the fix, in the person's language; none is skipped
silently, so a session never starts on half a note.
"""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fmd_core.check_digits import gs1_check_digit_ok
from fmd_terminal.errors import TerminalError

MAX_NOTE_BYTES = 4 * 1024 * 1024  # 60,000 lines of a central pharmacy's note fit well below this
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class NoteLine:
    """One line of the note: ``product_code`` as digits (GTIN-14 or CIP13), ``quantity`` packs ordered,
    ``batch`` and ``expiry`` (a ``datetime.date``) when the supplier gave them."""

    product_code: str
    designation: str
    quantity: int
    batch: str | None = None
    expiry: datetime.date | None = None


@dataclass(frozen=True)
class DeliveryNote:
    """A delivery note: its ``reference`` (the supplier's number, what its barcode encodes), its lines in
    order, and ``source`` (the file or medium it was read from)."""

    reference: str
    lines: tuple[NoteLine, ...]
    source: str


class NoteError(TerminalError):
    """A delivery note that cannot be used as it is: ``problems`` holds every bad line's error (one line
    each, ``line`` set), the error itself is the first. Nothing of the note is used until it is fixed."""

    def __init__(self, message: str = "", *, text_id: str | None = None, **fields: object) -> None:
        super().__init__(message, text_id=text_id, **fields)
        self.problems: tuple[NoteError, ...] = (self,)


# column -> the header names a spreadsheet may use (compared without case, accents, spaces or dots)
HEADERS = {
    "product_code": ("code produit", "code", "cip", "cip13", "code cip", "code cip13", "ean", "ean13", "gtin",
                     "gtin14", "product code", "product", "produktcode", "artikelnummer"),
    "designation": ("designation", "libelle", "description", "nom", "produit", "name", "product name",
                    "bezeichnung", "artikel"),
    "quantity": ("quantite", "qte", "quantite livree", "qte livree", "nombre", "quantity", "qty", "menge",
                 "anzahl"),
    "batch": ("lot", "numero de lot", "n lot", "no lot", "batch", "batch number", "lot number", "charge",
              "chargennummer", "charge nr"),
    "expiry": ("peremption", "date de peremption", "date peremption", "dlu", "expiration", "expiry",
               "expiry date", "exp", "verfall", "verfallsdatum", "verfalldatum"),
    "reference": ("bon de livraison", "n bl", "no bl", "numero bl", "bl", "reference", "ref",
                  "delivery note", "note", "lieferschein", "lieferscheinnummer"),
}
REQUIRED = ("product_code", "designation", "quantity")


def _key(text: str) -> str:
    """A header as compared: no accents, case, dots, degree signs or repeated spaces ("N° Lot" -> "n lot")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = "".join(c if c.isalnum() else " " for c in plain.casefold())
    return " ".join(plain.split())


_COLUMN_OF = {_key(name): column for column, names in HEADERS.items() for name in names}


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: what spreadsheets write."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _separator(header: str) -> str:
    """The separator the header line uses most: ``;``, ``,`` or a tab."""
    return max(";,\t", key=header.count)


def _problem(text_id: str, path: str, line: int | None = None, **fields: object) -> NoteError:
    return NoteError.text(text_id, path=path, line=line, **fields)


def product_code_problem(value: str) -> str | None:
    """Why ``value`` is not a product code a pack can carry (CIP13 or GTIN-14, GS1 check digit), or None.

    A spreadsheet that took the code for a number shows it as ``3,40093E+12``: the fix is to format the
    column as text, hence its own problem."""
    if "e+" in value.casefold():
        return "note_code_number"
    if not value.isdigit() or len(value) not in (13, 14) or not gs1_check_digit_ok(value):
        return "note_bad_code"
    return None


def parse_quantity(value: str) -> int | None:
    """A whole number of packs from 1 to ``MAX_QUANTITY`` ("40", "40,00", "1 200"), else None."""
    text = value.replace("\u00a0", "").replace(" ", "")
    whole, _, decimals = text.replace(".", ",").partition(",")
    if not whole.isdigit() or (decimals and set(decimals) != {"0"}):
        return None
    number = int(whole)
    return number if 1 <= number <= MAX_QUANTITY else None


def parse_date(value: str) -> datetime.date | None:
    """``JJ/MM/AAAA`` (also with ``-`` or ``.``), ``MM/AAAA`` (the month's last day) or ``AAAA-MM-JJ``."""
    text = value.strip()
    try:
        if len(text) == 10 and text[4] == "-":
            return datetime.date.fromisoformat(text)
        parts = text.replace("-", "/").replace(".", "/").split("/")
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
            return datetime.date(int(parts[2]), int(parts[1]), int(parts[0]))
        if len(parts) == 2 and all(p.isdigit() for p in parts) and len(parts[1]) == 4:
            year, month = int(parts[1]), int(parts[0])
            if not 1 <= month <= 12:
                return None
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
    except ValueError:
        return None
    return None


def _columns(header: list[str], path: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _COLUMN_OF.get(_key(name))
        if column is not None and column not in found:
            found[column] = index
    missing = [column for column in REQUIRED if column not in found]
    if missing:
        raise _problem("note_no_header", path, 1, found=" | ".join(h.strip() for h in header) or "-")
    return found


def _line(cells: list[str], columns: dict[str, int], header: list[str], path: str,
          number: int) -> tuple[NoteLine, str]:
    def cell_name(column: str) -> str:  # the column as the file names it
        return repr(header[columns[column]].strip())

    def cell(column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    code = cell("product_code").replace(" ", "")
    if not code:
        raise _problem("note_empty_cell", path, number, column=cell_name("product_code"))
    problem = product_code_problem(code)
    if problem:
        raise _problem(problem, path, number, value=repr(code))
    designation = cell("designation")
    if not designation:
        raise _problem("note_empty_cell", path, number, column=cell_name("designation"))
    quantity = parse_quantity(cell("quantity"))
    if quantity is None:
        raise _problem("note_bad_quantity", path, number, value=repr(cell("quantity")), high=MAX_QUANTITY)
    expiry = None
    if cell("expiry"):
        expiry = parse_date(cell("expiry"))
        if expiry is None:
            raise _problem("note_bad_date", path, number, value=repr(cell("expiry")))
    return NoteLine(code, designation, quantity, cell("batch") or None, expiry), cell("reference")


def parse_note(text: str, source: str, default_reference: str) -> DeliveryNote:
    """A note from the CSV ``text``; ``NoteError`` with every bad line (``problems``) if any is wrong."""
    rows = [(n, row) for n, row in enumerate(_rows(text), start=1) if any(cell.strip() for cell in row)]
    if not rows:
        raise _problem("note_empty", source, None)
    columns = _columns(rows[0][1], source)
    lines: list[NoteLine] = []
    references: list[str] = []
    problems: list[NoteError] = []
    for number, cells in rows[1:]:
        try:
            line, reference = _line(cells, columns, rows[0][1], source, number)
        except NoteError as error:
            problems.append(error)
            continue
        lines.append(line)
        if reference:
            references.append(reference)
    if problems:
        first = problems[0]
        first.problems = tuple(problems)
        raise first
    if not lines:
        raise _problem("note_empty", source, None)
    return DeliveryNote(references[0] if references else default_reference, tuple(lines), source)


def _rows(text: str) -> list[list[str]]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=_separator(first)))


def load_note(path: str | Path) -> DeliveryNote:
    """The delivery note in the CSV file ``path``; its reference is the reference column's first value,
    else the file's name without extension. Raises ``NoteError`` (unreadable, empty, bad lines)."""
    file_path = Path(path)
    try:
        with file_path.open("rb") as handle:
            data = handle.read(MAX_NOTE_BYTES + 1)
    except OSError as error:
        raise _problem("note_unreadable", str(file_path), None, why=error.strerror or str(error)) from error
    if len(data) > MAX_NOTE_BYTES:
        raise _problem("note_too_big", str(file_path), None, high=MAX_NOTE_BYTES // (1024 * 1024))
    return parse_note(_decode(data), str(file_path), file_path.stem)
