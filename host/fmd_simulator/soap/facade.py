"""The SOAP 1.2 facade of the simulator, shaped after the national "blueprint" interface.

VERIFICATION-SERVICE.md section 2: France MVS and the other blueprint systems speak SOAP 1.2 over
mutual TLS with a login header in every message. This ASGI application translates those messages to
the same protocol-neutral engine the REST facade uses (``engine.Engine``): it decides nothing itself.
It shares the REST application's engine, fault settings and bulk processing, so ``PUT /admin/faults``
and the simulator clock apply to both protocols.

Endpoints (POST, ``application/soap+xml``), published in ``wsdl/nmvs-blueprint.wsdl``:

| Path | Operations |
|---|---|
| ``/soap/SinglePackServices`` | ``G110Request`` verify; ``G120``-``G182`` decommission, undo, manual entry |
| ``/soap/MixedBulkServices`` | ``G195Request`` upload (items with their own G-code), ``G196Request`` results |
| ``/soap/SupportServices`` | ``PingRequest`` |

``GET /soap/nmvs-blueprint.wsdl`` and ``GET /soap/nmvs-blueprint.xsd`` return the contract.

Step 1 of section 5's decision order, in this facade: mutual TLS (``NMVS_FE_PKI_05`` when the
request did not come over a TLS connection that required a client certificate); size limit, tag,
attribute and depth limits, hardened parse and schema check, all off the event loop (``read_off_loop``) (``NMVS_TE_XM_01/02``, HTTP 400); outage, throttling and certificate faults (503,
429 with ``Retry-After``, 401 ``FE_PKI_01``); login (``NMVS_FE_AU_01`` for an unknown login id or a
wrong password, then the password and terms faults). Those are SOAP Faults with the REST status.
Every answer of the engine, refusals included, is a normal response with HTTP 200 and its return code.

GUESSED (no public WSDL): element names and nesting; that the login header sits inside each request
element (as ``Header``) rather than in the SOAP Header; that business refusals are normal responses
and technical errors Faults; the HTTP status of Faults; the mixed-bulk item layout and the
``operation`` attribute; the notification codes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from fmd_simulator.engine import PackRequest, iso
from fmd_simulator.off_loop import in_worker
from fmd_simulator.rest import (
    LARGE_BODY,
    MAX_BULK_ITEMS,
    SMALL_BODY,
    Dropped,
    HTTPProblem,
    Posted,
    Receive,
    Scope,
    Send,
    SimulatorApp,
    read_body,
)
from fmd_simulator.soap import messages
from fmd_simulator.soap.messages import Limits, MessageError

log = logging.getLogger(__name__)

# G-code of a single-pack request -> (requested REST state or None for verify, entry mode, undone reason).
_UNDONE = {"G121": "SUPPLIED", "G131": "DESTROYED", "G141": "EXPORTED", "G151": "SAMPLE", "G161": "FREESAMPLE",
           "G171": "LOCKED", "G181": "STOLEN"}
_DECOMMISSION = {"G120": "Supplied", "G130": "Destroyed", "G140": "Exported", "G150": "Sample",
                 "G160": "FreeSample", "G170": "Locked", "G180": "Stolen", "G122": "Supplied", "G182": "Stolen"}
OPERATIONS: dict[str, tuple[str | None, str, str | None]] = {"G110": (None, "non-manual", None)}
OPERATIONS.update({code: (state, "manual" if code in ("G122", "G182") else "non-manual", None)
                   for code, state in _DECOMMISSION.items()})
OPERATIONS.update({code: ("Active", "non-manual", reason) for code, reason in _UNDONE.items()})

# Endpoint -> (request elements served, body size limit, tag and attribute limits before parsing).
_SMALL_LIMITS = Limits(max_tags=400)
_ENDPOINTS = {
    "SinglePackServices": ({f"{code}Request" for code in OPERATIONS}, SMALL_BODY, _SMALL_LIMITS),
    "MixedBulkServices": ({"G195Request", "G196Request"}, LARGE_BODY, Limits(max_tags=40 * MAX_BULK_ITEMS + 400)),
    "SupportServices": ({"PingRequest"}, SMALL_BODY, _SMALL_LIMITS),
}
async def read_off_loop(body: bytes, limits: Limits) -> messages.Request:
    """``messages.read_request`` away from the event loop: a thread for small bodies, the worker process
    (``off_loop``) for large ones (xmlschema is pure Python: a thread would hold the interpreter lock)."""
    if len(body) <= SMALL_BODY:
        return await asyncio.to_thread(messages.read_request, body, limits)
    try:
        return await in_worker(messages.read_request, body, limits)
    except BrokenProcessPool as exc:  # the worker died (killed, out of memory): a new one for the next request
        raise HTTPProblem(503, "NMVS_ERROR", "the request could not be parsed; send it again.") from exc


class SOAPFacade:
    """The SOAP facade over a ``SimulatorApp``'s engine (see the module docstring).

    ``mutual_tls`` says the server demands client certificates (``--client-ca``); without it every
    SOAP request is refused with ``NMVS_FE_PKI_05``, because this facade requires mutual TLS.
    """

    def __init__(self, app: SimulatorApp, *, mutual_tls: bool) -> None:
        self.app = app
        self.engine = app.engine
        self.faults = app.faults
        self.mutual_tls = mutual_tls

    async def __call__(self, scope: Scope, receive: Receive, raw_send: Send) -> None:
        headers = dict(scope["headers"])
        language = "fr"

        async def send(message: dict[str, Any]) -> None:
            """Answer only what is committed, as the REST facade does (its group commit)."""
            if message["type"] == "http.response.start":
                await self.app.durable()
            await raw_send(message)

        send.raw = raw_send  # type: ignore[attr-defined]  # for drop_connection
        try:
            name = scope["path"].removeprefix("/soap/").strip("/")
            if scope["method"] == "GET" and name in ("nmvs-blueprint.wsdl", "nmvs-blueprint.xsd"):
                return await self._file(send, name)
            if scope["method"] != "POST" or name not in _ENDPOINTS:
                raise HTTPProblem(404, "NMVS_TE_XM_01", f"no SOAP endpoint {scope['method']} {scope['path']!r}.")
            if not (self.mutual_tls and scope.get("scheme") == "https"):  # refused before reading any XML
                raise HTTPProblem(401, "NMVS_FE_PKI_05", "this interface requires mutual TLS.")
            allowed, limit, limits = _ENDPOINTS[name]
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if content_type != b"application/soap+xml":
                raise HTTPProblem(415, "NMVS_TE_XM_01", "Content-Type must be application/soap+xml (SOAP 1.2).")
            body = await read_body(receive, headers, limit)
            request = await read_off_loop(body, limits)
            header = request.header
            language = header["language"] or "fr"
            operation = request.name.removesuffix("Request")
            if request.name not in allowed:
                raise HTTPProblem(400, "NMVS_TE_XM_02", f"{operation} is not served by {name}.")
            await self._operation(operation, request, header, send)
        except MessageError as problem:
            await _send(raw_send, 400, messages.fault(400, problem.code, language, problem.detail))
        except HTTPProblem as problem:
            code = messages.SOAP_CODE_OF.get(problem.code, problem.code)
            retry = dict(problem.headers).get(b"retry-after")
            await _send(raw_send, problem.status,
                        messages.fault(problem.status, code, language, problem.detail,
                                       retry.decode() if retry else None), problem.headers)
        except Dropped:
            return

    async def _file(self, send: Send, name: str) -> None:
        with open(os.path.join(messages.WSDL_DIR, name), "rb") as f:
            data = f.read()
        await _send(send, 200, data, content_type=b"text/xml; charset=utf-8")

    def _login(self, header: dict[str, Any]) -> Any:
        """The engine's client for the header's login id and password (constant-time comparison)."""
        client = self.engine.clients.get(header["login"] or "")
        given = (header["password"] or "").encode()
        if client is None or not secrets.compare_digest(client.secret.encode(), given):
            raise HTTPProblem(401, "NMVS_FE_AU_01", "unknown login id or wrong password.")
        self.app.account_faults()
        return client

    async def _operation(self, operation: str, request: messages.Request, header: dict[str, Any], send: Send) -> None:
        self.app.service_faults(0.0 if operation == "Ping" else None)
        client = self._login(header)
        if operation == "Ping":
            await self._reply(send, "PingResponse", header, os.urandom(16).hex(), self.engine.clock.now(),
                              lambda body: messages.return_code(body, "NMVS_SUCCESS",
                                                                messages.description("NMVS_SUCCESS", header["language"])))
        elif operation == "G195":
            await self.app.bulk_latency()
            await self._bulk_upload(request, header, client, send)
        elif operation == "G196":
            await self.app.bulk_latency()
            await self._bulk_results(request, header, client, send)
        else:
            await self._single(operation, request, header, client, send)

    async def _single(self, operation: str, request: messages.Request, header: dict[str, Any], client: Any, send: Send) -> None:
        """G110-G182 through the engine, inside the single-pack faults of section 8 (shared with REST)."""

        async def pack_request() -> PackRequest:
            state, mode, undone = OPERATIONS[operation]
            fields = request.pack
            return PackRequest(client, fields["scheme"], fields["productCode"], fields["serial"], fields["batch"],
                               fields["expiry"], nhrn=fields["nhrn"], requested_state=state,
                               client_trx_id=header["client_trx_id"] if state else None,
                               ref_client_trx_id=request.ref_client_trx_id, entry_mode=mode,
                               undo_reason=undone)

        result = await self.app.execute_with_faults(send, pack_request)
        answer = result.as_json(header["language"])
        await self._reply(send, f"{operation}Response", header, result.nmvs_trx_id, result.timestamp,
                          lambda element: messages.pack_result(element, answer))

    async def _bulk_upload(self, request: messages.Request, header: dict[str, Any], client: Any, send: Send) -> None:
        """G195: store the items as a recovery upload; the REST application's worker processes them."""
        items = [{**{k: v for k, v in item.items() if v is not None and k != "operation"},
                  "requestedState": OPERATIONS[item["operation"]][0],
                  "clientTrxId": item["clientTrxId"], "refClientTrxId": item["refClientTrxId"],
                  "recordedAt": item["recordedAt"]}
                 for item in request.items or []]
        bulk_id = os.urandom(16).hex()
        now = self.engine.clock.now()
        head = {"requestedState": None, "language": header["language"]}
        with self.app.store.transaction():
            self.app.store.add_bulk(bulk_id, client.client_id, "recovery", {**head, "items": items}, now)
        self.app.start_bulk(bulk_id, Posted(client.client_id, "recovery", head, items, encoded=False))

        def fill(body: Any) -> None:
            messages.add(body, "BulkTrxId", bulk_id)
            messages.return_code(body, "NMVS_SUCCESS", messages.description("NMVS_SUCCESS", header["language"]))

        await self._reply(send, "G195Response", header, bulk_id, now, fill)

    async def _bulk_results(self, request: messages.Request, header: dict[str, Any], client: Any, send: Send) -> None:
        """G196: ``NMVS_FE_TX_02`` until the upload is processed, then one result per item, in order."""
        bulk_id = request.bulk_id or ""
        job = self.app.store.bulk(bulk_id)
        if job is None or job[0] != client.client_id:
            raise HTTPProblem(400, "NMVS_TE_XM_02", f"no bulk request {bulk_id!r} of this login.")
        language = header["language"]
        done = job[2] == "done"
        code = "NMVS_SUCCESS" if done else "NMVS_FE_TX_02"

        def fill(body: Any) -> None:
            messages.return_code(body, code, messages.description(code, language))
            if done:
                messages.bulk_items(body, job[4])

        await self._reply(send, "G196Response", header, os.urandom(16).hex(), self.engine.clock.now(), fill)

    async def _reply(self, send: Send, name: str, header: dict[str, Any], nmvs_trx_id: str, when: float,
                     fill: Any) -> None:
        notes = self.faults.active and self.app.notifications()
        data = messages.response(name, {"client_trx_id": header["client_trx_id"], "nmvs_trx_id": nmvs_trx_id,
                                        "timestamp": iso(when), "language": header["language"],
                                        "notifications": notes or None}, fill)
        await _send(send, 200, data)


async def _send(send: Send, status: int, data: bytes, extra: list[tuple[bytes, bytes]] | None = None,
                content_type: bytes = messages.CONTENT_TYPE) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(data)).encode())]
    headers += [(k, v) for k, v in (extra or []) if k.lower() not in (b"content-type", b"content-length")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def with_soap(app: SimulatorApp, *, mutual_tls: bool) -> Any:
    """An ASGI application serving ``/soap/...`` from the SOAP facade and everything else from ``app``."""
    facade = SOAPFacade(app, mutual_tls=mutual_tls)

    async def combined(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/soap" or scope["path"].startswith("/soap/")):
            await facade(scope, receive, send)
        else:
            await app(scope, receive, send)

    combined.app = app  # type: ignore[attr-defined]
    combined.facade = facade  # type: ignore[attr-defined]
    return combined
