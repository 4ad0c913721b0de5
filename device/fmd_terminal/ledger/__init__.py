"""The site ledger and fleet health (README, "One site, many terminals"): ``open_site(url, outbox)``.

``mqtts://HOST:PORT?site=S&device=D&counter=2&ca=CA&cert=CRT&key=KEY&site_key=FILE`` opens the
terminal's link to its site's Mosquitto (``mqtt.SiteLink``), the ledger hook (``mqtt.SiteLedger``) and
the health reporter (``health.HealthReporter``). ``site_key``: a file holding the site's secret
(hex, owner-readable only) under which pack identifiers are hashed into topic names. Optional:
``echo_ms`` (the longest wait for the claim's echo, 150), ``health_s`` (the health period, 60). No URL: no ledger,
the terminal works alone, as before.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs

from fmd_core.site_ledger import EXPIRY_S
from fmd_terminal.config_rules import ledger_keys, private_file
from fmd_terminal.errors import ConfigError
from fmd_terminal.urls import open_by_scheme

REQUIRED = ("site", "device", "ca", "cert", "key", "site_key")


def read_site_key(path: str) -> bytes:
    """The site's hashing key; refused when group or others can read it (``config_rules.private_file``)."""
    problem = private_file("ledger site_key", path)
    if problem is not None:
        raise problem
    try:
        text = Path(path).read_text().strip()
    except OSError as error:
        raise ConfigError(f"site ledger: cannot read the site key {path!r}: {error.strerror}") from None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"site ledger: {path} does not hold a hex key") from None


class Site:
    """What ``open_site`` returns: the link, the ledger hook and the health reporter."""

    def __init__(self, link: Any, ledger: Any, health: Any) -> None:
        self.link, self.ledger, self.health = link, ledger, health

    def close(self) -> None:
        self.ledger.close()
        self.health.close()
        self.link.close()


def _mqtts(parts: SplitResult, *, outbox: Any = None, **kwargs: Any) -> Site:
    from fmd_terminal.ledger.health import HealthReporter
    from fmd_terminal.ledger.mqtt import SiteLedger, SiteLink

    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    missing = [name for name in REQUIRED if not query.get(name)]
    if missing or not parts.hostname or not parts.port:
        raise ConfigError(f"ledger URL {parts.geturl()!r}: expected mqtts://HOST:PORT?"
                          f"{'&'.join(n + '=...' for n in REQUIRED)} (missing: {', '.join(missing) or 'host:port'})")
    for problem in ledger_keys(parts.geturl()):  # the MQTT client key: owner-readable only
        raise problem
    link = SiteLink(host=parts.hostname, port=parts.port, site=query["site"], device=query["device"],
                    ca=query["ca"], cert=query["cert"], key=query["key"])
    history = _history(outbox) if outbox is not None else None
    ledger = SiteLedger(link, read_site_key(query["site_key"]), query.get("counter", query["device"]),
                        history=history, echo_timeout_s=float(query.get("echo_ms", 150)) / 1000, **kwargs)
    health = HealthReporter(link, outbox=outbox, ledger=ledger, interval_s=float(query.get("health_s", 60)))
    link.start()
    return Site(link, ledger, health)


def _history(outbox: Any):
    """This terminal's state changes of the outbox, for the ledger's catch-up."""
    def read() -> list[tuple[str, str, str, int]]:
        since = time.time_ns() - EXPIRY_S * 1_000_000_000
        rows = outbox.ops("op.kind != 'verify' AND op.state IN ('done', 'rejected', 'queued', 'in_flight', "
                          "'uncertain') AND op.wall_ns > ?", (since,))
        return [(row["kind"], row["pack_key"], row["state"], row["wall_ns"]) for row in rows]
    return read


def open_site(url: str, **kwargs: Any) -> Site:
    return open_by_scheme("ledger", url, {"mqtts": _mqtts}, **kwargs)
