"""The GS1 XML Despatch Advice (version 3.x) a wholesaler sends with a delivery, as a ``DeliveryNote``.

What is read (GS1 XML 3.x business message standard "Despatch Advice", namespace
``urn:gs1:ecom:despatch_advice:xsd:3``; elements are matched by local name, so the Standard Business
Document Header around ``despatchAdviceMessage`` and the namespace prefixes do not matter):

- the note's reference: ``despatchAdvice/despatchAdviceIdentification/entityIdentification``;
- each ``despatchAdviceLineItem`` (at any depth of ``despatchAdviceLogisticUnit``): its
  ``despatchedQuantity`` (packs: no ``measurementUnitCode``, or one of ``PACK_UNITS``), its
  ``transactionalTradeItem/gtin`` (14 digits; a 13-digit CIP13 is taken as it is), the optional
  ``tradeItemDescription`` and ``transactionalItemData/batchNumber`` and ``itemExpirationDate``
  (``YYYY-MM-DD``).

Items of the same GTIN and batch (the same product packed in several cartons, so in several logistic
units) are added up into one ``NoteLine`` with the first item's description; the same GTIN and batch
with two expiry dates is refused. An item that names several batches for one quantity is refused: the
quantity per batch is unknown. A message carrying several advices (several deliveries) is refused too:
one file, one delivery note.

Safety (the file comes from outside, often on a USB stick): at most ``MAX_NOTE_BYTES`` are read, and
the XML goes through ``defusedxml`` with every DTD refused, so no entity is ever expanded (billion
laughs) and nothing is fetched (external entities, external DTD). A refused or broken document is a
``NoteError``: one line naming the file, the XML line and item, and the fix; nothing of it is used.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree

from fmd_terminal.receiving.note import (
    MAX_NOTE_BYTES,
    MAX_QUANTITY,
    DeliveryNote,
    NoteError,
    NoteLine,
    parse_quantity,
    product_code_problem,
)

# despatchedQuantity/@measurementUnitCode values that count single packs: UN/ECE Rec. 20 "each" (EA),
# "one" (C62), "piece" (H87) and the plain words some exports write. Any other unit (a carton, a box of
# ten) would not match a count of scanned packs.
PACK_UNITS = frozenset({"EA", "C62", "H87", "PCE", "EACH", "UNIT", "PIECE"})


def _local(tag: str) -> str:
    """``{urn:...}despatchAdvice`` -> ``despatchAdvice``."""
    return tag.rpartition("}")[2]


class _LineNumbers(ET.TreeBuilder):
    """A tree builder that remembers the XML line each element starts on, for the errors."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: defusedxml.ElementTree.DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):  # type: ignore[no-untyped-def]  # ElementTree's signature
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def _parse_xml(data: bytes, source: str) -> tuple[ET.Element, dict[int, int]]:
    builder = _LineNumbers()
    parser = defusedxml.ElementTree.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True,
                                                     forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except defusedxml.DefusedXmlException as error:
        raise NoteError.text("da_refused_dtd", path=source) from error
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        raise NoteError.text("da_not_xml", path=source, line=line, why=str(error).split(":")[0]) from error
    return root, builder.lines


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    """The first descendant along the local names ``names`` (each a direct child of the previous)."""
    current: ET.Element | None = element
    for name in names:
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def _text(element: ET.Element, *names: str) -> str:
    found = _child(element, *names)
    return (found.text or "").strip() if found is not None else ""


def _xs_date(value: str) -> datetime.date | None:
    """An XML Schema date: ``YYYY-MM-DD``, optionally with a time zone (``Z``, ``+01:00``), else None."""
    day, zone = value[:10], value[10:]
    if zone not in ("", "Z") and not (len(zone) == 6 and zone[0] in "+-" and zone[3] == ":"):
        return None
    try:
        return datetime.date.fromisoformat(day) if len(day) == 10 and day[4] == "-" else None
    except ValueError:
        return None


class _Item:
    """One ``despatchAdviceLineItem`` read into a ``NoteLine``; errors name its XML line and number."""

    def __init__(self, element: ET.Element, position: int, source: str, lines: dict[int, int]) -> None:
        self.element = element
        self.source = source
        self.line = lines.get(id(element))
        self.number = _text(element, "lineItemNumber") or str(position)

    def problem(self, text_id: str, **fields: object) -> NoteError:
        return NoteError.text(text_id, path=self.source, line=self.line, item=self.number, **fields)

    def missing(self, field: str) -> NoteError:
        return self.problem("da_missing", field=field)

    def note_line(self) -> NoteLine:
        quantity_element = _child(self.element, "despatchedQuantity")
        if quantity_element is None or not (quantity_element.text or "").strip():
            raise self.missing("despatchedQuantity")
        unit = quantity_element.get("measurementUnitCode", "").strip()
        if unit and unit.upper() not in PACK_UNITS:
            raise self.problem("da_unit", unit=unit)
        quantity = parse_quantity(quantity_element.text or "")
        if quantity is None:
            raise NoteError.text("note_bad_quantity", path=self.source, line=self.line,
                                 value=repr((quantity_element.text or "").strip()), high=MAX_QUANTITY)
        gtin = _text(self.element, "transactionalTradeItem", "gtin")
        if not gtin:
            raise self.missing("transactionalTradeItem/gtin")
        problem = product_code_problem(gtin)
        if problem:
            raise NoteError.text(problem, path=self.source, line=self.line, value=repr(gtin))
        batch, expiry = self._batch_and_expiry()
        designation = _text(self.element, "transactionalTradeItem", "tradeItemDescription") or gtin
        return NoteLine(gtin, designation, quantity, batch, expiry)

    def _batch_and_expiry(self) -> tuple[str | None, datetime.date | None]:
        trade_item = _child(self.element, "transactionalTradeItem")
        data = [c for c in trade_item or () if _local(c.tag) == "transactionalItemData"]
        batches = {_text(d, "batchNumber") for d in data} - {""}
        if len(batches) > 1:
            raise self.problem("da_batches", batches=", ".join(sorted(batches)))
        expiries = {_text(d, "itemExpirationDate") for d in data} - {""}
        if len(expiries) > 1:
            raise self.problem("da_expiries", dates=", ".join(sorted(expiries)))
        expiry = None
        if expiries:
            value = expiries.pop()
            expiry = _xs_date(value)
            if expiry is None:
                raise self.problem("da_bad_date", value=repr(value))
        return (batches.pop() if batches else None), expiry


def _add_up(items: list[tuple[_Item, NoteLine]]) -> tuple[NoteLine, ...]:
    """One line per GTIN and batch, quantities added, in the order each first appears."""
    merged: dict[tuple[str, str | None], NoteLine] = {}
    for item, line in items:
        key = (line.product_code, line.batch)
        first = merged.get(key)
        if first is None:
            merged[key] = line
            continue
        if first.expiry != line.expiry:
            raise item.problem("da_expiry_conflict", code=line.product_code, batch=line.batch or "-",
                               first=first.expiry or "-", second=line.expiry or "-")
        merged[key] = NoteLine(first.product_code, first.designation, first.quantity + line.quantity,
                               first.batch, first.expiry)
    return tuple(merged.values())


def parse_despatch_advice(data: bytes, source: str) -> DeliveryNote:
    """The delivery note in the Despatch Advice ``data``; ``source`` names it in errors and in the note.

    Raises ``NoteError`` with every bad item in ``problems`` (the first is the error itself)."""
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError.text("note_too_big", path=source, high=MAX_NOTE_BYTES // (1024 * 1024))
    root, lines = _parse_xml(data, source)
    advices = [e for e in root.iter() if _local(e.tag) == "despatchAdvice"]
    if not advices:
        raise NoteError.text("da_not_despatch_advice", path=source, root=_local(root.tag))
    if len(advices) > 1:  # a message may carry several advices: one delivery is one note
        references = [_text(a, "despatchAdviceIdentification", "entityIdentification") or "-" for a in advices]
        raise NoteError.text("da_several", path=source, count=len(advices), references=", ".join(references))
    [advice] = advices
    reference = _text(advice, "despatchAdviceIdentification", "entityIdentification")
    if not reference:
        raise NoteError.text("da_no_reference", path=source)
    elements = [e for e in advice.iter() if _local(e.tag) == "despatchAdviceLineItem"]
    if not elements:
        raise NoteError.text("note_empty", path=source, line=None)
    items: list[tuple[_Item, NoteLine]] = []
    problems: list[NoteError] = []
    for position, element in enumerate(elements, start=1):
        item = _Item(element, position, source, lines)
        try:
            items.append((item, item.note_line()))
        except NoteError as error:
            problems.append(error)
    if not problems:
        try:
            return DeliveryNote(reference, _add_up(items), source)
        except NoteError as error:
            problems.append(error)
    first = problems[0]
    first.problems = tuple(problems)
    raise first


def load_despatch_advice(path: str | Path) -> DeliveryNote:
    """The delivery note in the Despatch Advice file ``path`` (read once, at most ``MAX_NOTE_BYTES``)."""
    file_path = Path(path)
    try:
        with file_path.open("rb") as handle:
            data = handle.read(MAX_NOTE_BYTES + 1)
    except OSError as error:
        raise NoteError.text("note_unreadable", path=str(file_path), line=None,
                             why=error.strerror or str(error)) from error
    return parse_despatch_advice(data, str(file_path))
