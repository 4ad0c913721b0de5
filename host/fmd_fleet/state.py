"""The fleet's latest state: one health message per device, its level and the metrics' view of it.

A device's level (the fleet page's rows, red first):
  red    offline (its last will), backlog red (oldest op to send older than 4 h), an alert today, or a
         certificate, password or terms expiry within ``EXPIRY_RED_DAYS``
  amber  ops needing a person, backlog amber (15 min), an alert rate over 30 days above the target
         (0.05 %), the scanner not calibrated, the site ledger offline, expiry within ``EXPIRY_AMBER_DAYS``
  ok     otherwise
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

RED, AMBER, OK = "red", "amber", "ok"
LEVELS = (RED, AMBER, OK)
EXPIRY_RED_DAYS = 7
EXPIRY_AMBER_DAYS = 30
RED_AGE_S = 4 * 3600
AMBER_AGE_S = 15 * 60
EXPIRIES = ("cert_expiry", "password_expiry", "terms_expiry")
DELAYS_KEPT = 20000


def level_of(health: dict[str, Any], now_s: float) -> tuple[str, list[str]]:
    """(level, reasons) of one device's health; reasons are message ids of the fleet page."""
    if health.get("state") == "offline":
        return RED, ["offline"]
    red, amber = [], []
    age = health.get("oldest_pending_age_s")
    if age is not None and age >= RED_AGE_S:
        red.append("backlog")
    elif age is not None and age >= AMBER_AGE_S:
        amber.append("backlog")
    if health.get("alerts_today"):
        red.append("alerts")
    rate, target = health.get("alert_rate_30d"), health.get("alert_rate_target") or 0.0005
    if rate is not None and rate > target:
        amber.append("alert_rate")
    if health.get("attention"):
        amber.append("attention")
    for name in EXPIRIES:
        at = health.get(name)
        if at is not None and at - now_s < EXPIRY_RED_DAYS * 86400:
            red.append("expiring")
        elif at is not None and at - now_s < EXPIRY_AMBER_DAYS * 86400:
            amber.append("expiring")
    if health.get("scanner_calibration") == "not_calibrated":
        amber.append("scanner")
    if (health.get("link") or {}).get("ledger") == "offline":
        amber.append("ledger")
    if red:
        return RED, red + amber
    return (AMBER, amber) if amber else (OK, [])


class Fleet:
    """The latest health per device (``site/device``), thread-safe; ``delays`` keeps how late each state
    reached us (received - sent), for the p95 the metrics expose."""

    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.devices: dict[str, dict[str, Any]] = {}
        self.received: dict[str, float] = {}
        self.delays: deque[float] = deque(maxlen=DELAYS_KEPT)
        self.messages = 0
        self.rejected = 0

    def update(self, topic: str, payload: bytes) -> bool:
        """One message on ``fmd/<site>/<device>/health``; False (counted) when it is not a health."""
        parts = topic.split("/")
        try:
            health = json.loads(payload)
        except ValueError:
            health = None
        if len(parts) != 4 or parts[0] != "fmd" or parts[3] != "health" or not isinstance(health, dict):
            with self.lock:
                self.rejected += 1
            return False
        now = self.clock()
        health.setdefault("site", parts[1])
        health.setdefault("device", parts[2])
        sent = health.get("sent", health.get("at"))
        with self.lock:
            self.devices[parts[1] + "/" + parts[2]] = health
            self.received[parts[1] + "/" + parts[2]] = now
            self.messages += 1
            if isinstance(sent, int | float):
                self.delays.append(max(0.0, now - sent))
        return True

    def rows(self) -> list[tuple[str, str, list[str], dict[str, Any]]]:
        """(key, level, reasons, health) for every device, red first, then amber, then by key."""
        now = self.clock()
        with self.lock:
            items = list(self.devices.items())
        rows = [(key, *level_of(health, now), health) for key, health in items]
        rows.sort(key=lambda row: (LEVELS.index(row[1]), row[0]))
        return rows

    def delay_quantile(self, q: float) -> float | None:
        with self.lock:
            values = sorted(self.delays)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]
