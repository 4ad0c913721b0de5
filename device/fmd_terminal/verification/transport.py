"""One HTTPS exchange with the verification service, and what a failed one means.

Shared by the REST client (``rest.py``) and the SOAP client (``soap.py``): both send bytes over one
keep-alive ``requests.Session`` and must classify a failure the same way, because the outbox decides
from that class whether a request may have reached the service (OFFLINE-QUEUE.md section 4.1):

- ``NOT_SENT``: no request was processed: DNS failure, connection refused, connect timeout, a TLS
  handshake refused by either side (untrusted server, server certificate expired or not yet valid,
  client certificate rejected). With TLS 1.3 the server's refusal of a client certificate arrives
  after the request was written, but the server refuses it before reading any HTTP, so it still
  counts as not sent.
- ``NO_ANSWER``: the request may have been processed: read timeout, the total deadline passed,
  reset or close after sending, a truncated body.

HTTPS connections are held at TLS 1.2, with or without a client certificate: under TLS 1.3 the
server refuses a client certificate (or its absence) after the client's handshake has finished, and
the alert is usually lost in the reset that follows, so a refusal would look like a request dropped
after sending (``NO_ANSWER``) instead of ``tls_client_cert`` (which pauses the queue, OFFLINE-QUEUE.md
s. 4.3). Under TLS 1.2 the server asks for a certificate (CertificateRequest, RFC 5246 s. 7.4.4) and
refuses it inside the handshake, before any request byte. TLS 1.2 with ECDHE and AEAD ciphers remains
within ANSSI's and BSI TR-02102-2's recommendations.

A server that requires a certificate the terminal does not have often ends the handshake without an
alert (uvicorn, many load balancers), which alone is indistinguishable from a broken link. Each
handshake is therefore traced (``_HandshakeTrace``, CPython's ``SSLContext._msg_callback``): a
handshake that failed by an alert, an EOF or a reset *after* the server sent a CertificateRequest and
the terminal answered with an empty Certificate is ``tls_client_cert``. A failure before the
CertificateRequest (untrusted server, reset, protocol mismatch), a timeout, or any failure once a
certificate was sent keeps its own class; a server that asks for a certificate only optionally
completes the handshake and is served normally.

Timeouts follow OFFLINE-QUEUE.md section 6.1: 5 s to connect, 20 s per read, at most 30 s for the
whole exchange, and the HTTP library's own retries are off (retries belong to the durable queue).
TLS verification is always on; a CA bundle path may replace the system store.

The client key is a PEM file, or a key in a PKCS#11 token named by an RFC 7512 ``pkcs11:`` URI
(``pkcs11.py``): each connection's context then gets the certificate chain and the token's key, and
the handshake's signature is made by the token.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.util.ssl_
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fmd_core.service import NO_ANSWER, NOT_SENT, ServiceAnswer
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification.pkcs11 import TokenKey, is_pkcs11_uri, token_key

log = logging.getLogger(__name__)

# OpenSSL verify codes (x509_vfy.h) for a server certificate outside its validity period.
_X509_V_ERR_CERT_NOT_YET_VALID = 9
_X509_V_ERR_CERT_HAS_EXPIRED = 10

# TLS alerts a server sends when it refuses the client certificate (RFC 8446 section 6.2).
_CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_UNKNOWN",
    "UNSUPPORTED_CERTIFICATE",
    "UNKNOWN_CA",
    "ACCESS_DENIED",
)

# Statuses whose complete but unparseable body still tells the outcome: the request was not
# processed (a redirect, a client error the service refuses before doing anything, throttling or
# an outage page from a proxy). Any other status with such a body leaves the outcome unknown.
NOT_PROCESSED_STATUSES = frozenset(range(300, 400)) | {400, 401, 403, 404, 405, 406, 413, 415, 422, 429, 503}

_CHUNK = 64 * 1024


def certificate_validity(path: str) -> tuple[float, float] | None:
    """(notBefore, notAfter) of the first certificate of a PEM file, as POSIX seconds; None if unreadable.

    For the terminal's own warning well before its certificate's end date (VERIFICATION-SERVICE.md
    section 8): ``client_cert_validity`` below and ``fmd-terminal doctor``.
    """
    try:
        # CPython's decoder of a PEM certificate file (no third-party X.509 library on the device).
        decoded = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
        return ssl.cert_time_to_seconds(decoded["notBefore"]), ssl.cert_time_to_seconds(decoded["notAfter"])
    except (AttributeError, KeyError, OSError, ValueError, ssl.SSLError):
        return None


class Timeouts:
    """Connect, per-read and total limits of one exchange, in seconds (OFFLINE-QUEUE.md s. 6.1)."""

    __slots__ = ("connect", "read", "total")

    def __init__(self, connect: float = 5.0, read: float = 20.0, total: float = 30.0) -> None:
        for name, value in (("connect", connect), ("read", read), ("total", total)):
            if not value > 0:
                raise ConfigError.text("timeout_bad", name=name, value=repr(value))
        self.connect = float(connect)
        self.read = float(read)
        self.total = float(total)

    @classmethod
    def coerce(cls, value: Timeouts | Mapping[str, float] | None) -> Timeouts:
        """Accept a ``Timeouts``, a mapping with some of its three keys, or None (the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        unknown = set(value) - set(cls.__slots__)
        if unknown:
            raise ConfigError.text("timeout_keys", keys=", ".join(sorted(unknown)))
        return cls(**value)

    def __repr__(self) -> str:
        return f"Timeouts(connect={self.connect}, read={self.read}, total={self.total})"


class Received:
    """A complete HTTP answer: status, headers and the whole body."""

    __slots__ = ("status", "headers", "body", "retry_after_s")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, retry_after_s: float | None):
        self.status = status
        self.headers = headers
        self.body = body
        self.retry_after_s = retry_after_s


def retry_after_seconds(value: str | None, date_header: str | None, wall_clock: Callable[[], float]) -> float | None:
    """``Retry-After`` as seconds to wait (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date).

    An HTTP-date is measured against the answer's own ``Date`` header when it has one, so a terminal
    whose clock is wrong still waits the intended time; otherwise against ``wall_clock``.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        until = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    now = wall_clock()
    if date_header:
        try:
            now = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, until - now)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (cause, context, urllib3 ``reason``, exception args)."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend((current.__cause__, current.__context__, getattr(current, "reason", None)))
        stack.extend(current.args)


def classify_failure(exc: BaseException, *, body_started: bool = False) -> ServiceAnswer:
    """Turn a ``requests`` failure into a ``NOT_SENT`` or ``NO_ANSWER`` answer (see module docstring).

    A failure inside ``connect()`` (TCP or the TLS handshake; tagged by this module's connection
    classes) sent nothing. After it, only a TLS alert refusing the client certificate (TLS 1.3 sends
    it after the client's handshake is over) still means "not processed"; anything else may have
    reached the service. ``body_started`` says the status line had arrived.
    """
    chain = list(_causes(exc))
    detail = f"{type(exc).__name__}: {exc}"[:300]
    during_connect = any(getattr(e, "fmd_during_connect", False) for e in chain)

    def answer(transport: str, error: str) -> ServiceAnswer:
        return ServiceAnswer(transport=transport, transport_error=error, detail=detail)

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if not body_started:
        for e in chain:
            if isinstance(e, ssl.SSLCertVerificationError):
                code = getattr(e, "verify_code", None)
                if code == _X509_V_ERR_CERT_NOT_YET_VALID:
                    return answer(NOT_SENT, "tls_server_cert_not_yet_valid")
                if code == _X509_V_ERR_CERT_HAS_EXPIRED:
                    return answer(NOT_SENT, "tls_server_cert_expired")
                return answer(NOT_SENT, "tls_untrusted")
            if isinstance(e, ssl.SSLError):
                text = f"{getattr(e, 'reason', '') or ''} {e}".upper().replace(" ", "_")
                if any(alert in text for alert in _CLIENT_CERT_ALERTS):
                    return answer(NOT_SENT, "tls_client_cert")
    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return answer(NOT_SENT, "dns")  # nothing can be sent to a name that did not resolve
    if during_connect and any(getattr(e, "fmd_client_cert_missing", False) for e in chain):
        return ServiceAnswer(transport=NOT_SENT, transport_error="tls_client_cert",
                             detail="the service requires a client certificate and none is configured "
                                    f"(service client_cert); {detail}"[:300])
    if during_connect:
        if has(ConnectionRefusedError):
            return answer(NOT_SENT, "refused")
        # urllib3's NewConnectionError subclasses ConnectTimeoutError: test for a real timeout first.
        if any(isinstance(e, urllib3.exceptions.ConnectTimeoutError)
               and not isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
            return answer(NOT_SENT, "connect_timeout")
        if has(ssl.SSLError, urllib3.exceptions.SSLError):
            return answer(NOT_SENT, "tls_handshake")
        # Unreachable network or host, reset while connecting: the connection never opened.
        return answer(NOT_SENT, "refused")
    if has(urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout, socket.timeout):
        return answer(NO_ANSWER, "read_timeout")
    if has(urllib3.exceptions.IncompleteRead, requests.exceptions.ChunkedEncodingError):
        return answer(NO_ANSWER, "truncated")
    # Closed or reset after sending (RemoteDisconnected, ECONNRESET, an EOF in TLS), or anything
    # else a request may have survived: the outcome is unknown.
    return answer(NO_ANSWER, "reset")


def _check_readable(key: str, path: str | None) -> None:
    """``key``: the configuration key that names the file (the same word in every language)."""
    if path is not None and not os.access(path, os.R_OK):
        raise ConfigError.text("tls_file_unreadable", kind=key, path=repr(path))


class HTTPTransport:
    """A keep-alive HTTPS session with the project's timeouts, no library retries, TLS always verified.

    ``send`` returns a ``Received`` for any complete HTTP answer, or a ``ServiceAnswer`` with
    ``NOT_SENT`` / ``NO_ANSWER`` for everything else. It never raises for a network problem.
    """

    def __init__(
        self,
        *,
        ca_bundle: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        client_key_pin: str | None = None,
        timeouts: Timeouts | Mapping[str, float] | None = None,
        max_body_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        _check_readable("ca_bundle", ca_bundle)
        _check_readable("client_cert", client_cert)
        if client_key is not None and client_cert is None:
            raise ConfigError.text("key_without_cert", key=repr(client_key))
        # A key in a token (``pkcs11:`` URI): logged into now, installed into each connection's context.
        token: TokenKey | None = None
        if is_pkcs11_uri(client_key):
            token, client_key = token_key(str(client_key), client_key_pin), None
        _check_readable("client_key", client_key)
        self.timeouts = Timeouts.coerce(timeouts)
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._wall_clock = wall_clock
        # Never False: a path replaces the system store, True uses it.
        self._verify: str | bool = ca_bundle if ca_bundle is not None else True
        self._cert: str | tuple[str, str] | None = client_cert
        if client_cert is not None and client_key is not None:
            self._cert = (client_cert, client_key)
        self._token_cert = (token, client_cert) if token is not None and client_cert is not None else None
        if self._token_cert:
            token.check(client_cert)  # type: ignore[union-attr, arg-type]
        self._session = requests.Session()
        # Environment settings (REQUESTS_CA_BUNDLE, .netrc, proxies) would silently replace the
        # configured CA bundle or the Authorization header: the configuration is explicit instead.
        self._session.trust_env = False
        no_retries = Retry(total=0, connect=0, read=False, redirect=False, status=0, other=0, raise_on_status=False)
        # With TLS 1.3 a server refuses a client certificate (or its absence) only after the client's
        # handshake is over, and its alert is usually lost in the reset that follows the request: the
        # refusal would look like a request dropped after sending. Under TLS 1.2 the refusal ends the
        # handshake itself, so connections stay at 1.2 (module docstring).
        adapter = _PhaseTaggingAdapter(ssl.TLSVersion.TLSv1_2, max_retries=no_retries, pool_connections=1,
                                       pool_maxsize=2, token_cert=self._token_cert)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def send(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> Received | ServiceAnswer:
        """One request, one answer; at most ``timeouts.total`` seconds when the peer trickles."""
        t = self.timeouts
        started = self._clock()
        # Files removed since start-up: requests would raise OSError; nothing is sent.
        missing = [path for path in _as_tuple(self._cert) if not os.path.exists(path)]
        if missing:
            return ServiceAnswer(transport=NOT_SENT, transport_error="tls_client_cert",
                                 detail=f"client certificate or key file {missing[0]!r} is missing")
        if isinstance(self._verify, str) and not os.path.exists(self._verify):
            return ServiceAnswer(transport=NOT_SENT, transport_error="tls_untrusted",
                                 detail=f"CA bundle {self._verify!r} is missing")
        try:
            response = self._session.request(
                method,
                url,
                headers=dict(headers),
                data=body,
                timeout=(t.connect, t.read),
                stream=True,
                allow_redirects=False,
                verify=self._verify,
                cert=None if self._token_cert else self._cert,
            )
        except requests.RequestException as exc:
            failed = self._explain_handshake(classify_failure(exc))
            log.info("%s %s: %s (%s)", method, _path_for_log(url), failed.transport, failed.transport_error)
            return failed
        try:
            body_or_failure = self._read_body(response, started)
        finally:
            response.close()
        if isinstance(body_or_failure, ServiceAnswer):
            log.info("%s %s: HTTP %s then %s", method, _path_for_log(url), response.status_code,
                     body_or_failure.transport_error)
            return _with_status(body_or_failure, response.status_code)
        log.debug("%s %s: HTTP %s in %.1f ms", method, _path_for_log(url), response.status_code,
                  (self._clock() - started) * 1000.0)
        retry_after = retry_after_seconds(
            response.headers.get("Retry-After"), response.headers.get("Date"), self._wall_clock
        )
        return Received(response.status_code, response.headers, body_or_failure, retry_after)

    def client_cert_validity(self) -> tuple[float, float] | None:
        """(notBefore, notAfter) of the client certificate as POSIX seconds, or None if unknown.

        For the terminal's own warning well before the end date (VERIFICATION-SERVICE.md section 8).
        """
        path = _as_tuple(self._cert)[0] if self._cert else None
        return None if path is None else certificate_validity(path)

    def _explain_handshake(self, failed: ServiceAnswer) -> ServiceAnswer:
        """A handshake the server simply closed (uvicorn, many load balancers send no alert) while our
        own certificate is outside its validity period by the wall clock: the certificate is the cause."""
        if failed.transport_error != "tls_handshake":
            return failed
        validity = self.client_cert_validity()
        now = self._wall_clock()
        if validity is None or validity[0] <= now <= validity[1]:
            return failed
        when = time.strftime("%Y-%m-%d", time.gmtime(validity[1] if now > validity[1] else validity[0]))
        reason = f"expired on {when}" if now > validity[1] else f"not valid before {when}"
        return ServiceAnswer(transport=NOT_SENT, transport_error="tls_client_cert",
                             detail=f"client certificate {reason}; {failed.detail}")

    def _read_body(self, response: requests.Response, started: float) -> bytes | ServiceAnswer:
        """Read the body in chunks, keeping every read inside the total deadline."""
        deadline = started + self.timeouts.total
        sock = _socket_of(response)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout",
                                         detail=f"total deadline of {self.timeouts.total} s passed")
                if sock is not None:
                    sock.settimeout(min(self.timeouts.read, remaining))
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body_bytes:
                    return ServiceAnswer(transport=NO_ANSWER, transport_error="bad_body",
                                         detail=f"body larger than {self.max_body_bytes} bytes")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            return classify_failure(exc, body_started=True)

    def close(self) -> None:
        self._session.close()


class _TagConnectFailures:
    """Mixin for urllib3 connections: an exception out of connect() says nothing was sent."""

    def connect(self) -> None:
        try:
            super().connect()  # type: ignore[misc]
        except BaseException as exc:
            exc.fmd_during_connect = True  # type: ignore[attr-defined]
            raise


class _PhaseTaggingHTTPConnection(_TagConnectFailures, urllib3.connection.HTTPConnection):
    pass


class _HandshakeTrace:
    """What one TLS handshake exchanged, from CPython's message callback (``SSLContext._msg_callback``).

    ``certificate_requested``: the server sent a CertificateRequest (RFC 5246 s. 7.4.4, RFC 8446
    s. 4.3.2). ``sent_no_certificate``: the terminal answered with a Certificate message whose list is
    empty (RFC 5246 s. 7.4.6; RFC 8446 s. 4.4.2 adds a request context before the list).
    """

    __slots__ = ("certificate_requested", "sent_no_certificate")

    def __init__(self) -> None:
        self.certificate_requested = False
        self.sent_no_certificate = False

    def __call__(self, conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any,
                 data: bytes) -> None:
        if content_type != _TLS_HANDSHAKE:
            return
        if direction == "read" and msg_type == _TLS_CERTIFICATE_REQUEST:
            self.certificate_requested = True
        elif direction == "write" and msg_type == _TLS_CERTIFICATE:
            body = bytes(data[4:])  # after the handshake header: type (1) and length (3)
            if version == ssl.TLSVersion.TLSv1_3 and body:
                body = body[1 + body[0]:]  # certificate_request_context
            self.sent_no_certificate = body[:3] == b"\x00\x00\x00"

    def refused_missing_certificate(self, exc: BaseException) -> bool:
        """The server asked for a certificate, got none, and then ended the handshake (not a timeout)."""
        if not (self.certificate_requested and self.sent_no_certificate):
            return False
        if isinstance(exc, ssl.SSLCertVerificationError | socket.timeout):
            return False
        return isinstance(exc, ssl.SSLError | ConnectionResetError | ConnectionAbortedError | BrokenPipeError)


# TLS record and handshake message types (RFC 5246 s. 6.2.1 and 7.4) as the message callback reports them.
_TLS_HANDSHAKE = 22
_TLS_CERTIFICATE = 11
_TLS_CERTIFICATE_REQUEST = 13
_CAN_TRACE = hasattr(ssl.SSLContext, "_msg_callback")


class _PhaseTaggingHTTPSConnection(_TagConnectFailures, urllib3.connection.HTTPSConnection):
    """Also traces each handshake, to tell "the server wants a client certificate we do not have"."""

    token_cert: tuple[TokenKey, str] | None = None  # set per adapter when the key is in a token

    def connect(self) -> None:
        trace = _HandshakeTrace()
        if _CAN_TRACE or self.token_cert:
            self.ssl_context = self._traced_context(trace)
        if self.token_cert:
            token, cert_path = self.token_cert
            token.install(self.ssl_context, cert_path)  # type: ignore[arg-type]  # set just above
        try:
            super().connect()
        except BaseException as exc:
            if trace.refused_missing_certificate(exc):
                exc.fmd_client_cert_missing = True  # type: ignore[attr-defined]
            raise

    def _traced_context(self, trace: _HandshakeTrace) -> ssl.SSLContext:
        """The context urllib3 would build for this connection (same versions, verification and
        trust store), with ``trace`` as its message callback; urllib3 still loads the CA bundle and the
        client certificate into it."""
        context = urllib3.util.ssl_.create_urllib3_context(
            ssl_minimum_version=self.ssl_minimum_version, ssl_maximum_version=self.ssl_maximum_version,
            cert_reqs=urllib3.util.ssl_.resolve_cert_reqs(self.cert_reqs))
        if not (self.ca_certs or self.ca_cert_dir or self.ca_cert_data):
            context.load_default_certs()
        if _CAN_TRACE:
            context._msg_callback = trace  # type: ignore[attr-defined]
        return context


class _PhaseTaggingHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _PhaseTaggingHTTPConnection


class _PhaseTaggingHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _PhaseTaggingHTTPSConnection


class _PhaseTaggingAdapter(HTTPAdapter):
    """Connections that mark a failure of connect() (TCP and the TLS handshake): nothing was sent."""

    def __init__(self, tls_max: ssl.TLSVersion | None, token_cert: tuple[TokenKey, str] | None = None,
                 **kwargs: Any) -> None:
        self._tls_max = tls_max
        self._token_cert = token_cert
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._tls_max is not None:
            kwargs["ssl_maximum_version"] = self._tls_max
        super().init_poolmanager(*args, **kwargs)
        https_pool: type = _PhaseTaggingHTTPSPool
        if self._token_cert is not None:  # the connections of this adapter install the token's key
            connection = type("_TokenHTTPSConnection", (_PhaseTaggingHTTPSConnection,), {"token_cert": self._token_cert})
            https_pool = type("_TokenHTTPSPool", (_PhaseTaggingHTTPSPool,), {"ConnectionCls": connection})
        self.poolmanager.pool_classes_by_scheme = {"http": _PhaseTaggingHTTPPool, "https": https_pool}


def _as_tuple(cert: str | tuple[str, str] | None) -> tuple[str, ...]:
    return () if cert is None else (cert,) if isinstance(cert, str) else cert


def _with_status(answer: ServiceAnswer, status: int) -> ServiceAnswer:
    fields = answer.as_dict()
    fields["http_status"] = status
    return ServiceAnswer(**fields)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The connection's socket, to bound each body read by the time left (urllib3 2 internals)."""
    connection = getattr(response.raw, "_connection", None) or getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _path_for_log(url: str) -> str:
    """The URL for INFO logs: no query (batch, expiry) and a serial cut to its last 4 characters.

    Pack identifiers appear in full only at DEBUG (ARCHITECTURE.md, "Errors and logging").
    """
    if log.isEnabledFor(logging.DEBUG):
        return url
    path = url.split("?", 1)[0]
    head, sep, serial = path.rpartition("/pack/")
    return head + sep + "..." + serial[-4:] if sep else path
