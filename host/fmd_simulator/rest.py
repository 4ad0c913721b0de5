"""The REST facade: a plain ASGI application over the engine (VERIFICATION-SERVICE.md, section 7).

Plain ASGI on uvicorn rather than a framework: the service has a dozen fixed routes, the hot path
(verify and state change) must stay at one SQLite savepoint plus a few dictionary look-ups, and the
faults of section 8 need direct control of the connection (``drop_connection``). Section 5's step 1
lives here (faults, authentication, headers); everything after it is the engine's. Requests of one
event-loop tick share a commit (``start_group_commit``); no answer leaves before its work is committed.

Limits (answered 413 ``NMVS_TE_JS_01``): 64 KiB for a token or single-pack request, 32 MiB for bulk,
recovery and administration bodies. Bodies must be ``application/json`` (415 otherwise), the token
request ``application/x-www-form-urlencoded``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from fmd_simulator import seeding
from fmd_simulator.codes import CODES
from fmd_simulator.engine import (
    REQUESTED_STATES,
    Client,
    Engine,
    PackRequest,
    PackResult,
    iso,
    overlays_of,
    parse_iso,
    record_error,
    state_of,
)
from fmd_simulator.errors import StoreError
from fmd_simulator.faults import Faults
from fmd_simulator.off_loop import in_worker
from fmd_simulator.openapi import openapi_document
from fmd_simulator.tokens import AccessTokens

log = logging.getLogger(__name__)

SMALL_BODY = 64 * 1024
LARGE_BODY = 32 * 1024 * 1024
MAX_BULK_ITEMS = 100_000
BULK_SLICE = 0.005
LOOPBACK = ("127.0.0.1", "::1", "localhost")
JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Posted(NamedTuple):
    """A bulk or recovery upload as its task processes it: ``head`` holds ``requestedState`` and ``language``;
    ``items`` are JSON texts (``encoded``, a REST body) or already decoded (the SOAP facade's)."""

    client_id: str
    kind: str
    head: dict[str, Any]
    items: list[Any]
    encoded: bool


class HTTPProblem(Exception):
    """A request refused before the engine: status, return code, detail, extra headers."""

    def __init__(self, status: int, code: str, detail: str = "", headers: list[tuple[bytes, bytes]] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or []

    def __reduce__(self) -> tuple[Any, ...]:  # raised in the worker process (``off_loop``), re-raised here
        return HTTPProblem, (self.status, self.code, self.detail, self.headers)


class Dropped(Exception):
    """The connection was closed on purpose (drop faults); nothing must be sent."""


def drop_connection(send: Send) -> None:
    """Close the TCP connection without any response (section 8, drop faults).

    uvicorn's ``send`` is a bound method of its per-request cycle, which holds the transport. Marking the
    cycle disconnected stops uvicorn from answering 500 when the application returns without a response.
    """
    cycle = getattr(getattr(send, "raw", send), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise HTTPProblem(500, "NMVS_ERROR", "this server cannot drop connections")
    cycle.disconnected = True  # type: ignore[union-attr]
    transport.abort()
    raise Dropped()


def language_of(headers: dict[bytes, bytes]) -> str:
    value = headers.get(b"accept-language", b"fr")[:2].lower()
    return {b"en": "en", b"de": "de"}.get(value, "fr")


def problem_body(code: str, detail: str, language: str) -> dict[str, Any]:
    description = CODES[code].description(language)
    return {"operationCode": code, "description": f"{description} {detail}".strip()}


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def respond(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await respond_json(send, status, compact(body).encode(), headers)


async def respond_json(send: Send, status: int, data: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send ``data``, a JSON document already encoded."""
    await send({"type": "http.response.start", "status": status,
                "headers": [*JSON_HEADERS, (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


async def read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    length = headers.get(b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise HTTPProblem(413, "NMVS_TE_JS_01", f"body larger than {limit} bytes.")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Dropped()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, "NMVS_TE_JS_01", f"body larger than {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent, refused when it overflows to infinity (``1e999``)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _non_standard(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_of(body: bytes, headers: dict[bytes, bytes]) -> Any:
    """The body parsed as strict JSON (RFC 8259): 400 ``NMVS_TE_JS_01`` for anything else.

    Python's parser accepts ``NaN``, ``Infinity`` and ``1e999`` (infinity), which slip through range checks
    (every comparison with NaN is false) and were stored; they are refused here, for every JSON body.
    Nesting deeper than the parser's recursion limit is refused the same way instead of failing with 500.
    """
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        raise HTTPProblem(415, "NMVS_TE_JS_01", "Content-Type must be application/json.")
    try:
        return json.loads(body, parse_float=_finite, parse_constant=_non_standard)
    except RecursionError as exc:
        raise HTTPProblem(400, "NMVS_TE_JS_01", "invalid JSON: nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPProblem(400, "NMVS_TE_JS_01", f"invalid JSON: {exc}.") from exc


def json_object(body: bytes, headers: dict[bytes, bytes]) -> dict[str, Any]:
    data = json_of(body, headers)
    if not isinstance(data, dict):
        raise HTTPProblem(400, "NMVS_TE_JS_02", "the body must be a JSON object.")
    return data


def read_bulk(body: bytes, headers: dict[bytes, bytes], kind: str) -> tuple[str | None, list[str]]:
    """A bulk (``kind`` "bulk") or recovery upload's body checked: its ``requestedState`` (None for a recovery
    upload) and each item's JSON text, which the bulk's task decodes one at a time between other requests.

    Runs in the worker process (``off_loop``) for a large body: a 20,000-item body took 0.3 s to parse and
    as long again to encode for storage, time the event loop would not answer anyone else.
    """
    data = json_object(body, headers)
    items = data.get("items")
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BULK_ITEMS:
        raise HTTPProblem(400, "NMVS_TE_JS_02", f"items must be a list of 1 to {MAX_BULK_ITEMS} objects.")
    state = None
    if kind == "bulk":
        state = data.get("requestedState")
        if not isinstance(state, str) or state not in REQUESTED_STATES:
            raise HTTPProblem(400, "NMVS_TE_JS_02", f"requestedState must be one of {sorted(REQUESTED_STATES)}.")
    return state, [compact(item) for item in items]


def text(data: dict[str, Any], name: str, required: bool = True) -> Any:
    """A string field; None when absent and optional; 400 when missing or not a string."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise HTTPProblem(400, "NMVS_TE_JS_02", f"field {name!r} must be a string.")
    return value


def path_segments(scope: Scope) -> list[str]:
    raw = scope.get("raw_path") or scope["path"].encode()
    try:
        return [unquote(part.decode("ascii"), errors="strict") for part in raw.split(b"?")[0].split(b"/")[1:]]
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPProblem(400, "NMVS_TE_JS_01", "the path is not valid percent-encoded UTF-8.") from exc


class SimulatorApp:
    """The ASGI application: the service of section 7 and the administration of section 7.4."""

    def __init__(self, engine: Engine, faults: Faults | None = None, admin_token: str | None = None) -> None:
        self.engine = engine
        self.store = engine.store
        self.faults = faults or Faults()
        self.admin_token = admin_token
        self.tokens: AccessTokens[Client] = AccessTokens()
        self.bulk_tasks: set[asyncio.Task[None]] = set()
        self.committed: asyncio.Future[None] | None = None

    # -- ASGI entry ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] == "websocket":  # refused before the handshake: uvicorn answers 403
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        language = language_of(headers)

        async def durable_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                await self.durable()
            await send(message)

        durable_send.raw = send  # type: ignore[attr-defined]  # for drop_connection
        try:
            await self.route(scope, receive, durable_send, headers, language)
        except HTTPProblem as problem:
            await respond(send, problem.status, problem_body(problem.code, problem.detail, language), problem.headers)
        except Dropped:
            return

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_group_commit()
                for bulk_id in self.store.pending_bulks():
                    self.start_bulk(bulk_id)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in list(self.bulk_tasks):
                    task.cancel()
                self.store.group_commit(None)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- group commit ---------------------------------------------------------------------------
    def start_group_commit(self) -> None:
        """Share one SQLite commit among the requests of an event-loop tick (see ``Store.transaction``).

        Every answer waits for the commit of its own work (``durable``), so nothing is acknowledged that a
        crash could lose; under load, many requests share one WAL write.
        """
        loop = asyncio.get_running_loop()

        def on_open() -> None:
            self.committed = loop.create_future()
            loop.call_soon(self.flush)

        self.store.group_commit(on_open)

    def flush(self) -> None:
        committed = self.committed
        if committed is None:
            return
        try:
            self.store.commit_group()
        except StoreError as exc:
            log.error("commit failed: %s", exc)
            committed.set_exception(exc)
            return
        committed.set_result(None)

    async def durable(self) -> None:
        committed = self.committed
        if committed is not None and not committed.done():
            try:
                await committed
            except StoreError as exc:
                raise HTTPProblem(500, "NMVS_ERROR", "storage failure; outcome unknown.") from exc

    async def route(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes],
                    language: str) -> None:
        method = scope["method"]
        parts = path_segments(scope)
        head = parts[0] if parts else ""
        if head == "product" and len(parts) == 5 and parts[3] == "pack":
            if method == "GET":
                return await self.single(scope, receive, send, headers, language, parts, change=False)
            if method == "PATCH":
                return await self.single(scope, receive, send, headers, language, parts, change=True)
            raise HTTPProblem(405, "NMVS_TE_JS_01", f"method {method} not allowed here.")
        if head in ("product", "recovery") and len(parts) in (2, 3) and parts[1] == "packs":
            kind = "bulk" if head == "product" else "recovery"
            if len(parts) == 2 and method == "POST":
                return await self.post_bulk(receive, send, headers, language, kind)
            if len(parts) == 3 and method == "GET":
                return await self.get_bulk(send, headers, language, parts[2])
            raise HTTPProblem(405, "NMVS_TE_JS_01", f"method {method} not allowed here.")
        if parts == ["identity", "connect", "token"]:
            if method != "POST":
                raise HTTPProblem(405, "NMVS_TE_JS_01", f"method {method} not allowed here.")
            return await self.token(receive, send, headers, language)
        if parts == ["ping"] and method == "GET":
            self.service_faults()
            return await respond(send, 200, {"status": "ok"})
        if parts == ["openapi.json"] and method == "GET":
            return await respond(send, 200, openapi_document())
        if head == "admin":
            self.check_admin(scope, headers)
            return await self.admin(method, parts[1:], scope, receive, send, headers)
        raise HTTPProblem(404, "NMVS_TE_JS_01", f"unknown path {scope['path']!r}.")

    # -- step 1: faults, authentication, headers ---------------------------------------------
    def service_faults(self, sim_now: float | None = None) -> None:
        """Outage (503) and throttling (429), both with ``Retry-After``; certificate expiry (401).

        ``sim_now`` is the simulator time outage windows are judged by (None or 0: the clock's now).
        """
        faults = self.faults
        if not faults.active:
            return
        retry = [(b"retry-after", faults.retry_after().encode())]
        if faults.in_outage(sim_now or self.engine.clock.now()):
            raise HTTPProblem(503, "NMVS_ERROR", "service unavailable (outage).", retry)
        if faults.throttled():
            raise HTTPProblem(429, "NMVS_FI_SE_CLI_01", "", retry)
        if faults.settings["certificateExpired"]:
            raise HTTPProblem(401, "NMVS_FE_PKI_01")

    async def bulk_latency(self) -> None:
        """The latency fault (section 8) on a bulk upload or a results request (G195/G196, G188): one
        processing delay per request, as a single-pack request gets, so one ``latencyMs`` costs every
        request the same (issue 17's benchmark compares one request per pack with bulks)."""
        if self.faults.active:
            delay = self.faults.latency_seconds()
            if delay:
                await asyncio.sleep(delay)

    def account_faults(self) -> None:
        if self.faults.settings["accountLocked"]:
            raise HTTPProblem(401, "NMVS_FE_AU_02")
        if self.faults.settings["passwordExpired"]:
            raise HTTPProblem(401, "NMVS_FE_AU_11")
        if self.faults.settings["termsPending"]:
            raise HTTPProblem(401, "NMVS_FE_AU_23")

    def authenticate(self, headers: dict[bytes, bytes]) -> Client:
        value = headers.get(b"authorization", b"")
        if not value.startswith(b"Bearer "):
            raise HTTPProblem(401, "NMVS_FE_AU_01", "missing bearer token.", [(b"www-authenticate", b"Bearer")])
        client = self.tokens.owner(value[7:].decode("latin-1").strip())
        if client is None:
            raise HTTPProblem(401, "NMVS_FE_AU_01", "invalid or expired token.", [(b"www-authenticate", b"Bearer")])
        self.account_faults()
        return client

    def notifications(self) -> list[dict[str, Any]] | None:
        days = self.faults.settings["passwordExpiresInDays"]
        if days is None:
            return None
        return [{"code": "PASSWORD_EXPIRES", "days": int(days), "message": f"password expires in {int(days)} days"}]

    async def token(self, receive: Receive, send: Send, headers: dict[bytes, bytes], language: str) -> None:
        """``POST /identity/connect/token`` (section 7.1, OAuth2 client credentials)."""
        self.service_faults()
        body = await read_body(receive, headers, SMALL_BODY)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/x-www-form-urlencoded":
            raise HTTPProblem(415, "NMVS_TE_JS_01", "Content-Type must be application/x-www-form-urlencoded.")
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPProblem(400, "NMVS_TE_JS_01", "malformed form body.") from exc
        if form.get("grant_type") != "client_credentials":
            raise HTTPProblem(400, "NMVS_TE_JS_02", "grant_type must be client_credentials.")
        client = self.engine.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(client.secret.encode(), form.get("client_secret", "").encode()):
            raise HTTPProblem(401, "NMVS_FE_AU_01")
        self.account_faults()
        ttl = int(self.faults.settings["tokenTtlSeconds"])
        token = self.tokens.issue(client, ttl)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
        notes = self.notifications()
        if notes:
            answer["notifications"] = notes
        await respond(send, 200, answer)

    # -- single pack ----------------------------------------------------------------------------
    async def single(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], language: str,
                     parts: list[str], change: bool) -> None:
        """Verify (``GET``) and change state (``PATCH``) of one pack (section 7.2)."""
        self.service_faults()

        async def request() -> PackRequest:
            client = self.authenticate(headers)
            mode = headers.get(b"emvs-data-entry-mode")
            if mode not in (b"manual", b"non-manual"):
                raise HTTPProblem(422, "NMVS_TE_JS_02", "header emvs-data-entry-mode must be manual or non-manual.")
            _, scheme, product_code, _, serial = parts
            if change:
                trx_id = headers.get(b"x-client-trx-id")
                if trx_id is None:
                    raise HTTPProblem(422, "NMVS_TE_JS_02", "header X-Client-Trx-Id is missing.")
                data = json_object(await read_body(receive, headers, SMALL_BODY), headers)
                for name in ("batch", "expiry", "state"):
                    text(data, name)
                return PackRequest(client, scheme, product_code, serial, data["batch"], data["expiry"],
                                   requested_state=data["state"], client_trx_id=trx_id.decode("latin-1"),
                                   ref_client_trx_id=text(data, "refClientTrxId", required=False),
                                   entry_mode=mode.decode())
            try:
                query = dict(parse_qsl(scope["query_string"].decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError as exc:
                raise HTTPProblem(400, "NMVS_TE_JS_01", "query string is not UTF-8.") from exc
            if "batch" not in query or "expiry" not in query:
                raise HTTPProblem(400, "NMVS_TE_JS_02", "query parameters batch and expiry are required.")
            return PackRequest(client, scheme, product_code, serial, query["batch"], query["expiry"],
                               nhrn=query.get("nhrn"), entry_mode=mode.decode())

        result = await self.execute_with_faults(send, request)
        body = result.as_json(language)
        notes = self.faults.active and self.notifications()
        if notes:
            body["notifications"] = notes
        await respond(send, result.http_status, body)

    async def execute_with_faults(self, send: Send, request: Callable[[], Awaitable[PackRequest]]) -> PackResult:
        """One single-pack request through the engine, inside the single-pack faults of section 8.

        Shared by the REST and SOAP facades, so one ``PUT /admin/faults`` means the same over both.
        Before ``request()`` builds the request (authentication, headers, body): latency, random
        errors (500 ``NMVS_ERROR``, nothing applied) and drop before apply. Then: timeouts (500
        ``NMVS_TI_TO_01`` after ``hangMs``; applied or not, seeded), the intermarket delay, and drop
        after apply (the change is committed first, then the connection closes unanswered).
        """
        faults = self.faults
        if faults.active:
            delay = faults.latency_seconds()
            if delay:
                await asyncio.sleep(delay)
            if faults.chance("errorRate"):
                raise HTTPProblem(500, "NMVS_ERROR", "injected error; nothing applied.")
            if faults.chance("dropBeforeApplyRate"):
                drop_connection(send)
        req = await request()
        if faults.active and faults.chance("timeoutRate"):
            if faults.rng.random() >= 0.5:
                self.engine.execute(req)  # applied (seeded), but the client never learns the outcome
            if faults.settings["hangMs"]:
                await asyncio.sleep(faults.settings["hangMs"] / 1000.0)
            raise HTTPProblem(500, "NMVS_TI_TO_01", "outcome unknown.")
        result = self.engine.execute(req)
        if result.is_intermarket:
            await asyncio.sleep(faults.intermarket_seconds())
        if faults.active and faults.chance("dropAfterApplyRate"):
            await self.durable()
            drop_connection(send)
        return result

    # -- bulk and recovery ----------------------------------------------------------------------
    async def post_bulk(self, receive: Receive, send: Send, headers: dict[bytes, bytes], language: str,
                        kind: str) -> None:
        """``POST /product/packs`` (G125...) and ``POST /recovery/packs`` (G195): 202 with a results URI."""
        self.service_faults()
        client = self.authenticate(headers)
        await self.bulk_latency()
        if headers.get(b"emvs-data-entry-mode") not in (b"manual", b"non-manual"):
            raise HTTPProblem(422, "NMVS_TE_JS_02", "header emvs-data-entry-mode must be manual or non-manual.")
        body = await read_body(receive, headers, LARGE_BODY)
        content_type = {b"content-type": headers.get(b"content-type", b"")}
        if len(body) <= SMALL_BODY:
            state, items = read_bulk(body, content_type, kind)
        else:
            try:
                state, items = await in_worker(read_bulk, body, content_type, kind)
            except BrokenProcessPool as exc:  # the worker died (killed, out of memory): a new one next time
                raise HTTPProblem(503, "NMVS_ERROR", "the request could not be parsed; send it again.") from exc
        head = {"requestedState": state, "language": language}
        request = compact(head)[:-1] + ',"items":[' + ",".join(items) + "]}"  # stored without encoding it again
        bulk_id = os.urandom(16).hex()
        with self.store.transaction():
            self.store.add_bulk(bulk_id, client.client_id, kind, request, self.engine.clock.now())
        self.start_bulk(bulk_id, Posted(client.client_id, kind, head, items, encoded=True))
        uri = f"/{'product' if kind == 'bulk' else 'recovery'}/packs/{bulk_id}"
        await respond(send, 202, {"bulkId": bulk_id, "resultsUri": uri})

    def start_bulk(self, bulk_id: str, posted: Posted | None = None) -> None:
        """Process the stored bulk ``bulk_id``: ``posted`` when it was just received, None after a restart."""
        task = asyncio.get_running_loop().create_task(self.run_bulk(bulk_id, posted))
        self.bulk_tasks.add(task)
        task.add_done_callback(self.bulk_tasks.discard)

    async def run_bulk(self, bulk_id: str, posted: Posted | None = None) -> None:
        """Process a bulk or recovery upload in list order, yielding to other requests every ``BULK_SLICE``
        seconds of work (a fixed count of 200 items held the event loop for 80 ms on a loaded machine).

        Each item is decoded, and its result encoded, inside the slices: the whole list decoded or encoded
        at once held the loop for 0.3-0.5 s at 20,000 items. The results are stored as one JSON text.
        """
        while self.faults.settings["holdBulk"]:
            await asyncio.sleep(0.01)
        if posted is None:  # after a restart: the stored request, decoded once at start-up
            job = self.store.bulk(bulk_id)
            if job is None:
                return
            posted = Posted(job[0], job[1], job[3], job[3]["items"], encoded=False)
        client = self.engine.clients.get(posted.client_id)
        language = posted.head.get("language", "fr")
        state = posted.head.get("requestedState")
        results = []
        slice_end = time.perf_counter() + BULK_SLICE
        for item in posted.items:
            if time.perf_counter() > slice_end:
                await asyncio.sleep(0)
                slice_end = time.perf_counter() + BULK_SLICE
            if posted.encoded:
                item = json.loads(item)
            results.append(compact(self.bulk_item(client, posted.kind, state, item, bulk_id, language)))
        with self.store.transaction():
            self.store.finish_bulk(bulk_id, "[" + ",".join(results) + "]")

    def bulk_item(self, client: Client | None, kind: str, state: str | None, item: Any, bulk_id: str,
                  language: str) -> dict[str, Any]:
        now = self.engine.clock.now()
        fields = ("scheme", "productCode", "serial", "batch", "expiry", "clientTrxId")
        if client is None or not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            body = problem_body("NMVS_TE_JS_02", f"each item needs string fields {', '.join(fields)}.", language)
            return {**body, "state": None, "reasons": [], "alertId": None, "alertCode": None, "isIntermarket": False,
                    "productName": None, "batchState": None, "nmvsTrxId": os.urandom(16).hex(),
                    "clientTrxId": item.get("clientTrxId") if isinstance(item, dict) else None,
                    "timestamp": iso(now)}
        req = PackRequest(client, item["scheme"], item["productCode"], item["serial"], item["batch"], item["expiry"],
                          requested_state=item.get("requestedState") if kind == "recovery" else state,
                          client_trx_id=item["clientTrxId"], ref_client_trx_id=item.get("refClientTrxId"),
                          bulk_id=bulk_id, recorded_at=item.get("recordedAt"))
        if req.requested_state is None:
            req.requested_state = "?"
        return self.engine.execute(req).as_json(language)

    async def get_bulk(self, send: Send, headers: dict[bytes, bytes], language: str, bulk_id: str) -> None:
        """``GET <resultsUri>`` (G188/G196): 202 ``NMVS_FE_TX_02`` until done, then every item's answer."""
        self.service_faults()
        client = self.authenticate(headers)
        await self.bulk_latency()
        job = self.store.bulk_results(bulk_id)
        if job is None or job[0] != client.client_id:
            raise HTTPProblem(404, "NMVS_TE_JS_01", f"no bulk request {bulk_id!r} of this client.")
        if job[1] != "done" or job[2] is None:
            return await respond(send, 202, problem_body("NMVS_FE_TX_02", "", language))
        # the stored results' JSON text as it is: decoding and encoding 20,000 results would hold the loop
        await respond_json(send, 200, b'{"operationCode":"NMVS_SUCCESS","items":' + job[2].encode() + b"}")

    # -- administration (section 7.4) -----------------------------------------------------------
    def check_admin(self, scope: Scope, headers: dict[bytes, bytes]) -> None:
        if self.admin_token is not None:
            given = headers.get(b"x-admin-token", b"")
            if not secrets.compare_digest(given, self.admin_token.encode()):
                raise HTTPProblem(401, "NMVS_FE_AU_01", "administration needs the X-Admin-Token header.")
            return
        host = (scope.get("client") or ("",))[0]
        if host not in LOOPBACK:
            raise HTTPProblem(403, "NMVS_FE_BR_01", "administration is served to loopback clients only.")

    async def admin(self, method: str, parts: list[str], scope: Scope, receive: Receive, send: Send,
                    headers: dict[bytes, bytes]) -> None:
        store, engine = self.store, self.engine
        route = (method, *parts)
        if route == ("GET", "alerts"):
            alerts = store.alerts()
            for alert in alerts:
                alert["time"] = iso(alert.pop("at"))
            return await respond(send, 200, {"alerts": alerts})
        if route == ("GET", "faults"):
            return await respond(send, 200, self.faults.settings)
        if route == ("PUT", "faults"):
            data = json_object(await read_body(receive, headers, SMALL_BODY), headers)
            try:
                settings = self.faults.update(data)
            except ValueError as exc:
                raise HTTPProblem(400, "NMVS_TE_JS_02", str(exc)) from exc
            return await respond(send, 200, settings)
        if route == ("GET", "clock"):
            return await respond(send, 200, self.clock_body())
        if route == ("POST", "clock"):
            data = json_object(await read_body(receive, headers, SMALL_BODY), headers)
            self.set_clock(data)
            return await respond(send, 200, self.clock_body())
        if route == ("POST", "seed"):
            data = json_object(await read_body(receive, headers, SMALL_BODY), headers)
            packs, seed, market = data.get("packs", 100), data.get("seed", 0), data.get("market", engine.options.market)
            if not (isinstance(packs, int) and not isinstance(packs, bool) and 0 <= packs <= 1_000_000
                    and isinstance(seed, int) and not isinstance(seed, bool) and market in seeding.MARKETS):
                raise HTTPProblem(400, "NMVS_TE_JS_02", "seed takes packs (0..1000000), seed (integer), market (FR|DE).")
            records = seeding.generate(packs, seed, market, self.sim_today())
            seeding.load(store, records)
            return await respond(send, 200, {"packs": records})
        if route == ("GET", "packs"):
            return await respond(send, 200, {"packs": self.all_packs()})
        if route == ("POST", "packs"):
            data = json_object(await read_body(receive, headers, LARGE_BODY), headers)
            records = self.upload_records(data)
            seeding.load(store, records)
            return await respond(send, 200, {"loaded": len(records)})
        if method == "POST" and len(parts) == 5 and parts[0] == "batches" and parts[4] in ("recall", "withdraw"):
            with store.transaction():
                found = store.flag_batch(parts[1], parts[2], parts[3], parts[4])
            if not found:
                raise HTTPProblem(404, "NMVS_FE_LOT_03", f"no batch {parts[3]!r} of {parts[1]} {parts[2]}.")
            return await respond(send, 200, {"operationCode": "NMVS_SUCCESS"})
        if method == "POST" and len(parts) == 4 and parts[0] == "products" and parts[3] == "withdraw":
            with store.transaction():
                found = store.withdraw_product(parts[1], parts[2])
            if not found:
                raise HTTPProblem(404, "NMVS_NC_PC_01", f"no product {parts[1]} {parts[2]}.")
            return await respond(send, 200, {"operationCode": "NMVS_SUCCESS"})
        if method == "GET" and len(parts) == 4 and parts[0] == "packs":
            return await respond(send, 200, self.pack_history(parts[1], parts[2], parts[3]))
        raise HTTPProblem(404, "NMVS_TE_JS_01", f"unknown administration path {scope['path']!r}.")

    def sim_today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.engine.clock.now(), dt.UTC).date()

    def clock_body(self) -> dict[str, Any]:
        clock = self.engine.clock
        return {"now": iso(clock.now()), "frozen": clock.frozen is not None}

    def set_clock(self, data: dict[str, Any]) -> None:
        days, now, frozen = data.get("advanceDays"), data.get("now"), data.get("frozen")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int | float) or abs(days) > 36500):
            raise HTTPProblem(400, "NMVS_TE_JS_02", "advanceDays must be a number of days.")
        if frozen is not None and not isinstance(frozen, bool):
            raise HTTPProblem(400, "NMVS_TE_JS_02", "frozen must be true or false.")
        when = None
        if now is not None:
            try:
                when = parse_iso(now)
            except (TypeError, ValueError, AttributeError) as exc:
                raise HTTPProblem(400, "NMVS_TE_JS_02", f"now must be ISO-8601, not {now!r}.") from exc
        if days is None and now is None and frozen is None:
            raise HTTPProblem(400, "NMVS_TE_JS_02", "give advanceDays, now or frozen.")
        self.engine.clock.set(when, (days or 0) * 86400.0, frozen)

    def all_packs(self) -> list[dict[str, Any]]:
        out = []
        for market in seeding.MARKETS:
            for scheme, code, serial, batch, expiry, name, nhrn in self.store.packs_of_market(market):
                out.append({"market": market, "scheme": scheme, "productCode": code, "serial": serial,
                            "batch": batch, "expiry": expiry, "productName": name, "nhrn": nhrn,
                            "raw": seeding.raw_string(scheme, code, batch, expiry, serial)})
        return out

    def upload_records(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Check a ``POST /admin/packs`` body: ``{"packs": [records shaped like the seed JSON lines]}``."""
        records = data.get("packs")
        if not isinstance(records, list):
            raise HTTPProblem(400, "NMVS_TE_JS_02", "packs must be a list of records.")
        for record in records:
            problem = record_error(record) if isinstance(record, dict) else ("NMVS_TE_JS_02", "not an object.")
            if problem is None and record.get("market", self.engine.options.market) not in seeding.MARKETS:
                problem = ("NMVS_TE_JS_02", f"market must be one of {seeding.MARKETS}.")
            if problem is not None:
                raise HTTPProblem(400, problem[0], f"pack record {record!r}: {problem[1]}")
        return records

    def pack_history(self, scheme: str, product_code: str, serial: str) -> dict[str, Any]:
        key = (scheme, product_code, serial)
        pack = self.store.pack(*key)
        product = self.store.product(scheme, product_code)
        history = self.store.history(key)
        for entry in history:
            entry["time"] = iso(entry.pop("at"))
            entry["intermarket"] = bool(entry["intermarket"])
        if pack is None or product is None:
            return {"scheme": scheme, "productCode": product_code, "serial": serial, "state": "NotFound",
                    "reasons": [], "history": history}
        batch, reason, reason_client, _, reason_trx, reason_at, expiry, _, _ = pack
        reasons = ([reason] if reason else []) + overlays_of(product, pack, self.engine.clock.now())
        return {"scheme": scheme, "productCode": product_code, "serial": serial, "batch": batch, "expiry": expiry,
                "market": product[0],
                "state": state_of(reasons), "reasons": reasons,
                "reasonClient": reason_client, "reasonClientTrxId": reason_trx,
                "reasonTime": None if reason_at is None else iso(reason_at), "history": history}

