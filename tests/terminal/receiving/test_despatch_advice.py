"""The GS1 XML Despatch Advice importer (issue 17): a wholesaler's advice becomes the same delivery note as
a CSV; hostile XML (entity bombs, external entities) is refused in one line without any fetch; every
missing or wrong field names the file, the XML line and the item, with the fix, in French, English, German."""

from __future__ import annotations

import datetime
import http.server
import threading
from pathlib import Path

import pytest

from fmd_terminal.receiving import despatch_advice
from fmd_terminal.receiving.despatch_advice import load_despatch_advice, parse_despatch_advice
from fmd_terminal.receiving.note import DeliveryNote, NoteError, NoteLine

SAMPLE = Path(__file__).parent / "data" / "despatch-advice.xml"
DOLIPRANE, SPASFON, THIRD = "03400935955838", "03400930001776", "03400936158740"


def sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th ``needle`` in ``text``."""
    position = -1
    for _ in range(occurrence):
        position = text.index(needle, position + 1)
    return text.count("\n", 0, position) + 1


def refused(text: str, name: str = "BL-2026-118.xml") -> NoteError:
    with pytest.raises(NoteError) as caught:
        parse_despatch_advice(text.encode("utf-8"), name)
    return caught.value


def assert_one_line_in_three_languages(error: NoteError, *fragments: str) -> None:
    texts = {lang: error.in_language(lang) for lang in ("fr", "en", "de")}
    assert len(set(texts.values())) == 3, texts
    for text in texts.values():
        assert "\n" not in text and "{" not in text and "Traceback" not in text
        for fragment in fragments:
            assert fragment in text, (fragment, text)


def test_the_sample_advice_becomes_a_delivery_note_with_split_batches_added_up():
    note = load_despatch_advice(SAMPLE)
    assert note == DeliveryNote("BL-2026-118", (
        NoteLine(DOLIPRANE, "Doliprane 1000 mg cp B/8", 40, "D2401", datetime.date(2028, 6, 30)),
        NoteLine(SPASFON, "Spasfon lyoc 80 mg B/10", 12, "S77", datetime.date(2027, 11, 30)),
        NoteLine(THIRD, THIRD, 5, None, None),  # no description, batch or expiry: the GTIN names the line
    ), str(SAMPLE))


def test_the_same_gtin_in_two_batches_stays_two_lines():
    text = sample().replace("<batchNumber>D2401</batchNumber>\n            <itemExpirationDate>2028-06-30",
                            "<batchNumber>D2402</batchNumber>\n            <itemExpirationDate>2028-06-30", 1)
    note = parse_despatch_advice(text.encode(), "advice.xml")
    assert [(line.product_code, line.batch, line.quantity) for line in note.lines] == [
        (DOLIPRANE, "D2402", 30), (SPASFON, "S77", 12), (DOLIPRANE, "D2401", 10), (THIRD, None, 5)]


def test_a_bare_despatch_advice_without_header_or_prefixes_is_read():
    text = ("<despatchAdvice><despatchAdviceIdentification><entityIdentification>A1</entityIdentification>"
            "</despatchAdviceIdentification><despatchAdviceLogisticUnit><despatchAdviceLineItem>"
            "<despatchedQuantity measurementUnitCode='C62'>2.0</despatchedQuantity><transactionalTradeItem>"
            f"<gtin>{SPASFON}</gtin><transactionalItemData><itemExpirationDate>2027-11-30+01:00"
            "</itemExpirationDate></transactionalItemData></transactionalTradeItem></despatchAdviceLineItem>"
            "</despatchAdviceLogisticUnit></despatchAdvice>")
    note = parse_despatch_advice(text.encode(), "a.xml")
    assert note.lines == (NoteLine(SPASFON, SPASFON, 2, None, datetime.date(2027, 11, 30)),)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        self.hits.append(self.path)
        body = b'<!ENTITY x "fetched">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server():
    """A real HTTP server on 127.0.0.1 that records every request: an external entity must never reach it."""
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                    for i in range(1, 10))
          + ']>\n<despatchAdvice><despatchAdviceIdentification><entityIdentification>&lol9;'
            '</entityIdentification></despatchAdviceIdentification></despatchAdvice>\n')


@pytest.mark.parametrize("hostile", [
    pytest.param(lambda url: LAUGHS, id="billion-laughs"),
    pytest.param(lambda url: f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY ext SYSTEM "{url}/ext">]>\n'
                             "<despatchAdvice>&ext;</despatchAdvice>", id="external-entity-http"),
    pytest.param(lambda url: '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY ext SYSTEM "file:///etc/passwd">]>\n'
                             "<despatchAdvice>&ext;</despatchAdvice>", id="external-entity-file"),
    pytest.param(lambda url: f'<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "{url}/evil.dtd">\n'
                             "<despatchAdvice/>", id="external-dtd"),
    pytest.param(lambda url: f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>\n'
                             "<despatchAdvice/>", id="parameter-entity"),
])
def test_hostile_xml_is_refused_in_one_line_and_nothing_is_fetched(hostile, loopback_server):
    error = refused(hostile(loopback_server), "hostile.xml")
    assert error.text_id == "da_refused_dtd"
    assert_one_line_in_three_languages(error, "hostile.xml", "DOCTYPE")
    assert _CountingHandler.hits == []


def test_an_advice_above_the_size_limit_is_refused_before_parsing(monkeypatch, tmp_path):
    monkeypatch.setattr(despatch_advice, "MAX_NOTE_BYTES", 1024)
    path = tmp_path / "big.xml"
    path.write_text(sample(), encoding="utf-8")  # the sample is a few kB
    with pytest.raises(NoteError) as caught:
        load_despatch_advice(path)
    assert caught.value.text_id == "note_too_big"
    assert_one_line_in_three_languages(caught.value, str(path))


def _item(number: int) -> str:
    return f"<lineItemNumber>{number}</lineItemNumber>"


@pytest.mark.parametrize("change, text_id, item, fragments", [
    (lambda t: t.replace(f"<gtin>{SPASFON}</gtin>", ""), "da_missing", 2, ["transactionalTradeItem/gtin"]),
    (lambda t: t.replace('<despatchedQuantity measurementUnitCode="EA">12</despatchedQuantity>', ""),
     "da_missing", 2, ["despatchedQuantity"]),
    (lambda t: t.replace('measurementUnitCode="EA">12', 'measurementUnitCode="CT">12'), "da_unit", 2, ["CT", "EA"]),
    (lambda t: t.replace(">12</despatchedQuantity>", ">12.5</despatchedQuantity>"), "note_bad_quantity", 2, ["12.5"]),
    (lambda t: t.replace(">12</despatchedQuantity>", ">0</despatchedQuantity>"), "note_bad_quantity", 2, ["'0'"]),
    (lambda t: t.replace(f"<gtin>{SPASFON}</gtin>", "<gtin>03400930001777</gtin>"), "note_bad_code", 2,
     ["03400930001777"]),
    (lambda t: t.replace("2027-11-30", "30/11/2027"), "da_bad_date", 2, ["30/11/2027"]),
    (lambda t: t.replace("<batchNumber>S77</batchNumber>\n            <itemExpirationDate>2027-11-30"
                         "</itemExpirationDate>\n          </transactionalItemData>",
                         "<batchNumber>S77</batchNumber></transactionalItemData>"
                         "<transactionalItemData><batchNumber>S78</batchNumber></transactionalItemData>"),
     "da_batches", 2, ["S77, S78"]),
    (lambda t: t.replace("<itemExpirationDate>2028-06-30</itemExpirationDate>",
                         "<itemExpirationDate>2028-07-31</itemExpirationDate>", 1), "da_expiry_conflict", 3,
     [DOLIPRANE, "D2401", "2028-07-31", "2028-06-30"]),
])
def test_a_bad_item_names_the_file_line_item_and_fix(change, text_id, item, fragments):
    text = change(sample())
    error = refused(text)
    assert error.text_id == text_id
    assert error.fields["line"] == line_of(text, "<despatchAdviceLineItem>", item)
    if "item" in error.fields:
        assert error.fields["item"] == str(item)
    assert_one_line_in_three_languages(error, "BL-2026-118.xml", str(error.fields["line"]), *fragments)


def test_every_bad_item_is_listed_not_only_the_first():
    text = sample().replace(f"<gtin>{SPASFON}</gtin>", "").replace(f"<gtin>{THIRD}</gtin>", "<gtin>12</gtin>")
    error = refused(text)
    assert [(p.text_id, p.fields["line"]) for p in error.problems] == [
        ("da_missing", line_of(text, "<despatchAdviceLineItem>", 2)),
        ("note_bad_code", line_of(text, "<despatchAdviceLineItem>", 4))]


@pytest.mark.parametrize("text, text_id, fragments", [
    (lambda: sample().replace("<entityIdentification>BL-2026-118</entityIdentification>", ""), "da_no_reference",
     ["entityIdentification"]),
    (lambda: "<invoiceMessage><invoice/></invoiceMessage>", "da_not_despatch_advice", ["invoiceMessage", "CSV"]),
    (lambda: sample()[: sample().index("<despatchAdviceLogisticUnit>")]
     + "</despatchAdvice></despatch_advice:despatchAdviceMessage>", "note_empty", []),
    (lambda: sample().replace("</despatchAdvice>", "</despatchAdvice><despatchAdvice><despatchAdviceIdentification>"
                              "<entityIdentification>BL-2026-119</entityIdentification>"
                              "</despatchAdviceIdentification></despatchAdvice>"), "da_several",
     ["BL-2026-118, BL-2026-119"]),
    (lambda: sample()[:1500], "da_not_xml", []),
    (lambda: "Code produit;Désignation;Quantité\n", "da_not_xml", []),
])
def test_a_document_that_is_not_a_usable_advice_is_refused_with_its_fix(text, text_id, fragments):
    error = refused(text())
    assert error.text_id == text_id
    assert_one_line_in_three_languages(error, "BL-2026-118.xml", *fragments)
