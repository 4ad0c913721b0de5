"""Fleet health (README, "Fleet health"): what a terminal tells its site, every 60 s and on change.

Published retained, QoS 1, on ``fmd/<site>/<device>/health``; the link's last will replaces it with
``{"state": "offline"}`` when the terminal vanishes. Fields (null when not known on this terminal yet):

  version, uptime_s, link (service: up/down; ledger: online/offline), pending, oldest_pending_age_s,
  attention, alerts_today, alerts_30d, ops_30d, alert_rate_30d (against ``ALERT_RATE_TARGET``, 0.05 %),
  decommissions_quarter, last_decommission_at, cert_expiry, password_expiry, terms_expiry,
  scanner_calibration (calibrated, not_calibrated, unguarded), storage_headroom_bytes.

"On change" means a change of anything but the clocks (uptime, ages), checked every ``check_s``.
The expiries (POSIX seconds) are the credential health's end dates (``fmd_terminal.credential_health``:
the client certificate's notAfter, the password and terms dates of the last account status), read
again at most every ``CREDENTIALS_EVERY_S``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from fmd_core.site_ledger import VERSION, health_topic
from fmd_terminal.errors import StorageError

log = logging.getLogger(__name__)

ALERT_RATE_TARGET = 0.0005  # France MVO's target: at most 0.05 % of scans end in an alert
CHECK_S = 2.0
CREDENTIALS_EVERY_S = 60.0
EXPIRY_FIELDS = {"certificate": "cert_expiry", "password": "password_expiry", "terms": "terms_expiry"}
_CLOCKS = ("uptime_s", "oldest_pending_age_s", "at")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fmd-scan-terminal")
    except PackageNotFoundError:
        return "unknown"


def _quarter_start_ns(now_s: float) -> int:
    t = time.localtime(now_s)
    month = 3 * ((t.tm_mon - 1) // 3) + 1
    return int(time.mktime((t.tm_year, month, 1, 0, 0, 0, 0, 0, -1)) * 1e9)


def _day_start_ns(now_s: float) -> int:
    t = time.localtime(now_s)
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1)) * 1e9)


def expiries(dues: list[Any]) -> dict[str, int | None]:
    """The health's expiry fields from ``credential_health.dues`` (None: not known on this terminal)."""
    fields: dict[str, int | None] = dict.fromkeys(EXPIRY_FIELDS.values())
    for due in dues:
        if due.kind in EXPIRY_FIELDS:
            fields[EXPIRY_FIELDS[due.kind]] = int(due.until)
    return fields


def outbox_counts(outbox: Any, now_s: float) -> dict[str, Any]:
    """Alerts today and over 30 days, decommissions this quarter and the last one, from the outbox."""
    storage = getattr(outbox, "reading", None)
    if storage is None:
        return {}
    with outbox.reading() as db:
        row = db.execute(
            "SELECT sum(alert_id IS NOT NULL OR alert_code IS NOT NULL) AS alerts_30d, count(*) AS ops_30d, "
            "sum((alert_id IS NOT NULL OR alert_code IS NOT NULL) AND wall_ns >= ?) AS alerts_today, "
            "sum(kind IN ('dispense', 'destroy') AND state = 'done' AND wall_ns >= ?) AS decommissions_quarter, "
            "max(CASE WHEN kind IN ('dispense', 'destroy') AND state = 'done' THEN wall_ns END) AS last_ns "
            "FROM op WHERE wall_ns >= ?",
            (_day_start_ns(now_s), _quarter_start_ns(now_s), int((now_s - 92 * 86400) * 1e9)))[0]
        month = db.execute("SELECT count(*) AS n, sum(alert_id IS NOT NULL OR alert_code IS NOT NULL) AS a "
                           "FROM op WHERE wall_ns >= ?", (int((now_s - 30 * 86400) * 1e9),))[0]
    ops, alerts = month["n"] or 0, month["a"] or 0
    return {"alerts_today": row["alerts_today"] or 0, "alerts_30d": alerts, "ops_30d": ops,
            "alert_rate_30d": (alerts / ops) if ops else None, "alert_rate_target": ALERT_RATE_TARGET,
            "decommissions_quarter": row["decommissions_quarter"] or 0,
            "last_decommission_at": int(row["last_ns"] / 1e9) if row["last_ns"] else None}


class HealthReporter:
    """Publishes the terminal's health on its link: every ``interval_s`` and when it changes."""

    def __init__(self, link: Any, *, outbox: Any = None, ledger: Any = None, interval_s: float = 60.0,
                 check_s: float = CHECK_S, wall: Any = time.time) -> None:
        self.link, self.outbox, self.ledger = link, outbox, ledger
        self.worker: Any = None
        self.scanner: Any = None
        self.credentials: Any = None  # () -> [credential_health.Due]
        self._expiries: dict[str, int | None] = expiries([])
        self._expiries_read: float | None = None
        self.interval_s, self.check_s, self.wall = interval_s, check_s, wall
        self.started = wall()
        self.published: dict[str, Any] | None = None
        self._published_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        link.on_connect(self.publish_now)

    def attach(self, *, worker: Any = None, scanner: Any = None, credentials: Any = None) -> HealthReporter:
        """The worker (link, queue), scanner (calibration) and credential dates (``credentials()``: the
        ``credential_health.dues``) once built; starts the reporting thread."""
        self.worker, self.scanner, self.credentials = worker, scanner, credentials
        self._thread = threading.Thread(target=self._run, name="fmd-health", daemon=True)
        self._thread.start()
        return self

    def snapshot(self) -> dict[str, Any]:
        now = self.wall()
        health: dict[str, Any] = {
            "v": VERSION, "state": "online", "site": self.link.site, "device": self.link.device,
            "counter": getattr(self.ledger, "counter", None), "version": _version(), "at": int(now),
            "uptime_s": int(now - self.started), **self._credential_expiries(now),
        }
        status: dict[str, Any] = {}
        try:
            status = dict(self.worker.status()) if self.worker is not None else {}
            health.update(outbox_counts(self.outbox, now) if self.outbox is not None else {})
            free = getattr(self.outbox, "free_bytes", None)
            headroom = free() if callable(free) else None
            reserve = getattr(self.outbox, "reserve_bytes", 0) or 0
            health["storage_headroom_bytes"] = None if headroom is None else max(0, headroom - reserve)
        except StorageError as error:
            health["storage_fault"] = str(error)
        age = status.get("oldest_age_s")
        health.update(pending=status.get("pending"), attention=status.get("attention"),
                      oldest_pending_age_s=None if age is None else int(age), backlog=status.get("level"),
                      link={"service": "down" if status.get("breaker") == "open" else "up" if status else None,
                            "ledger": "online" if self.link.connected.is_set() else "offline"})
        if self.scanner is not None:
            profile = getattr(self.scanner, "profile", False)
            health["scanner_calibration"] = ("unguarded" if profile is False else
                                             "calibrated" if profile is not None else "not_calibrated")
        else:
            health["scanner_calibration"] = None
        return health

    def _credential_expiries(self, now: float) -> dict[str, int | None]:
        read = self._expiries_read
        if self.credentials is not None and (read is None or not 0 <= now - read < CREDENTIALS_EVERY_S):
            self._expiries, self._expiries_read = expiries(self.credentials()), now
        return dict(self._expiries)

    def publish_now(self) -> None:
        """Publish the health at once (on connect, on change, every interval)."""
        try:
            health = self.snapshot()
        except StorageError as error:
            log.warning("health not published: %s", error)
            return
        self.link.publish(health_topic(self.link.site, self.link.device), health, retain=True)
        self.published, self._published_at = health, time.monotonic()

    def changed(self, health: dict[str, Any]) -> bool:
        if self.published is None:
            return True
        strip = lambda h: {k: v for k, v in h.items() if k not in _CLOCKS}  # noqa: E731
        return strip(health) != strip(self.published)

    def _run(self) -> None:
        while not self._stop.wait(self.check_s):
            try:
                due = time.monotonic() - self._published_at >= self.interval_s
                if due or self.changed(self.snapshot()):
                    self.publish_now()
            except Exception:  # the reporter's top-level loop: log and go on (ARCHITECTURE.md, "Errors")
                log.exception("health report failed; retrying")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
