"""``open_service(url, ...)``: the verification client a URL names (ARCHITECTURE.md, principle 3).

| Scheme | Client |
|---|---|
| ``https://host[:port][/base]`` (``http://`` on loopback for tests) | ``rest.HTTPVerificationClient`` (section 7) |
| ``nmvs-soap+https://host[:port]/path[?user=USER_ID]`` | ``soap.SOAPVerificationClient`` (section 2, the blueprint family; client certificate required) |
| ``scripted://offline``, ``scripted://success`` | ``scripted.ScriptedVerificationClient`` |

Credentials come from the configuration (environment ``FMD_CLIENT_ID`` / ``FMD_CLIENT_SECRET``);
``client_key`` is a PEM file or a ``pkcs11:`` URI (``pkcs11.py``), whose PIN is ``client_key_pin``;
a missing one is a ``ConfigError`` naming the variable, raised when the client is opened rather than at
the first scan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qs

from fmd_terminal.errors import ConfigError
from fmd_terminal.urls import open_by_scheme
from fmd_terminal.verification.rest import HTTPVerificationClient
from fmd_terminal.verification.scripted import ScriptedVerificationClient, offline_answer, success_answer
from fmd_terminal.verification.soap import SOAPVerificationClient
from fmd_terminal.verification.transport import Timeouts

_SCRIPTED_DEFAULTS = {"offline": offline_answer, "": offline_answer, "success": success_answer}


def _require_credentials(url: SplitResult, client_id: str | None, client_secret: str | None) -> tuple[str, str]:
    missing = [name for name, value in (("FMD_CLIENT_ID", client_id), ("FMD_CLIENT_SECRET", client_secret))
               if not value]
    if missing:
        raise ConfigError.text("service_credentials", url=repr(url.geturl()), missing=" + ".join(missing))
    return str(client_id), str(client_secret)


def _open_rest(url: SplitResult, *, client_id: str | None = None, client_secret: str | None = None,
               **options: Any) -> HTTPVerificationClient:
    client_id, client_secret = _require_credentials(url, client_id, client_secret)
    return HTTPVerificationClient(url.geturl(), client_id=client_id, client_secret=client_secret, **options)


def _open_soap(url: SplitResult, *, client_id: str | None = None, client_secret: str | None = None,
               client_cert: str | None = None, **options: Any) -> SOAPVerificationClient:
    """``nmvs-soap+https://host[:port]/path[?user=USER_ID]``: mutual TLS is required by the blueprint."""
    client_id, client_secret = _require_credentials(url, client_id, client_secret)
    if not client_cert:
        raise ConfigError.text("service_mtls", url=repr(url.geturl()))
    users = parse_qs(url.query).get("user")
    user = users[0] if users else None
    return SOAPVerificationClient(f"https://{url.netloc}{url.path}", login_id=client_id, password=client_secret,
                                  user_id=user, client_cert=client_cert, **options)


def _open_scripted(url: SplitResult, **_ignored: Any) -> ScriptedVerificationClient:
    name = (url.netloc or url.path).strip("/")
    default = _SCRIPTED_DEFAULTS.get(name)
    if default is None:
        known = ", ".join("scripted://" + n for n in sorted(_SCRIPTED_DEFAULTS) if n)
        raise ConfigError(f"unknown scripted service {url.geturl()!r}: expected one of {known}")
    return ScriptedVerificationClient(default=default)


SCHEMES: dict[str, Callable[..., Any]] = {
    "http": _open_rest,
    "https": _open_rest,
    "nmvs-soap+https": _open_soap,
    "scripted": _open_scripted,
}


def open_service(
    url: str,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    client_key_pin: str | None = None,
    ca_bundle: str | None = None,
    timeouts: Timeouts | Mapping[str, float] | None = None,
) -> Any:
    """Open the verification client ``url`` names; unknown schemes and missing credentials raise."""
    return open_by_scheme(
        "verification service", url, SCHEMES,
        client_id=client_id, client_secret=client_secret, client_cert=client_cert, client_key=client_key,
        client_key_pin=client_key_pin, ca_bundle=ca_bundle, timeouts=timeouts,
    )
