"""Fault injection (VERIFICATION-SERVICE.md, section 8), deterministic under ``seed``.

The settings are the JSON object of ``PUT /admin/faults``; unknown fields and wrong types are refused
(``ValueError`` with a clear message, answered as 400). Random decisions come from one ``random.Random``
seeded by ``seed`` and reseeded at every ``PUT``, so a test that replays the same requests sees the same
faults. Throttling uses a token bucket on a monotonic clock (``throttleRps`` requests per second, burst 1).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

from fmd_simulator.engine import parse_iso

_NUMBERS = {
    "errorRate": (0.0, 1.0), "dropBeforeApplyRate": (0.0, 1.0), "dropAfterApplyRate": (0.0, 1.0),
    "timeoutRate": (0.0, 1.0), "throttleRps": (0.0, 1e9), "hangMs": (0.0, 600000.0),
    "intermarketLatencyMs": (0.0, 60000.0), "retryAfterSeconds": (0.0, 86400.0),
    "passwordExpiresInDays": (0.0, 3650.0), "tokenTtlSeconds": (1.0, 86400.0 * 365),
}
_FLAGS = ("outage", "passwordExpired", "termsPending", "accountLocked", "certificateExpired", "holdBulk")
DEFAULTS: dict[str, Any] = {
    "latencyMs": None, "errorRate": 0.0, "outage": False, "outageWindows": [], "throttleRps": None,
    "dropAfterApplyRate": 0.0, "dropBeforeApplyRate": 0.0, "timeoutRate": 0.0, "hangMs": 0.0,
    "intermarketLatencyMs": 20.0, "retryAfterSeconds": 30, "passwordExpiresInDays": None,
    "passwordExpired": False, "termsPending": False, "accountLocked": False, "certificateExpired": False, "tokenTtlSeconds": 3600,
    "holdBulk": False, "seed": 0,
}
Z95 = 1.6448536269514722  # standard normal quantile of 0.95


def validate(settings: Any) -> dict[str, Any]:
    """The full fault settings after applying ``settings`` (a partial object) to the defaults."""
    if not isinstance(settings, dict):
        raise ValueError("faults: expected a JSON object")
    out = dict(DEFAULTS)
    for name, value in settings.items():
        if name not in DEFAULTS:
            raise ValueError(f"faults: unknown field {name!r}; known: {', '.join(sorted(DEFAULTS))}")
        if value is None and DEFAULTS[name] is None:
            out[name] = None
        elif name in _NUMBERS:
            low, high = _NUMBERS[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(f"faults: {name} must be a number in [{low:g}, {high:g}], not {value!r}")
            out[name] = float(value)
        elif name in _FLAGS:
            if not isinstance(value, bool):
                raise ValueError(f"faults: {name} must be true or false, not {value!r}")
            out[name] = value
        elif name == "seed":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"faults: seed must be an integer, not {value!r}")
            out[name] = value
        elif name == "latencyMs":
            out[name] = _latency(value)
        elif name == "outageWindows":
            out[name] = _windows(value)
    return out


def _latency(value: Any) -> dict[str, float]:
    ok = isinstance(value, dict) and set(value) == {"p50", "p95"} and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 600000 for v in value.values())
    if not ok or value["p95"] < value["p50"]:
        raise ValueError(f"faults: latencyMs must be {{\"p50\": ms, \"p95\": ms}} with p50 <= p95, not {value!r}")
    return {"p50": float(value["p50"]), "p95": float(value["p95"])}


def _windows(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValueError("faults: outageWindows must be a list of {\"from\", \"to\"}")
    for window in value:
        try:
            if parse_iso(window["from"]) >= parse_iso(window["to"]):
                raise ValueError("empty window")
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"faults: bad outage window {window!r} ({exc})") from exc
    return list(value)


class Faults:
    """The current fault settings and their seeded random source."""

    def __init__(self, settings: dict[str, Any] | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.monotonic = monotonic
        self.update(settings or {})

    def update(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace the settings (validated; fields not given take their defaults) and reseed."""
        self.settings = validate(settings)
        self.rng = random.Random(self.settings["seed"])
        self._windows = [(parse_iso(w["from"]), parse_iso(w["to"])) for w in self.settings["outageWindows"]]
        self._tokens = 1.0
        self._last = self.monotonic()
        self.active = any(self.settings[k] for k in ("latencyMs", "errorRate", "outage", "outageWindows",
                                                     "throttleRps", "dropAfterApplyRate", "dropBeforeApplyRate",
                                                     "timeoutRate", "hangMs", "passwordExpired", "termsPending", "accountLocked",
                                                     "certificateExpired", "passwordExpiresInDays"))
        return self.settings

    def chance(self, name: str) -> bool:
        rate = self.settings[name]
        return rate > 0 and self.rng.random() < rate

    def latency_seconds(self) -> float:
        """One processing delay from a log-normal fitted to p50 and p95 (0 when no latency is set)."""
        latency = self.settings["latencyMs"]
        if not latency or latency["p95"] <= 0:
            return 0.0
        p50, p95 = max(latency["p50"], 0.001), latency["p95"]
        sigma = math.log(p95 / p50) / Z95 if p95 > p50 else 0.0
        return p50 * math.exp(sigma * self.rng.gauss(0.0, 1.0)) / 1000.0

    def intermarket_seconds(self) -> float:
        """Extra delay of an intermarket call: two more samples (hub + foreign repository), or the fixed default."""
        if self.settings["latencyMs"]:
            return self.latency_seconds() + self.latency_seconds()
        return self.settings["intermarketLatencyMs"] / 1000.0

    def in_outage(self, sim_now: float) -> bool:
        return self.settings["outage"] or any(start <= sim_now < end for start, end in self._windows)

    def throttled(self) -> bool:
        """Token bucket: True when this request is above ``throttleRps``."""
        rps = self.settings["throttleRps"]
        if not rps:
            return False
        now = self.monotonic()
        self._tokens = min(1.0, self._tokens + (now - self._last) * rps)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return False
        return True

    def retry_after(self) -> str:
        return str(int(self.settings["retryAfterSeconds"]))
