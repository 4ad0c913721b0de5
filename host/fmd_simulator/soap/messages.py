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
import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
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
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_request(body: bytes) -> ET.Element:
    """The one element inside the SOAP Body, parsed without entities and valid against the XSD."""
    try:
        root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
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
