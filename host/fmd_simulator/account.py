"""Account upkeep on the direct route (issue 14, item 5): password age, certificate renewal, terms.

Public (BeMVO's notes for software suppliers on the same Arvato system): with a direct connection the
client manages its certificate (renewed every 2 years), a password renewed every 90 days (the
blueprint's password change, G445), and accepts new terms and conditions when they change. The REST
twin below is the project's (ASSUMED: paths and fields), under the same bearer token as the service:

| Path | What |
|---|---|
| ``GET /account/status`` | ``passwordChangedAt``, ``passwordExpiresAt`` (90 days), ``terms`` {version, accepted, deadline} |
| ``POST /account/password`` ``{"newPassword"}`` | G445's twin: the secret changes at once; the old one stops working |
| ``POST /account/terms`` ``{"version"}`` | accept the current terms |
| ``POST /account/certificate`` ``{"csr"}`` | a new certificate (2 years) for a new key; the request comes over the mutual TLS the current certificate opens |
| ``POST /admin/terms`` ``{"version", "deadline"}`` | (admin) publish new terms to accept by ``deadline`` (ISO-8601) |
| ``POST /soap/AccountServices`` ``G445Request`` | the SOAP password change: login header, ``Body/NewPassword`` |

GUESSED for G445 (no public WSDL; the simulator publishes its own in ``soap/wsdl``, and validates the request
against that XSD as for every operation): the endpoint name, ``NewPassword``, and that a refused new
password is a normal response with ``NMVS_FE_AU_12`` while a wrong login is a Fault (as the facade does).

Times are the simulator clock's, so renewals are tested on a frozen or moved clock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from typing import Any

from fmd_simulator.engine import iso
from fmd_simulator.enrolment import Enrolment, EnrolmentRefused, parse_csr
from fmd_simulator.rest import SMALL_BODY, Dropped, HTTPProblem, read_body, respond
from fmd_simulator.soap import messages

PASSWORD_DAYS = 90
MIN_PASSWORD = 16
DAY = 86400.0


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


class Accounts:
    """Password dates, terms and certificate renewal over the engine's clients and the enrolment CA."""

    def __init__(self, app: Any, enrolment: Enrolment) -> None:
        self.app = app
        self.enrolment = enrolment
        self.changed: dict[str, float] = {}  # client id -> password set at (simulator clock)
        self.terms: tuple[str, float | None] = ("2019-02", None)  # current version, deadline
        self.accepted: dict[str, str] = {}
        self.lock = threading.Lock()
        self.store = enrolment.store  # written through: a restart keeps the dates, secrets and terms
        terms = self.store.get_meta("terms")
        if terms is not None:
            self.terms = (terms[0], terms[1])
        for client_id, secret, changed_at, accepted in self.store.accounts():
            client = app.engine.clients.get(client_id)
            if secret is not None and client is not None:
                client.secret = secret
            if changed_at is not None:
                self.changed[client_id] = changed_at
            if accepted is not None:
                self.accepted[client_id] = accepted

    def now(self) -> float:
        return self.enrolment.now()

    def changed_at(self, client_id: str) -> float:
        with self.lock:
            if client_id not in self.changed:
                self.changed[client_id] = self.now()
                with self.store.transaction():
                    self.store.save_account(client_id, password_changed_at=self.changed[client_id])
            return self.changed[client_id]

    def status(self, client: Any) -> dict[str, Any]:
        changed = self.changed_at(client.client_id)
        version, deadline = self.terms
        return {"passwordChangedAt": _iso(changed), "passwordExpiresAt": _iso(changed + PASSWORD_DAYS * DAY),
                "terms": {"version": version, "accepted": self.accepted.get(client.client_id) == version
                          or deadline is None, "deadline": _iso(deadline)}}

    def change_password(self, client: Any, new: Any) -> dict[str, Any]:
        if not isinstance(new, str) or len(new) < MIN_PASSWORD or new == client.secret:
            raise EnrolmentRefused(400, "NMVS_FE_AU_12", f"the new password needs {MIN_PASSWORD} characters or more "
                                                         "and must differ from the current one")
        client.secret = new
        with self.lock:
            self.changed[client.client_id] = self.now()
            with self.store.transaction():
                self.store.save_account(client.client_id, secret=new, password_changed_at=self.changed[client.client_id])
        return self.status(client)

    def accept_terms(self, client: Any, version: Any) -> dict[str, Any]:
        if version != self.terms[0]:
            raise EnrolmentRefused(409, "NMVS_FE_AU_24", f"the current terms are version {self.terms[0]!r}")
        self.accepted[client.client_id] = version
        with self.store.transaction():
            self.store.save_account(client.client_id, terms_accepted=version)
        return self.status(client)

    def renew_certificate(self, client: Any, csr_pem: Any) -> dict[str, Any]:
        if not isinstance(csr_pem, str):
            raise EnrolmentRefused(400, "ENROL_BAD_CSR", "csr (PEM) is required")
        subscription = next((s for s in self.enrolment.subscriptions.values() if s.client is client), None)
        if subscription is None:
            raise EnrolmentRefused(404, "NMVS_FE_AU_01", "this account was not enrolled here")
        answer = self.enrolment.credentials(subscription, parse_csr(csr_pem))
        return {"certificate": answer["certificate"], "caCertificate": answer["caCertificate"]}

    def publish_terms(self, data: dict[str, Any]) -> dict[str, Any]:
        deadline = dt.datetime.fromisoformat(str(data["deadline"]).replace("Z", "+00:00")).timestamp()
        self.terms = (str(data["version"]), deadline)
        with self.store.transaction():
            self.store.set_meta("terms", list(self.terms))
        return {"version": self.terms[0], "deadline": _iso(deadline)}


def with_accounts(inner: Any, app: Any, accounts: Accounts) -> Any:
    """Serve ``/account/*`` and ``POST /admin/terms`` from ``accounts``; the rest from ``inner``."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/soap/AccountServices":
            await g445(scope, receive, send, app, accounts, getattr(getattr(inner, "facade", None), "mutual_tls", False))
            return
        admin_terms = path == "/admin/terms"
        if not (path.startswith("/account/") or admin_terms):
            await inner(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            if scope["method"] not in ("GET", "POST"):
                raise HTTPProblem(405, "NMVS_TE_JS_01", "method not allowed here.")
            data: dict[str, Any] = {}
            if scope["method"] == "POST":
                try:
                    parsed = json.loads(await read_body(receive, headers, SMALL_BODY) or b"{}")
                except ValueError as exc:
                    raise HTTPProblem(400, "NMVS_TE_JS_01", "invalid JSON.") from exc
                data = parsed if isinstance(parsed, dict) else {}
            if admin_terms:
                app.check_admin(scope, headers)
                return await respond(send, 200, accounts.publish_terms(data))
            client = app.authenticate(headers)
            route = (scope["method"], path)
            if route == ("GET", "/account/status"):
                return await respond(send, 200, accounts.status(client))
            if route == ("POST", "/account/password"):
                return await respond(send, 200, accounts.change_password(client, data.get("newPassword")))
            if route == ("POST", "/account/terms"):
                return await respond(send, 200, accounts.accept_terms(client, data.get("version")))
            if route == ("POST", "/account/certificate"):
                return await respond(send, 200, accounts.renew_certificate(client, data.get("csr")))
            raise HTTPProblem(404, "NMVS_TE_JS_01", f"unknown path {path!r}.")
        except EnrolmentRefused as refused:
            await respond(send, refused.status, {"operationCode": refused.code, "description": refused.detail})
        except HTTPProblem as problem:
            await respond(send, problem.status, {"operationCode": problem.code, "description": problem.detail},
                          problem.headers)
        except Dropped:
            return

    return asgi



async def _soap_send(send: Any, status: int, data: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/soap+xml; charset=utf-8"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


_G445_LIMITS = messages.Limits(max_tags=400)


async def g445(scope: dict[str, Any], receive: Any, send: Any, app: Any, accounts: Accounts, mutual_tls: bool) -> None:
    """``G445Request`` (password change) on the SOAP facade's terms: mutual TLS, login header, hardened XML."""
    language = "fr"
    try:
        if scope["method"] != "POST":
            raise HTTPProblem(404, "NMVS_TE_XM_01", "no SOAP endpoint here.")
        if not (mutual_tls and scope.get("scheme") == "https"):
            raise HTTPProblem(401, "NMVS_FE_PKI_05", "this interface requires mutual TLS.")
        body = await read_body(receive, dict(scope["headers"]), SMALL_BODY)
        request = messages.parse_request(body, _G445_LIMITS)  # hardened parse, then the published XSD
        if request.tag != messages.q("G445Request"):
            raise messages.MessageError("NMVS_TE_XM_02", "the Body must hold one G445Request.")
        header = messages.request_header(request)
        language = header["language"] or "fr"
        client = app.engine.clients.get(header["login"] or "")
        if client is None or not secrets.compare_digest(client.secret.encode(), (header["password"] or "").encode()):
            raise HTTPProblem(401, "NMVS_FE_AU_01", "unknown login id or wrong password.")
        try:
            accounts.change_password(client, messages.text_of(request, "Body", "NewPassword"))
            code = "NMVS_SUCCESS"
        except EnrolmentRefused as refused:
            code = refused.code
        reply = messages.response("G445Response", {
            "client_trx_id": header["client_trx_id"], "nmvs_trx_id": os.urandom(16).hex(),
            "timestamp": iso(accounts.now()), "language": language, "notifications": None},
            lambda element: messages.return_code(element, code, messages.description(code, language)))
        await _soap_send(send, 200, reply)
    except messages.MessageError as problem:
        await _soap_send(send, 400, messages.fault(400, problem.code, language, problem.detail))
    except HTTPProblem as problem:
        code = messages.SOAP_CODE_OF.get(problem.code, problem.code)
        await _soap_send(send, problem.status, messages.fault(problem.status, code, language, problem.detail))
    except Dropped:
        return
