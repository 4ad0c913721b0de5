"""The REST/JSON client of the verification service (VERIFICATION-SERVICE.md section 7).

``HTTPVerificationClient`` implements the ``VerificationClient`` port over one keep-alive
``requests`` session (``transport.HTTPTransport``):

- OAuth2 client credentials (section 7.1): ``POST /identity/connect/token``; the token is cached and
  renewed before ``expires_in`` runs out (a tenth of its life, at most 60 s, early); a 401 on a cached
  token means the request was not executed, so the client fetches a new token and resends once.
- Every call carries ``emvs-data-entry-mode`` (``PackRef.entry_mode``; section 7.1); a change carries
  ``X-Client-Trx-Id`` (section 7.2).
- Every answer becomes a ``ServiceAnswer``; nothing raises for a network problem or a refusal.

Wire-level rules the spec leaves open, decided here:

- A token request that cannot be completed (network, 5xx, a body without ``access_token``) means the
  operation itself was never sent: ``NOT_SENT`` with ``transport_error="token_unavailable"``, or the
  token request's own transport error. A token refused with 400/401 is passed on as an HTTP 401 answer
  (``detail`` starts with "token refused") so the queue pauses for the login (OFFLINE-QUEUE.md s. 4.3);
  429/503 on the token request is passed on with its ``Retry-After``.
- A complete body that is not a JSON object: for a status that means "not processed" (3xx, 400, 401,
  403, 404, 405, 406, 413, 415, 422, 429, 503; e.g. a proxy's HTML page) the answer is ``ANSWERED``
  with that status and ``transport_error="bad_body"``, so a 404 still pauses the queue as an
  interface mismatch; for any other status (200, 202, 409, 500, ...) it is ``NO_ANSWER`` /
  ``bad_body``: the outcome is unknown.
- Per-item answers of a recovery upload carry the status a single-pack change with that code gets
  (``codes.equivalent_status``), so that the outbox classifies them like single-pack answers; their
  ``detail`` says "bulk item".
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, PackRef, ServiceAnswer
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.codes import equivalent_status
from fmd_terminal.verification.transport import (
    NOT_PROCESSED_STATUSES,
    HTTPTransport,
    Received,
    Timeouts,
)

log = logging.getLogger(__name__)

# Body field (section 7.2) -> ServiceAnswer attribute.
_BODY_FIELDS = {
    "operationCode": "operation_code",
    "description": "description",
    "state": "state",
    "reasons": "reasons",
    "alertId": "alert_id",
    "alertCode": "alert_code",
    "isIntermarket": "is_intermarket",
    "productName": "product_name",
    "batchState": "batch_state",
    "nmvsTrxId": "nmvs_trx_id",
    "clientTrxId": "client_trx_id",
    "timestamp": "timestamp",
    "notifications": "notifications",
}

# Accept-Language per ISO 639-3 code of the terminal's language setting.
_LANGUAGES = {"fra": "fr", "eng": "en", "deu": "de"}

_NON_MANUAL = "non-manual"


def answer_from_fields(body: Mapping[str, Any], **extra: Any) -> ServiceAnswer:
    """A ``ServiceAnswer`` from one single-pack response body (section 7.2); unknown keys ignored."""
    fields: dict[str, Any] = {attr: body[key] for key, attr in _BODY_FIELDS.items() if body.get(key) is not None}
    if not isinstance(fields.get("reasons", ()), list | tuple):
        fields["reasons"] = (fields["reasons"],)
    notes = fields.get("notifications", ())
    fields["notifications"] = tuple(notes) if isinstance(notes, list | tuple) else (notes,)
    fields["is_intermarket"] = bool(fields.get("is_intermarket", False))
    fields.update(extra)
    return ServiceAnswer(**fields)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def answer_from_received(got: Received | ServiceAnswer) -> tuple[ServiceAnswer, dict[str, Any] | None]:
    """The answer for one exchange, and its JSON body when it had one."""
    if isinstance(got, ServiceAnswer):
        return got, None
    body = _json_object(got.body)
    if body is None:
        transport = ANSWERED if got.status in NOT_PROCESSED_STATUSES else NO_ANSWER
        snippet = got.body[:120].decode("utf-8", "replace")
        return ServiceAnswer(transport=transport, transport_error="bad_body", http_status=got.status,
                             retry_after_s=got.retry_after_s, detail=f"body is not a JSON object: {snippet!r}"), None
    return answer_from_fields(body, http_status=got.status, retry_after_s=got.retry_after_s), body


class HTTPVerificationClient:
    """REST client of a national verification system (the "NBS" family; section 7)."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        client_cert: str | None = None,
        client_key: str | None = None,
        client_key_pin: str | None = None,
        ca_bundle: str | None = None,
        timeouts: Timeouts | Mapping[str, float] | None = None,
        language: str = "fra",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError.text("service_url", url=repr(base_url), expected="https://host[:port][/path]")
        if language not in _LANGUAGES:
            raise ConfigError(f"language {language!r}: expected one of {sorted(_LANGUAGES)}")
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._language = _LANGUAGES[language]
        self._clock = clock
        self._transport = HTTPTransport(ca_bundle=ca_bundle, client_cert=client_cert, client_key=client_key,
                                        client_key_pin=client_key_pin,
                                        timeouts=timeouts, clock=clock, wall_clock=wall_clock)
        self._token: str | None = None
        self._token_renew_at = 0.0
        self._token_notes: tuple[Any, ...] = ()
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HTTPVerificationClient({self.base_url!r}, client_id={self._client_id!r})"

    # -- the port ------------------------------------------------------------------------------

    def verify(self, pack: PackRef) -> ServiceAnswer:
        """G110: ``GET /product/{scheme}/{productCode}/pack/{serial}?batch=&expiry=[&nhrn=]`` (s. 7.2)."""
        query = {"batch": pack.batch, "expiry": pack.expiry}
        if pack.nhrn:
            query["nhrn"] = pack.nhrn
        path = _pack_path(pack) + "?" + urlencode(query)
        return self._call("GET", path, entry_mode=pack.entry_mode)[0]

    def change_state(self, pack: PackRef, state: str, client_trx_id: str,
                     ref_client_trx_id: str | None = None) -> ServiceAnswer:
        """G120/G121/G130/...: ``PATCH`` the pack with ``X-Client-Trx-Id`` (s. 7.2); "Active" = undo."""
        body: dict[str, Any] = {"batch": pack.batch, "expiry": pack.expiry, "state": state}
        if pack.nhrn:
            body["nhrn"] = pack.nhrn
        if ref_client_trx_id is not None:
            body["refClientTrxId"] = ref_client_trx_id
        return self._call("PATCH", _pack_path(pack), entry_mode=pack.entry_mode, body=body,
                          extra_headers={"X-Client-Trx-Id": client_trx_id})[0]

    def submit_recovery(self, items: list[RecoveryItem]) -> tuple[ServiceAnswer, str | None]:
        """G195: ``POST /recovery/packs`` with each item's own requested state (s. 7.3)."""
        payload = {"items": [_recovery_item(item) for item in items]}
        answer, body = self._call("POST", "/recovery/packs", entry_mode=_NON_MANUAL, body=payload)
        uri = body.get("resultsUri") if body is not None and answer.http_status == 202 else None
        return answer, uri if isinstance(uri, str) and uri else None

    def fetch_results(self, results_uri: str) -> tuple[ServiceAnswer, list[ServiceAnswer] | None]:
        """G196: ``GET <resultsUri>``: 202 ``FE_TX_02`` while processing, 200 with the items (s. 7.3).

        The URI must be a path of this service (or an absolute URL with the same origin): the bearer
        token is never sent anywhere else.
        """
        path = self._same_origin_path(results_uri)
        if path is None:
            return ServiceAnswer(transport=NOT_SENT, transport_error="bad_body",
                                 detail=f"results URI {results_uri!r} is not on {self.base_url!r}"), None
        answer, body = self._call("GET", path, entry_mode=_NON_MANUAL)
        if answer.http_status != 200 or body is None:
            return answer, None
        items = body.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="bad_body", http_status=200,
                                 detail="results body has no list of item objects"), None
        return answer, [answer_from_fields(item, detail="bulk item",
                                           http_status=equivalent_status(item.get("operationCode"), True))
                        for item in items]

    def ping(self) -> ServiceAnswer:
        """``GET /ping`` (s. 7.3): a read-only probe, token included, for the breaker's half-open state.

        ``200 {"status": "ok"}`` carries no return code; it is reported as ``NMVS_SUCCESS`` so that the
        outbox classifies it as a success, as it does the SOAP ping's explicit return code.
        """
        answer, body = self._call("GET", "/ping", entry_mode=_NON_MANUAL)
        if answer.http_status == 200 and body is not None and body.get("status") == "ok" and not answer.operation_code:
            return ServiceAnswer(**dict(answer.as_dict(), operation_code="NMVS_SUCCESS", detail="ping: ok"))
        return answer

    def account(self, method: str, path: str, body: Any = None) -> tuple[ServiceAnswer, dict[str, Any] | None]:
        """A call of the account upkeep twin (``/account/...``: password, certificate, terms; issue 14)."""
        return self._call(method, path, entry_mode=_NON_MANUAL, body=body)

    def close(self) -> None:
        self._transport.close()

    # -- requests --------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, entry_mode: str, body: Any = None,
              extra_headers: Mapping[str, str] | None = None) -> tuple[ServiceAnswer, dict[str, Any] | None]:
        """Send with a token; on a 401 to a cached token, renew it and resend once (s. 7.1)."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers = {"Accept": "application/json", "Accept-Language": self._language,
                   "emvs-data-entry-mode": entry_mode}
        if data is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers or {})
        token_notes: tuple[Any, ...] = ()
        for attempt in (1, 2):
            token, fresh = self._current_token()
            if isinstance(token, ServiceAnswer):
                return token, None
            if fresh:
                token_notes = self._token_notes
            headers["Authorization"] = "Bearer " + token
            got = self._transport.send(method, self.base_url + path, headers=headers, body=data)
            if isinstance(got, Received) and got.status == 401 and not fresh and attempt == 1:
                log.info("%s: 401 on a cached token; renewing it and resending once", method)
                self._forget_token(token)
                continue
            break
        answer, parsed = answer_from_received(got)
        if token_notes and not answer.notifications:
            # "password about to expire" may come with the token only: keep it visible.
            answer = ServiceAnswer(**dict(answer.as_dict(), notifications=token_notes))
        return answer, parsed

    def _current_token(self) -> tuple[str | ServiceAnswer, bool]:
        """The cached token (fresh=False) or a new one (fresh=True), or the answer that says why not."""
        with self._token_lock:
            if self._token is not None and self._clock() < self._token_renew_at:
                return self._token, False
            self._token = None
            got = self._transport.send(
                "POST",
                self.base_url + "/identity/connect/token",
                headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
                body=urlencode({"grant_type": "client_credentials", "client_id": self._client_id,
                                "client_secret": self._client_secret}).encode("ascii"),
            )
            requested_at = self._clock()
            if not isinstance(got, Received) or got.status != 200:
                return _token_refusal(got), True
            body = _json_object(got.body) or {}
            token, lifetime = body.get("access_token"), body.get("expires_in", 300)
            if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
                return ServiceAnswer(transport=NOT_SENT, transport_error="token_unavailable",
                                     detail="token answer without access_token or expires_in"), True
            self._token = token
            notes = body.get("notifications") or ()
            self._token_notes = tuple(notes) if isinstance(notes, list) else (notes,)
            self._token_renew_at = requested_at + lifetime - min(60.0, lifetime / 10.0)
            log.debug("new access token, valid %s s", lifetime)
            return token, True

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    def _same_origin_path(self, uri: str) -> str | None:
        parts, base = urlsplit(uri), urlsplit(self.base_url)
        if parts.scheme or parts.netloc:
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                return None
        elif not uri.startswith("/"):
            return None
        path = parts.path + ("?" + parts.query if parts.query else "")
        if base.path and path.startswith(base.path + "/"):
            path = path[len(base.path):]
        return path


def _token_refusal(got: Received | ServiceAnswer) -> ServiceAnswer:
    """Why a token request other than an HTTP 200 gave no token; see the module docstring."""
    if isinstance(got, ServiceAnswer):
        fields = got.as_dict()
        fields.update(transport=NOT_SENT, http_status=None, detail="token request: " + (got.detail or ""))
        return ServiceAnswer(**fields)
    body = _json_object(got.body) or {}
    if got.status in (400, 401):
        reason = body.get("error") or body.get("operationCode") or "no reason given"
        return answer_from_fields(body, http_status=401, detail=f"token refused: {reason}")
    if got.status in (429, 503):
        return answer_from_fields(body, http_status=got.status, retry_after_s=got.retry_after_s,
                                  detail="token request")
    return ServiceAnswer(transport=NOT_SENT, transport_error="token_unavailable",
                         detail=f"token request answered HTTP {got.status}")


def _pack_path(pack: PackRef) -> str:
    scheme, product_code, serial = (quote(part, safe="") for part in (pack.scheme, pack.product_code, pack.serial))
    return f"/product/{scheme}/{product_code}/pack/{serial}"


def _recovery_item(item: RecoveryItem) -> dict[str, Any]:
    pack = item.pack
    fields: dict[str, Any] = {"scheme": pack.scheme, "productCode": pack.product_code, "serial": pack.serial,
                              "batch": pack.batch, "expiry": pack.expiry, "requestedState": item.requested_state,
                              "clientTrxId": item.client_trx_id, "recordedAt": item.recorded_at}
    if pack.nhrn:
        fields["nhrn"] = pack.nhrn
    if item.ref_client_trx_id is not None:
        fields["refClientTrxId"] = item.ref_client_trx_id
    return fields
