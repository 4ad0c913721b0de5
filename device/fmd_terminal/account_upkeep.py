"""Renewing the account from the terminal (issue 14, item 5): password, certificate, terms.

Over the service's account twin (``/account/...``, REST; ``fmd_simulator.account``), with the
terminal's current login and certificate:

- ``refresh_status``: the password's and the terms' dates, cached in ``account.json`` for the idle
  screen and ``doctor`` (``credential_health``);
- ``renew_password``: a new random password made on the terminal (REST twin, or G445 over SOAP); once taken
  by the service, ``secrets.toml`` is replaced atomically (0600), so the old and new never both apply;
- ``renew_certificate``: a new key made on the terminal and a CSR sent over the mutual TLS of the
  current certificate; the new pair is checked with an authenticated ping before it replaces the old;
- ``accept_terms``: accept the terms version the service names.

All of them need the enrolment directory (where ``fmd-terminal enrol`` wrote the credentials).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fmd_terminal.credential_health import DAY_S, STATE_FILE, read_state
from fmd_terminal.enrolment import FILES, _toml_string, _write, check_credentials, make_key_and_csr
from fmd_terminal.errors import ConfigError, ServiceError


def _client(config: Any, soap: bool = False) -> Any:
    """The configured client: REST for every upkeep call; SOAP (``soap``) for the password change G445."""
    from fmd_terminal.app import open_configured_service
    from fmd_terminal.verification.rest import HTTPVerificationClient
    from fmd_terminal.verification.soap import SOAPVerificationClient

    client = open_configured_service(config)
    if isinstance(client, HTTPVerificationClient) or (soap and isinstance(client, SOAPVerificationClient)):
        return client
    client.close()
    raise ConfigError.text("account_needs_rest")


def _answer_of(answer: Any) -> str:
    """The service's answer in its own words: HTTP status or transport error, return code, description."""
    return f"{answer.http_status or answer.transport_error} {answer.operation_code or ''} " \
           f"{answer.description or answer.detail or ''}".strip()


def _call(config: Any, method: str, path: str, body: Any = None) -> dict[str, Any]:
    client = _client(config)
    try:
        answer, parsed = client.account(method, path, body)
    finally:
        client.close()
    if answer.http_status != 200 or parsed is None:
        raise ServiceError.text("account_answer", what=path, answer=_answer_of(answer))
    return parsed


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _save_state(directory: Path, status: dict[str, Any]) -> dict[str, Any]:
    _write(directory / (STATE_FILE + ".new"), json.dumps(status, indent=1).encode(), 0o644)
    os.replace(directory / (STATE_FILE + ".new"), directory / STATE_FILE)
    return status


def refresh_status(config: Any, directory: Path) -> dict[str, Any]:
    return _save_state(directory, _call(config, "GET", "/account/status"))


def renew_password(config: Any, directory: Path) -> dict[str, Any]:
    """REST twin, or G445 over SOAP (whose answer carries no dates: 90 days from now are assumed)."""
    new = secrets.token_urlsafe(24)
    client = _client(config, soap=True)
    if hasattr(client, "change_password"):
        try:
            answer = client.change_password(new)
        finally:
            client.close()
        if answer.operation_code != "NMVS_SUCCESS":
            raise ServiceError.text("account_answer", what="G445", answer=_answer_of(answer))
        now = time.time()
        status = dict(read_state(directory), passwordChangedAt=_iso(now), passwordExpiresAt=_iso(now + 90 * DAY_S))
    else:
        client.close()
        status = _call(config, "POST", "/account/password", {"newPassword": new})
    staged = directory / (FILES["secrets"] + ".new")
    _write(staged, (f"client_id = {_toml_string(config.client_id)}\nclient_secret = {_toml_string(new)}\n").encode(),
           0o600)
    os.replace(staged, directory / FILES["secrets"])
    return _save_state(directory, status)


def renew_certificate(config: Any, directory: Path) -> str:
    """The new certificate's path, once the new pair has been checked and moved in."""
    key_pem, csr_pem = make_key_and_csr()
    answer = _call(config, "POST", "/account/certificate", {"csr": csr_pem.decode("ascii")})
    key_new, cert_new = directory / (FILES["key"] + ".new"), directory / (FILES["cert"] + ".new")
    try:
        _write(key_new, key_pem, 0o600)
        _write(cert_new, str(answer.get("certificate", "")).encode("ascii"), 0o644)
        check_credentials({"url": config.service, "client_id": config.client_id, "client_secret": config.client_secret,
                           "client_cert": str(cert_new), "client_key": str(key_new),
                           "ca_bundle": config.ca_bundle or None})
        os.replace(key_new, directory / FILES["key"])
        os.replace(cert_new, directory / FILES["cert"])
    finally:
        for leftover in (key_new, cert_new):
            leftover.unlink(missing_ok=True)
    return str(directory / FILES["cert"])


def accept_terms(config: Any, directory: Path) -> dict[str, Any]:
    version = refresh_status(config, directory).get("terms", {}).get("version")
    return _save_state(directory, _call(config, "POST", "/account/terms", {"version": version}))
