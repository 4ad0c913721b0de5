"""The connector route (issue 14): a stand-in for the Ordre's connector in front of the simulator.

What is public: the Conseil national de l'Ordre des pharmaciens runs (through Docaposte) a connector
to France MVS that authenticates pharmacists with the certificates of their **CPS cards** and
"guarantees a pseudonymised connection" for the recording of connections; one subscription per
pharmacy, keyed on its FINESS géographique number. Everything else here is ASSUMED, for the simulator:

- the connector is an HTTPS relay (``Connector``) requiring a client certificate of the test
  "health-professional card" CA (``cps_ca``). As on a CPS card, the subject holds the holder's name
  (commonName) and RPPS number (serialNumber); the structure's FINESS number is in
  organizationalUnitName;
- the FINESS maps the card to the pharmacy's account subscribed on the ``connector`` route
  (``Enrolment.connector_account``); the relay logs in to the service with that account (the
  terminal's own login fields are ignored: it may send placeholders) and forwards the request;
- its connection log keeps, per request: time, a **keyed pseudonym** of the holder
  (HMAC-SHA-256 of the RPPS number under the connector's secret key: RPPS numbers are few enough to
  be enumerated, so an unkeyed hash would not hide them), the FINESS, method, path and status;
  never the name or the RPPS number.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

log = logging.getLogger(__name__)

_FORWARDED = ("content-type", "accept", "accept-language", "emvs-data-entry-mode", "x-client-trx-id")


def pseudonym(key: bytes, rpps: str) -> str:
    """The holder's keyed pseudonym: HMAC-SHA-256 of the RPPS number, 16 bytes in hex."""
    return hmac.new(key, b"RPPS:" + rpps.encode("ascii", "replace"), hashlib.sha256).hexdigest()[:32]


def _subject(cert: dict[str, Any]) -> dict[str, str]:
    """The subject of ``SSLSocket.getpeercert()`` as a flat dict (last value of each attribute)."""
    return {name: value for rdn in cert.get("subject", ()) for name, value in rdn}


class Connector:
    """The relay (see the module docstring). ``account(finess)`` -> (client_id, secret) or None."""

    def __init__(self, *, upstream: str, account: Callable[[str], tuple[str, str] | None], cps_ca: str,
                 tls_cert: str, tls_key: str, upstream_context: ssl.SSLContext | None = None,
                 key: bytes | None = None, log_file: str | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.log_file = log_file  # the connection log as JSON lines too (``fmd-simulator serve --connector-log``)
        self.account = account
        self.key = key or secrets.token_bytes(32)
        self.upstream_context = upstream_context
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        context.load_verify_locations(cps_ca)
        context.verify_mode = ssl.CERT_REQUIRED
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # the terminal holds TLS 1.2 (client-cert refusals)
        self.context = context
        self.server: ThreadingHTTPServer | None = None
        self.port = 0  # the port it listens on, once started

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.log.append(entry)
            if self.log_file:
                with open(self.log_file, "a", encoding="utf-8") as out:
                    out.write(json.dumps(entry) + "\n")

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        connector = self

        class Handler(_RelayHandler):
            owner = connector

        server = ThreadingHTTPServer((host, port), Handler)
        server.socket = self.context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="fmd-connector").start()
        return int(server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        parts = self.upstream
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port or 443, timeout=30, context=self.upstream_context)
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
        try:
            connection.request(method, parts.path.rstrip("/") + path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def start_connector(args: Any, scheme: str, port: int) -> Connector | None:
    """The connector ``fmd-simulator serve --connector-port`` starts in front of the simulator itself
    (upstream: the simulator on loopback), or None when no port was asked for. The connector needs TLS
    with client certificates: ``--cps-ca`` and a server certificate (``--connector-cert``/``--connector-key``,
    else the simulator's own ``--tls-cert``/``--tls-key``)."""
    from fmd_simulator.errors import ConfigurationError

    if args.connector_port is None:
        return None
    cert, key = args.connector_cert or args.tls_cert, args.connector_key or args.tls_key
    if not (args.cps_ca and cert and key):
        raise ConfigurationError("--connector-port needs --cps-ca and a TLS certificate and key "
                                 "(--connector-cert/--connector-key or --tls-cert/--tls-key)")
    upstream_context = None
    if scheme == "https":
        upstream_context = ssl.create_default_context(cafile=args.connector_upstream_ca)
        if args.connector_client_cert:  # the connector's own certificate when the service asks for one
            upstream_context.load_cert_chain(args.connector_client_cert, args.connector_client_key)
    try:
        connector = Connector(upstream=f"{scheme}://127.0.0.1:{port}", account=args.account, cps_ca=args.cps_ca,
                              tls_cert=cert, tls_key=key, upstream_context=upstream_context,
                              log_file=args.connector_log)
        connector.port = connector.start(args.connector_host, args.connector_port)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(f"connector: {error}") from error
    return connector


class _RelayHandler(BaseHTTPRequestHandler):
    owner: Connector
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the connection log is ``owner.log``
        return

    def _relay(self) -> None:
        owner = self.owner
        subject = _subject(self.connection.getpeercert() or {})  # type: ignore[attr-defined]
        rpps, finess = subject.get("serialNumber", ""), subject.get("organizationalUnitName", "")
        entry = {"time": time.time(), "holder": pseudonym(owner.key, rpps) if rpps else None, "finess": finess,
                 "method": self.command, "path": urlsplit(self.path).path.split("/pack/")[0]}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        credentials = owner.account(finess) if rpps else None
        if credentials is None:
            status, headers, data = 403, [("Content-Type", "application/json")], json.dumps(
                {"operationCode": "NMVS_FE_AU_01", "description": "card not linked to a connector subscription"}).encode()
        else:
            forwarded = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED or k.lower() == "authorization"}
            if urlsplit(self.path).path.endswith("/identity/connect/token"):
                form = {k: v[0] for k, v in parse_qs(body.decode("ascii", "replace")).items()}
                form.update(client_id=credentials[0], client_secret=credentials[1])
                body = urlencode(form).encode()
            status, headers, data = owner.forward(self.command, self.path, forwarded, body)
        entry["status"] = status
        owner.record(entry)
        self.send_response(status)
        for name, value in headers:
            if name.lower() in ("content-type", "retry-after", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _relay
