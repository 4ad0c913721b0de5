"""The SOAP 1.2 client of a "blueprint" national system (VERIFICATION-SERVICE.md section 2; issue 6).

France MVS and the other blueprint systems speak SOAP 1.2 over mutual TLS, with a login header in
every message. ``SOAPVerificationClient`` implements the same ``VerificationClient`` port as the REST
client and maps every answer to the same ``ServiceAnswer``, so the flow, the outbox and the events
journal behave identically over both:

- transport failures are classified by the shared ``transport.HTTPTransport`` (the same timeouts,
  no library retries, TLS always verified, a client certificate required);
- ``state`` is rebuilt from the SOAP pack state and reasons by section 3's project rule (first reason,
  pack-level first; ``UNKNOWN`` is ``NotFound``); ``http_status`` is the status the REST interface
  gives the return code (``codes.equivalent_status``), since the blueprint answers refusals inside a
  normal HTTP 200 response; the wire status is kept in ``detail``;
- a SOAP Fault (technical, login, certificate, throttling, outage) keeps its HTTP status, its return
  code and ``Retry-After``; notifications of the response header ("password about to expire") are
  passed on as ``{"code", "days", "message"}`` like the REST simulator's.

Configuration: ``nmvs-soap+https://host[:port]/path[?user=USER_ID&software=NAME]``; the login id and
password are the configuration's ``client_id`` and ``client_secret``; ``client_cert`` and ``client_key``
are required. The message layout is the project's guess (``host/fmd_simulator/soap/wsdl``); it must be
confirmed in the national integration environment before production use.

An undo needs its G-code (G121 undoes a dispense, G131 a destruction, ...). The client remembers the
state each ``client_trx_id`` it sent asked for; an undo of a change it does not know (e.g. after a
restart) is sent as G121, the terminal's only undo (``fmd_core.modes``: undo a dispense).
"""

from __future__ import annotations

import logging
import time
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree

from fmd_core.service import ANSWERED, NO_ANSWER, PackRef, ServiceAnswer
from fmd_terminal import __version__
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.codes import equivalent_status
from fmd_terminal.verification.transport import NOT_PROCESSED_STATUSES, HTTPTransport, Received, Timeouts

log = logging.getLogger(__name__)

SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
NS = "urn:fmd-terminal:nmvs:soap:v1"

# Requested REST state -> G-code (section 4); manual entry where the blueprint has its own code.
_CHANGE_CODE = {"Supplied": "G120", "Destroyed": "G130", "Exported": "G140", "Sample": "G150",
                "FreeSample": "G160", "Locked": "G170", "Stolen": "G180"}
_MANUAL_CODE = {"Supplied": "G122", "Stolen": "G182"}
_UNDO_CODE = {"Supplied": "G121", "Destroyed": "G131", "Exported": "G141", "Sample": "G151",
              "FreeSample": "G161", "Locked": "G171", "Stolen": "G181"}
# Section 3: SOAP reason -> REST state.
_STATE_OF_REASON = {"SUPPLIED": "Supplied", "DESTROYED": "Destroyed", "EXPORTED": "Exported", "SAMPLE": "Sample",
                    "FREESAMPLE": "FreeSample", "LOCKED": "Locked", "STOLEN": "Stolen", "CHECKED_OUT": "CheckedOut",
                    "EXPIRED": "Expired", "RECALLED": "Recalled", "WITHDRAWN": "Withdrawn"}
_LANGUAGES = ("fra", "eng", "deu")
_REMEMBERED_CHANGES = 10000
MAX_ANSWER_BYTES = 64 * 1024 * 1024


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(element: ET.Element | None, *path: str) -> str | None:
    if element is None:
        return None
    found = element.find("/".join(_q(p) for p in path))
    return None if found is None else (found.text or "")


def _el(name: str, value: str | None) -> str:
    return "" if value is None else f"<n:{name}>{escape(value)}</n:{name}>"


def _pack_xml(pack: PackRef) -> str:
    return (f'<n:Product><n:ProductCode scheme="{escape(pack.scheme)}">{escape(pack.product_code)}</n:ProductCode>'
            f'{_el("NHRN", pack.nhrn)}</n:Product>'
            f"<n:Batch>{_el('Id', pack.batch)}{_el('ExpDate', pack.expiry)}</n:Batch>"
            f"<n:Pack>{_el('SN', pack.serial)}</n:Pack>")


class SOAPVerificationClient:
    """SOAP 1.2 client of a blueprint national system (see the module docstring)."""

    def __init__(
        self,
        endpoint: str,
        *,
        login_id: str,
        password: str,
        client_cert: str,
        client_key: str | None = None,
        client_key_pin: str | None = None,
        user_id: str | None = None,
        ca_bundle: str | None = None,
        timeouts: Timeouts | Mapping[str, float] | None = None,
        language: str = "fra",
        software: tuple[str, str, str] = ("fmd-scan-terminal", "FMD scan terminal project", __version__),
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.netloc:
            raise ConfigError.text("service_url", url=repr(endpoint), expected="nmvs-soap+https://host[:port]/path")
        if language not in _LANGUAGES:
            raise ConfigError(f"language {language!r}: expected one of {list(_LANGUAGES)}")
        self.endpoint = endpoint.rstrip("/")
        self._login_id = login_id
        self._password = password
        self._user_id = user_id or login_id
        self._language = language
        self._software = software
        self._transport = HTTPTransport(ca_bundle=ca_bundle, client_cert=client_cert, client_key=client_key,
                                        client_key_pin=client_key_pin,
                                        timeouts=timeouts, max_body_bytes=MAX_ANSWER_BYTES, clock=clock,
                                        wall_clock=wall_clock)
        self._changes: OrderedDict[str, str] = OrderedDict()

    def __repr__(self) -> str:
        return f"SOAPVerificationClient({self.endpoint!r}, login_id={self._login_id!r})"

    # -- the port ------------------------------------------------------------------------------

    def verify(self, pack: PackRef) -> ServiceAnswer:
        """G110."""
        return self._single("G110", pack, None, None, is_change=False)

    def change_state(self, pack: PackRef, state: str, client_trx_id: str,
                     ref_client_trx_id: str | None = None) -> ServiceAnswer:
        """G120-G182: the G-code of ``state`` (manual entry: G122/G182), or of the undo of the referenced change."""
        code = self._code_of(state, pack.entry_mode, client_trx_id, ref_client_trx_id)
        return self._single(code, pack, client_trx_id, ref_client_trx_id, is_change=True)

    def submit_recovery(self, items: list[RecoveryItem]) -> tuple[ServiceAnswer, str | None]:
        """G195: a mixed bulk, each item with its own G-code; returns the bulk transaction id as results URI."""
        parts = []
        for item in items:
            code = self._code_of(item.requested_state, "non-manual", item.client_trx_id, item.ref_client_trx_id)
            parts.append(f'<n:Item operation="{code}">{_pack_xml(item.pack)}{_el("ClientTrxId", item.client_trx_id)}'
                         f'{_el("RefClientTrxId", item.ref_client_trx_id)}{_el("RecordedAt", item.recorded_at or None)}'
                         "</n:Item>")
        answer, body = self._call("MixedBulkServices", "G195", _new_trx_id(), "".join(parts), is_change=True)
        bulk_id = _text(body, "BulkTrxId") if body is not None else None
        if answer.operation_code == "NMVS_SUCCESS" and bulk_id:
            return _with(answer, http_status=202), bulk_id
        return answer, None

    def fetch_results(self, results_uri: str) -> tuple[ServiceAnswer, list[ServiceAnswer] | None]:
        """G196: ``NMVS_FE_TX_02`` (status 202) until ready, then one answer per item, in upload order."""
        answer, body = self._call("MixedBulkServices", "G196", _new_trx_id(),
                                  _el("BulkTrxId", results_uri), is_change=False)
        if body is None or answer.operation_code != "NMVS_SUCCESS":
            return answer, None
        items = [_pack_answer(item, item, True, 200, "bulk item") for item in body.findall(_q("Item"))]
        return answer, items

    def ping(self) -> ServiceAnswer:
        """The support service's ping: login checked, nothing changed."""
        return self._call("SupportServices", "Ping", _new_trx_id(), None, is_change=False)[0]

    def change_password(self, new_password: str) -> ServiceAnswer:
        """G445, the password change (issue 14; element names guessed: ``AccountServices``, ``NewPassword``).
        On ``NMVS_SUCCESS`` this client logs in with the new password from then on."""
        answer = self._call("AccountServices", "G445", _new_trx_id(), _el("NewPassword", new_password),
                            is_change=False)[0]
        if answer.operation_code == "NMVS_SUCCESS":
            self._password = new_password
        return answer

    def close(self) -> None:
        self._transport.close()

    # -- messages --------------------------------------------------------------------------------

    def _code_of(self, state: str, entry_mode: str, client_trx_id: str, ref: str | None) -> str:
        """The G-code of a requested state (section 4); an undo's from the change it references."""
        if state == "Active":
            return _UNDO_CODE[self._changes.get(ref or "", "Supplied")]
        if state not in _CHANGE_CODE:
            raise ConfigError(f"requested state {state!r}: expected one of {sorted(_CHANGE_CODE)} or 'Active'")
        self._remember(client_trx_id, state)
        if entry_mode == "manual" and state in _MANUAL_CODE:
            return _MANUAL_CODE[state]
        return _CHANGE_CODE[state]

    def _remember(self, client_trx_id: str, state: str) -> None:
        self._changes[client_trx_id] = state
        while len(self._changes) > _REMEMBERED_CHANGES:
            self._changes.popitem(last=False)

    def _single(self, code: str, pack: PackRef, client_trx_id: str | None, ref: str | None,
                is_change: bool) -> ServiceAnswer:
        body = _pack_xml(pack) + _el("RefClientTrxId", ref)
        return self._call("SinglePackServices", code, client_trx_id or _new_trx_id(), body, is_change)[0]

    def _envelope(self, operation: str, client_trx_id: str, body: str | None) -> bytes:
        name, supplier, version = self._software
        header = (f"<n:Header><n:Auth>{_el('ClientLoginId', self._login_id)}{_el('UserId', self._user_id)}"
                  f"{_el('Password', self._password)}</n:Auth>"
                  f"<n:UserSoftware>{_el('Name', name)}{_el('Supplier', supplier)}{_el('Version', version)}"
                  f"</n:UserSoftware><n:Transaction>{_el('ClientTrxId', client_trx_id)}"
                  f"{_el('Language', self._language)}</n:Transaction></n:Header>")
        payload = header if body is None else f"{header}<n:Body>{body}</n:Body>"
        return (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:n="{NS}">'
                f"<soap:Body><n:{operation}Request>{payload}</n:{operation}Request></soap:Body></soap:Envelope>"
                ).encode()

    def _call(self, service: str, operation: str, client_trx_id: str, body: str | None,
              is_change: bool) -> tuple[ServiceAnswer, ET.Element | None]:
        """One exchange; the answer and the response's Body element (None for a Fault or a failure)."""
        got = self._transport.send(
            "POST", f"{self.endpoint}/{service}",
            headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{NS}:{operation}"',
                     "Accept": "application/soap+xml"},
            body=self._envelope(operation, client_trx_id, body))
        if isinstance(got, ServiceAnswer):
            return got, None
        return _answer_of(got, operation, is_change)


def _new_trx_id() -> str:
    return uuid.uuid4().hex


def _with(answer: ServiceAnswer, **changes: Any) -> ServiceAnswer:
    fields = answer.as_dict()
    fields.update(changes)
    return ServiceAnswer(**fields)


def _parse(data: bytes) -> ET.Element | None:
    try:
        return defusedxml.ElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, defusedxml.DefusedXmlException):
        return None


def _answer_of(got: Received, operation: str, is_change: bool) -> tuple[ServiceAnswer, ET.Element | None]:
    """The ``ServiceAnswer`` of one complete HTTP answer (see the module docstring)."""
    root = _parse(got.body)
    body = root.find(f"{{{SOAP_NS}}}Body") if root is not None and root.tag == f"{{{SOAP_NS}}}Envelope" else None
    payload = body[0] if body is not None and len(body) == 1 else None
    if payload is None:
        transport = ANSWERED if got.status in NOT_PROCESSED_STATUSES else NO_ANSWER
        snippet = got.body[:120].decode("utf-8", "replace")
        return ServiceAnswer(transport=transport, transport_error="bad_body", http_status=got.status,
                             retry_after_s=got.retry_after_s, detail=f"not a SOAP 1.2 envelope: {snippet!r}"), None
    if payload.tag == f"{{{SOAP_NS}}}Fault":
        detail = payload.find(f"{{{SOAP_NS}}}Detail/{_q('FaultDetail')}")
        code = _text(detail, "ReturnCode", "Code")
        retry = got.retry_after_s
        if retry is None and (_text(detail, "RetryAfterSeconds") or "").isdigit():
            retry = float(_text(detail, "RetryAfterSeconds") or 0)
        return ServiceAnswer(http_status=got.status, operation_code=code,
                             description=_text(detail, "ReturnCode", "Description"), retry_after_s=retry,
                             detail=f"SOAP Fault, HTTP {got.status}"), None
    if payload.tag != _q(f"{operation}Response"):
        return ServiceAnswer(transport=NO_ANSWER, transport_error="bad_body", http_status=got.status,
                             detail=f"expected {operation}Response, got {payload.tag!r}"), None
    content = payload.find(_q("Body"))
    answer = _pack_answer(payload, content, is_change, got.status, f"SOAP HTTP {got.status}")
    return _with(answer, retry_after_s=got.retry_after_s), content


def _pack_answer(holder: ET.Element, content: ET.Element | None, is_change: bool, wire_status: int,
                 detail: str) -> ServiceAnswer:
    """A response (``holder`` with its Header, ``content`` its Body) or a bulk result Item."""
    code = _text(content, "ReturnCode", "Code")
    pack = content.find(_q("Pack")) if content is not None else None
    reasons = tuple(r.text or "" for r in pack.findall(_q("Reason"))) if pack is not None else ()
    soap_state = _text(pack, "State")
    state = None
    if soap_state == "UNKNOWN":
        state = "NotFound"
    elif soap_state is not None:
        state = _STATE_OF_REASON.get(reasons[0], reasons[0]) if reasons else "Active"
    transaction = holder.find(_q("Header") + "/" + _q("Transaction"))
    if transaction is None:  # a bulk result Item carries its ids directly
        transaction = holder
    notes = holder.findall(_q("Header") + "/" + _q("Notifications") + "/" + _q("Notification"))
    days = [n.get("days") for n in notes]
    return ServiceAnswer(
        transport=ANSWERED,
        http_status=equivalent_status(code, is_change) if code else wire_status,
        operation_code=code,
        description=_text(content, "ReturnCode", "Description"),
        state=state,
        reasons=reasons,
        alert_id=_text(content, "Alert", "AlertId") or None,
        alert_code=_text(content, "Alert", "AlertCode") or None,
        is_intermarket=_text(content, "IsIntermarket") == "true",
        product_name=_text(content, "ProductName"),
        batch_state=_text(content, "BatchState"),
        nmvs_trx_id=_text(transaction, "NMVSTrxId"),
        client_trx_id=_text(transaction, "ClientTrxId") if is_change else None,
        timestamp=_text(transaction, "Timestamp"),
        notifications=tuple({"code": n.get("code"), "days": int(d) if d and d.isdigit() else None,
                             "message": n.text or ""} for n, d in zip(notes, days, strict=True)),
        detail=detail,
    )
