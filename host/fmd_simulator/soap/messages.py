"""SOAP 1.2 messages of the facade: hardened parsing, schema validation, response building.

The XML never reaches a parser that expands entities: ``defusedxml`` refuses any DTD (so no
billion-laughs expansion and no external entity), the body size is capped before parsing (64 KiB for
single-pack and support calls, 32 MiB for a mixed bulk), and the request element is then validated
against the published XSD (``wsdl/nmvs-blueprint.xsd``). Malformed XML gives ``NMVS_TE_XM_01``, a
schema violation ``NMVS_TE_XM_02`` (VERIFICATION-SERVICE.md section 5), both as SOAP 1.2 Faults with
HTTP 400, never a 500 or a hang.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import defusedxml
import defusedxml.ElementTree

from fmd_simulator.codes import CODES

SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
NS = "urn:fmd-terminal:nmvs:soap:v1"
CONTENT_TYPE = b"application/soap+xml; charset=utf-8"
WSDL_DIR = os.path.join(os.path.dirname(__file__), "wsdl")
XSD_PATH = os.path.join(WSDL_DIR, "nmvs-blueprint.xsd")
WSDL_PATH = os.path.join(WSDL_DIR, "nmvs-blueprint.wsdl")

# ISO 639-3 (the header's Language) -> the engine's description language.
LANGUAGES = {"fra": "fr", "eng": "en", "deu": "de"}

# The SOAP twins of the REST technical codes (section 5: TE_XM for SOAP, TE_JS for REST).
SOAP_CODE_OF = {"NMVS_TE_JS_01": "NMVS_TE_XM_01", "NMVS_TE_JS_02": "NMVS_TE_XM_02"}
_SOAP_DESCRIPTIONS = {
    "NMVS_TE_XM_01": {"en": "Message malformed (not well-formed XML or not a SOAP 1.2 envelope).",
                      "fr": "Message mal formé (XML mal formé ou enveloppe SOAP 1.2 absente).",
                      "de": "Nachricht fehlerhaft (kein wohlgeformtes XML oder kein SOAP-1.2-Umschlag)."},
    "NMVS_TE_XM_02": {"en": "Message does not match the schema.", "fr": "Le message ne respecte pas le schéma.",
                      "de": "Nachricht entspricht nicht dem Schema."},
}

ET.register_namespace("soap", SOAP_NS)
ET.register_namespace("n", NS)

_schema: Any = None


def schema() -> Any:
    """The published XSD as an ``xmlschema.XMLSchema``, loaded on first use.

    Importing xmlschema and building the schema takes about half a second, so a simulator that serves
    only REST never pays for it.
    """
    global _schema
    if _schema is None:
        import xmlschema

        _schema = xmlschema.XMLSchema(XSD_PATH)
    return _schema


def schema_loaded() -> bool:
    return _schema is not None


def q(name: str) -> str:
    """The qualified tag of one of our elements."""
    return f"{{{NS}}}{name}"


def description(code: str, language: str) -> str:
    if code in _SOAP_DESCRIPTIONS:
        return _SOAP_DESCRIPTIONS[code].get(language, _SOAP_DESCRIPTIONS[code]["fr"])
    return CODES[code].description(language) if code in CODES else code


class MessageError(Exception):
    """A request that is not a well-formed, valid message: its technical code and what is wrong."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)  # both in args, so it crosses a process boundary intact
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class Limits:
    """What one request may hold, checked before the XML is parsed or validated.

    Schema validation costs grow with the square of an element's attributes (6,500 attributes in 64 KiB
    took 7 s), so the attributes of one tag are capped (our elements carry at most one, plus namespace
    declarations); the elements by the number of tags; the depth while the tree is built (the deepest
    valid message is 8 levels).
    """

    max_tags: int
    max_attributes: int = 8
    max_depth: int = 16


@lru_cache(maxsize=4)
def _crowded_tag(max_attributes: int) -> re.Pattern[bytes]:
    """A tag with more than ``max_attributes`` ``=`` signs (an upper bound on its attributes)."""
    return re.compile(rb"<[^<>=]*+(?:=[^<>=]*+){%d}" % (max_attributes + 1))


class _DepthLimited:
    """An ElementTree parser target that refuses elements deeper than ``max_depth`` as they open."""

    def __init__(self, max_depth: int) -> None:
        self.builder = ET.TreeBuilder()
        self.max_depth = max_depth
        self.depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        if self.depth > self.max_depth:
            raise MessageError("NMVS_TE_XM_01", f"elements nested deeper than {self.max_depth} levels.")
        return self.builder.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return self.builder.end(tag)

    def data(self, data: str) -> None:
        self.builder.data(data)

    def close(self) -> ET.Element:
        return self.builder.close()


def check_limits(body: bytes, limits: Limits) -> None:
    """``NMVS_TE_XM_01`` when ``body`` has more tags, or a tag more attributes, than ``limits`` allow."""
    if body.count(b"<") > limits.max_tags:
        raise MessageError("NMVS_TE_XM_01", f"more than {limits.max_tags} tags.")
    if _crowded_tag(limits.max_attributes).search(body):
        raise MessageError("NMVS_TE_XM_01", f"an element with more than {limits.max_attributes} attributes.")


def parse_request(body: bytes, limits: Limits) -> ET.Element:
    """The one element inside the SOAP Body, parsed without entities and valid against the XSD.

    ``limits`` are checked on the bytes first, and the depth while parsing, so no input costs more than
    a bounded, linear amount of work.
    """
    check_limits(body, limits)
    parser = defusedxml.ElementTree.DefusedXMLParser(target=_DepthLimited(limits.max_depth), forbid_dtd=True,
                                                     forbid_entities=True, forbid_external=True)
    try:
        parser.feed(body)
        root = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise MessageError("NMVS_TE_XM_01", f"refused XML construct: {type(exc).__name__}.") from exc
    except ET.ParseError as exc:
        raise MessageError("NMVS_TE_XM_01", f"not well-formed XML: {exc}.") from exc
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise MessageError("NMVS_TE_XM_01", f"root element {root.tag!r} is not a SOAP 1.2 Envelope.")
    bodies = [child for child in root if child.tag == f"{{{SOAP_NS}}}Body"]
    if len(bodies) != 1 or len(bodies[0]) != 1:
        raise MessageError("NMVS_TE_XM_01", "the Envelope needs one Body holding one request element.")
    request = bodies[0][0]
    if not request.tag.startswith(f"{{{NS}}}"):
        raise MessageError("NMVS_TE_XM_02", f"request element {request.tag!r} is not in namespace {NS}.")
    if request.tag not in schema().maps.elements:
        raise MessageError("NMVS_TE_XM_02", f"unknown request element {request.tag!r}.")
    error = next(schema().iter_errors(request), None)
    if error is not None:
        raise MessageError("NMVS_TE_XM_02", f"{error.path or ''}: {error.reason}"[:300])
    return request


def text_of(element: ET.Element, *path: str) -> str | None:
    """Text of a descendant named by local names (``None`` when absent)."""
    found = element.find("/".join(q(p) for p in path))
    return None if found is None else (found.text or "")


def request_header(request: ET.Element) -> dict[str, str | None]:
    """Login, software and transaction fields of a validated request's Header."""
    return {
        "login": text_of(request, "Header", "Auth", "ClientLoginId"),
        "user": text_of(request, "Header", "Auth", "UserId"),
        "password": text_of(request, "Header", "Auth", "Password"),
        "client_trx_id": text_of(request, "Header", "Transaction", "ClientTrxId"),
        "language": LANGUAGES.get(text_of(request, "Header", "Transaction", "Language") or "fra", "fr"),
    }


def pack_fields(container: ET.Element) -> dict[str, Any]:
    """Product code, scheme, NHRN, batch, expiry and serial of a validated Body or bulk Item."""
    code = container.find(q("Product") + "/" + q("ProductCode"))
    return {"scheme": code.get("scheme") if code is not None else None,
            "productCode": code.text if code is not None else None,
            "nhrn": text_of(container, "Product", "NHRN"),
            "batch": text_of(container, "Batch", "Id"), "expiry": text_of(container, "Batch", "ExpDate"),
            "serial": text_of(container, "Pack", "SN")}


@dataclass(frozen=True)
class Request:
    """A parsed, valid request as plain data, so it can come back from a worker process.

    ``name`` is the request element's local name (``G110Request``); ``pack`` the product, batch and
    pack fields of its Body (``pack_fields``); ``items`` the mixed-bulk items of a ``G195Request``, each
    with its ``operation``, ``clientTrxId``, ``refClientTrxId`` and ``recordedAt``; ``bulk_id`` the
    ``BulkTrxId`` of a ``G196Request``.
    """

    name: str
    header: dict[str, str | None]
    pack: dict[str, Any]
    ref_client_trx_id: str | None = None
    items: list[dict[str, Any]] | None = None
    bulk_id: str | None = None


def read_request(body: bytes, limits: Limits) -> Request:
    """``parse_request`` and the fields the facade needs, in one call that a worker can run."""
    request = parse_request(body, limits)
    name = request.tag.removeprefix(q(""))
    content = request.find(q("Body"))
    if content is None:
        content = ET.Element(q("Body"))
    items = None
    if name == "G195Request":
        items = [{**pack_fields(item), "operation": item.get("operation"), "clientTrxId": text_of(item, "ClientTrxId"),
                  "refClientTrxId": text_of(item, "RefClientTrxId"), "recordedAt": text_of(item, "RecordedAt")}
                 for item in content.findall(q("Item"))]
    return Request(name, request_header(request), pack_fields(content), text_of(content, "RefClientTrxId"), items,
                   text_of(content, "BulkTrxId"))


# -- responses ----------------------------------------------------------------------------------


def add(parent: ET.Element, name: str, text: Any = None, **attrs: str) -> ET.Element:
    """Append our element ``name`` (with ``text`` and attributes) to ``parent``."""
    element = ET.SubElement(parent, q(name), attrs)
    if text is not None:
        element.text = str(text)
    return element


def envelope(payload: ET.Element) -> bytes:
    env = ET.Element(f"{{{SOAP_NS}}}Envelope")
    ET.SubElement(env, f"{{{SOAP_NS}}}Body").append(payload)
    return ET.tostring(env, encoding="utf-8", xml_declaration=True)


def response_header(parent: ET.Element, *, client_trx_id: str | None, nmvs_trx_id: str, timestamp: str,
                    language: str, notifications: list[dict[str, Any]] | None) -> None:
    header = add(parent, "Header")
    transaction = add(header, "Transaction")
    if client_trx_id:
        add(transaction, "ClientTrxId", client_trx_id)
    add(transaction, "NMVSTrxId", nmvs_trx_id)
    add(transaction, "Timestamp", timestamp)
    add(transaction, "Language", {v: k for k, v in LANGUAGES.items()}.get(language, "fra"))
    if notifications:
        notes = add(header, "Notifications")
        for note in notifications:
            attrs = {"code": str(note["code"])}
            if note.get("days") is not None:
                attrs["days"] = str(int(note["days"]))
            add(notes, "Notification", note.get("message", ""), **attrs)


def pack_result(parent: ET.Element, result: dict[str, Any]) -> None:
    """The PackResult group from a section 7.2 body (the engine's ``PackResult.as_json``)."""
    reasons = result.get("reasons") or []
    state = "UNKNOWN" if result.get("state") in (None, "NotFound") else "INACTIVE" if reasons else "ACTIVE"
    pack = add(parent, "Pack")
    add(pack, "State", state)
    for reason in reasons:
        add(pack, "Reason", reason)
    if result.get("productName"):
        add(parent, "ProductName", result["productName"])
    if result.get("batchState"):
        add(parent, "BatchState", result["batchState"])
    add(parent, "IsIntermarket", "true" if result.get("isIntermarket") else "false")
    if result.get("alertId"):
        alert = add(parent, "Alert")
        add(alert, "AlertId", result["alertId"])
        add(alert, "AlertCode", result.get("alertCode") or "")
    return_code(parent, SOAP_CODE_OF.get(result["operationCode"], result["operationCode"]), result["description"])


def return_code(parent: ET.Element, code: str, text: str) -> None:
    element = add(parent, "ReturnCode")
    add(element, "Code", code)
    add(element, "Description", text)


def response(name: str, header: dict[str, Any], fill: Any) -> bytes:
    """``<name>`` with a response Header and a Body filled by ``fill(body_element)``."""
    payload = ET.Element(q(name))
    response_header(payload, **header)
    fill(add(payload, "Body"))
    return envelope(payload)


def bulk_items(parent: ET.Element, items: list[dict[str, Any]]) -> None:
    for result in items:
        item = add(parent, "Item")
        if result.get("clientTrxId"):
            add(item, "ClientTrxId", result["clientTrxId"])
        add(item, "NMVSTrxId", result.get("nmvsTrxId") or "")
        add(item, "Timestamp", result.get("timestamp") or "")
        pack_result(item, result)


def fault(status: int, code: str, language: str, detail: str = "", retry_after: str | None = None) -> bytes:
    """A SOAP 1.2 Fault (Sender for 4xx, Receiver for 5xx) carrying the return code in its Detail."""
    env = ET.Element(f"{{{SOAP_NS}}}Envelope")
    body = ET.SubElement(env, f"{{{SOAP_NS}}}Body")
    element = ET.SubElement(body, f"{{{SOAP_NS}}}Fault")
    value = ET.SubElement(ET.SubElement(element, f"{{{SOAP_NS}}}Code"), f"{{{SOAP_NS}}}Value")
    value.text = "soap:Sender" if status < 500 else "soap:Receiver"
    reason = ET.SubElement(ET.SubElement(element, f"{{{SOAP_NS}}}Reason"), f"{{{SOAP_NS}}}Text")
    reason.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    text = f"{description(code, language)} {detail}".strip()
    reason.text = text
    detail_element = ET.SubElement(ET.SubElement(element, f"{{{SOAP_NS}}}Detail"), q("FaultDetail"))
    return_code(detail_element, code, text)
    if retry_after is not None:
        add(detail_element, "RetryAfterSeconds", retry_after)
    return ET.tostring(env, encoding="utf-8", xml_declaration=True)
