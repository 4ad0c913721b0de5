"""Devices are chosen by URL (ARCHITECTURE.md, principle 3).

Each port has one ``open_<port>(url)`` factory that looks the scheme up in a plain dict through
``open_by_scheme`` and names the known schemes when it does not know one.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, urlsplit

from fmd_terminal.errors import DeviceError, UnknownSchemeError

log = logging.getLogger(__name__)


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or a name) is this machine's loopback: where plain ``http://`` and
    a console without TLS may go (the guide's rule: plain http only on loopback)."""
    if (host or "").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def scheme_of(url: str) -> str:
    """Return the scheme of a device URL, lower case ("" when it has none)."""
    return urlsplit(url).scheme.lower()


def open_by_scheme(port: str, url: str, table: dict[str, Callable[..., Any]], **kwargs: Any) -> Any:
    """Open ``url`` with the factory its scheme names in ``table``.

    Each factory takes the parsed URL (``SplitResult``) and the keyword arguments given here.
    """
    parts: SplitResult = urlsplit(url)
    factory = table.get(parts.scheme.lower())
    if factory is None:
        known = ", ".join(sorted(s + "://" for s in table))
        raise UnknownSchemeError.text("unknown_scheme", port=port, url=repr(url), known=known)
    return factory(parts, **kwargs)


def open_or_fallback(opener: Callable[..., Any], url: str, fallback: str, **kwargs: Any) -> Any:
    """``opener(url)``; when its device is missing (``DeviceError``), log why and open ``fallback``.

    For the composition root: a box whose OLED or GPIO is absent or dead keeps running and says so in
    the log (issue 4, item 3, "Bad input"). Configuration errors still raise: a typo is not a fault.
    """
    try:
        return opener(url, **kwargs)
    except DeviceError as exc:
        log.warning("%s; using %s instead", exc, fallback)
        return opener(fallback)
