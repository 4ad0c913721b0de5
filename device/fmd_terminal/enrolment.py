"""Scan to enrol (issue 14): a terminal with no credentials gets them from a one-time enrolment code.

The code (shown by the subscription site, valid 15 minutes, usable once) reads::

    FMD-ENROL/1 <token + check letter> <SHA-256 of the service CA certificate, hex> <enrolment URL>

``enrol(text, directory)`` carries out the whole exchange, and writes nothing unless all of it
succeeded:

1. the code is parsed and its check letter tested (a garbled read is refused, nothing is sent);
   a terminal clock before 2025 is refused (its certificate's dates and the code's 15 minutes need it);
2. the CA certificate is fetched from ``<URL>/enrol/ca.pem`` and accepted only if its SHA-256 is the
   code's (the pinned bootstrap: that GET carries nothing, and every later byte goes over TLS verified
   against this CA, so a fresh terminal never sends anything to an unverified server);
3. the terminal makes its own EC P-256 key (it never leaves the device), sends a CSR with the code and
   its clock, and receives its certificate (2 years), the account's login and secret, the pharmacy's name;
4. the new credentials are checked with an authenticated call (REST: a token and ``/ping``; over
   mutual TLS when the service is HTTPS). A pack verify is not used for this check: a verify of a pack
   the service does not hold raises an alert in the national system;
5. the files are written in a staging directory (mode 0700; key and secrets 0600) and moved into
   ``directory`` one by one, ``service.toml`` last: a terminal counts as enrolled only once that file
   exists (``config.load`` reads it through ``enrolment_dir``), so an interruption leaves it unenrolled.

Every refusal is an ``EnrolmentFailed`` whose ``reason`` names the screen: ``not_code``, ``garbled``,
``clock``, ``no_network``, ``untrusted``, ``used``, ``expired``, ``foreign``, ``check_failed``, ``refused``.

ASSUMED (no public source): the code's layout, the exchange, the answer naming the service URL
(``serviceUrl``, else the enrolment URL), the service being certified by the pinned CA, the files' names are the project's design, played by the simulator (``fmd_simulator.enrolment``).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fmd_core.enrolment_code import CODE_PREFIX, token_valid
from fmd_terminal.errors import TerminalError
from fmd_terminal.urls import is_loopback

log = logging.getLogger(__name__)

EARLIEST_CLOCK = 1_735_689_600  # 2025-01-01: a clock before this has never been set
FILES = {"key": "device-key.pem", "cert": "device-cert.pem", "ca": "service-ca.pem", "secrets": "secrets.toml",
         "service": "service.toml"}
_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_REFUSALS = {"ENROL_USED": "used", "ENROL_EXPIRED": "expired", "ENROL_UNKNOWN": "foreign", "ENROL_CLOCK": "clock",
             "ENROL_GARBLED": "garbled"}


class EnrolmentFailed(TerminalError):
    """Enrolment refused or impossible; ``reason`` names the screen (module docstring)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"enrolment refused ({reason}): {detail}")
        self.reason = reason
        self.detail = detail


class EnrolmentCode:
    __slots__ = ("token", "ca_sha256", "url")

    def __init__(self, token: str, ca_sha256: str, url: str) -> None:
        self.token = token
        self.ca_sha256 = ca_sha256
        self.url = url

    @classmethod
    def parse(cls, raw: str) -> EnrolmentCode:
        """The code a scan (AIM prefix allowed, any letter case for the token) or a file holds."""
        text = _AIM.sub("", raw.strip()).strip()
        parts = text.split()
        if not parts or parts[0].upper() != CODE_PREFIX:
            raise EnrolmentFailed("not_code", "this is not an enrolment code")
        if len(parts) != 4:
            raise EnrolmentFailed("garbled", "the enrolment code is incomplete")
        token, fingerprint, url = parts[1].upper(), parts[2].lower(), parts[3]
        if not token_valid(token):
            raise EnrolmentFailed("garbled", "the enrolment code's check letter does not match: scan it again")
        if not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
            raise EnrolmentFailed("garbled", "the enrolment code's CA fingerprint is misread: scan it again")
        parts_url = urlsplit(url)
        if parts_url.scheme not in ("https", "http") or not parts_url.hostname:
            raise EnrolmentFailed("garbled", f"the enrolment code's address {url!r} is misread")
        if parts_url.scheme == "http" and not is_loopback(parts_url.hostname):
            raise EnrolmentFailed("untrusted", "plain http:// is accepted on loopback only")
        return cls(token, fingerprint, url.rstrip("/"))


class Enrolled:
    __slots__ = ("pharmacy_name", "finess", "route", "service_url", "directory")

    def __init__(self, pharmacy_name: str, finess: str, route: str, service_url: str, directory: str) -> None:
        self.pharmacy_name = pharmacy_name
        self.finess = finess
        self.route = route
        self.service_url = service_url
        self.directory = directory


def _connection(url: str, context: ssl.SSLContext | None, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname or "", parts.port or 443, timeout=timeout, context=context)
    return http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)


def _exchange(url: str, method: str, path: str, context: ssl.SSLContext | None, body: bytes | None = None,
              timeout: float = 15.0) -> tuple[int, bytes]:
    """One request; a network failure is ``no_network``, a TLS verification failure ``untrusted``."""
    connection = _connection(url, context, timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, urlsplit(url).path + path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(256 * 1024)
    except ssl.SSLCertVerificationError as error:
        raise EnrolmentFailed("untrusted", f"the enrolment server is not certified by the code's CA: {error}") from error
    except (OSError, http.client.HTTPException) as error:
        raise EnrolmentFailed("no_network", f"{urlsplit(url).netloc} cannot be reached: {error}") from error
    finally:
        connection.close()


def fetch_pinned_ca(code: EnrolmentCode) -> bytes:
    """The CA certificate (PEM) whose SHA-256 the code names (the pinned bootstrap, module docstring)."""
    # This one GET is made before the CA is known, so its TLS cannot be verified yet: nothing is sent
    # but the path, and the answer is used only if its hash is the one the code carries.
    bootstrap = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    bootstrap.check_hostname = False
    bootstrap.verify_mode = ssl.CERT_NONE
    status, pem = _exchange(code.url, "GET", "/enrol/ca.pem", bootstrap)
    if status != 200:
        raise EnrolmentFailed("refused", f"the enrolment server gave no CA certificate (HTTP {status})")
    try:
        der = ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))
    except (ValueError, UnicodeDecodeError) as error:
        raise EnrolmentFailed("untrusted", "the enrolment server's CA certificate is not PEM") from error
    if hashlib.sha256(der).hexdigest() != code.ca_sha256:
        raise EnrolmentFailed("untrusted", "the enrolment server's CA is not the one the code names")
    return pem


def make_key_and_csr() -> tuple[bytes, bytes]:
    """A new EC P-256 key (PKCS#8 PEM) and a CSR for it; the key is made here and never sent."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fmd-terminal")]))
           .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


STEPS = ("code", "ca", "request", "check", "save")  # what ``progress`` is told, each as it starts


def enrol(raw: str, directory: str, *, wall_clock: Callable[[], float] = time.time,
          check: Callable[[dict[str, Any]], Any] | None = None,
          progress: Callable[[str], None] = lambda step: None) -> Enrolled:
    """Enrol from the code ``raw`` into ``directory`` (module docstring); raises ``EnrolmentFailed``.
    ``progress`` is called with each of ``STEPS`` as it starts (the console shows them)."""
    progress("code")
    code = EnrolmentCode.parse(raw)
    now = wall_clock()
    if now < EARLIEST_CLOCK:
        raise EnrolmentFailed("clock", "the terminal's clock is not set (before 2025): connect it to the network "
                                       "or set the date, then scan again")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    progress("ca")
    ca_pem = fetch_pinned_ca(code)
    staging = Path(tempfile.mkdtemp(prefix=".enrolling-", dir=target))
    try:
        progress("request")
        key_pem, csr_pem = make_key_and_csr()
        _write(staging / FILES["key"], key_pem, 0o600)
        _write(staging / FILES["ca"], ca_pem, 0o644)
        verified = None
        if code.url.startswith("https:"):
            verified = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
        request = json.dumps({"code": code.token, "csr": csr_pem.decode("ascii"), "terminalTime": now}).encode()
        status, body = _exchange(code.url, "POST", "/enrol", verified, request)
        answer = _json(body)
        if status != 200:
            reason = _REFUSALS.get(str(answer.get("code")), "refused")
            raise EnrolmentFailed(reason, str(answer.get("description") or f"HTTP {status}"))
        for field in ("clientId", "clientSecret", "certificate", "pharmacyName"):
            if not isinstance(answer.get(field), str) or not answer[field]:
                raise EnrolmentFailed("refused", f"the enrolment answer lacks {field}")
        _write(staging / FILES["cert"], answer["certificate"].encode("ascii"), 0o644)
        _write(staging / FILES["secrets"], (f"client_id = {_toml_string(answer['clientId'])}\n"
                                            f"client_secret = {_toml_string(answer['clientSecret'])}\n").encode(), 0o600)
        service_url: str = answer["serviceUrl"] if isinstance(answer.get("serviceUrl"), str) else code.url
        settings = {"url": service_url, "client_id": answer["clientId"], "client_secret": answer["clientSecret"],
                    "client_cert": str(staging / FILES["cert"]), "client_key": str(staging / FILES["key"]),
                    "ca_bundle": str(staging / FILES["ca"])}
        progress("check")
        (check or check_credentials)(settings)
        progress("save")
        service = (f"# Written by fmd-terminal enrol for {answer['pharmacyName']} ({answer.get('finess', '')}), "
                   f"route {answer.get('route', 'direct')}\n[service]\nurl = {_toml_string(service_url)}\n"
                   + "".join(f"{key} = {_toml_string(str(target.resolve() / FILES[name]))}\n" for key, name in
                             (("client_cert", "cert"), ("client_key", "key"), ("ca_bundle", "ca"),
                              ("secrets_file", "secrets"))))
        _write(staging / FILES["service"], service.encode(), 0o644)
        for name in ("key", "cert", "ca", "secrets", "service"):  # service.toml last: then it counts
            os.replace(staging / FILES[name], target / FILES[name])
        log.info("enrolled for %s", answer["pharmacyName"])
        return Enrolled(answer["pharmacyName"], str(answer.get("finess", "")), str(answer.get("route", "direct")),
                        service_url, str(target))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def check_credentials(settings: dict[str, Any]) -> None:
    """An authenticated ping with the new credentials (module docstring, step 4)."""
    from fmd_terminal.verification.factory import open_service

    client = open_service(settings["url"], client_id=settings["client_id"], client_secret=settings["client_secret"],
                          client_cert=settings["client_cert"], client_key=settings["client_key"],
                          ca_bundle=settings["ca_bundle"], timeouts={"connect": 5.0, "read": 10.0, "total": 15.0})
    try:
        answer = client.ping()
    finally:
        client.close()
    if answer.operation_code != "NMVS_SUCCESS":
        raise EnrolmentFailed("check_failed", f"the new credentials were refused: {answer.transport_error or ''} "
                                              f"{answer.operation_code or ''} {answer.detail or ''}".strip())
