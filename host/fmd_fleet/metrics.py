"""Prometheus metrics of the fleet (prometheus_client): one gauge family per health field, by device."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fmd_fleet.state import LEVELS, Fleet

# metric name -> (health field, help)
GAUGES = {
    "fmd_device_pending": ("pending", "Ops waiting in the device's outbox"),
    "fmd_device_oldest_pending_age_seconds": ("oldest_pending_age_s", "Age of the oldest op still to send"),
    "fmd_device_attention": ("attention", "Ops that need a person"),
    "fmd_device_alerts_today": ("alerts_today", "Alerts raised by the device's scans today"),
    "fmd_device_alert_rate_30d": ("alert_rate_30d", "Share of scans that ended in an alert over 30 days"),
    "fmd_device_decommissions_quarter": ("decommissions_quarter", "Decommissions this quarter"),
    "fmd_device_uptime_seconds": ("uptime_s", "Time since the terminal started"),
    "fmd_device_storage_headroom_bytes": ("storage_headroom_bytes", "Free storage above the outbox's reserve"),
}


class FleetCollector(Collector):
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def collect(self) -> Iterator[Any]:
        rows = self.fleet.rows()
        now = self.fleet.clock()
        up = GaugeMetricFamily("fmd_device_up", "1 while the device reports, 0 after its last will",
                               labels=["site", "device"])
        level = GaugeMetricFamily("fmd_fleet_devices", "Devices by level", labels=["level"])
        age = GaugeMetricFamily("fmd_device_state_age_seconds", "Time since the device's state was received",
                                labels=["site", "device"])
        families = {name: GaugeMetricFamily(name, text, labels=["site", "device"])
                    for name, (_field, text) in GAUGES.items()}
        counts = dict.fromkeys(LEVELS, 0)
        with self.fleet.lock:
            received = dict(self.fleet.received)
        for key, device_level, _reasons, health in rows:
            site, device = key.split("/", 1)
            counts[device_level] += 1
            up.add_metric([site, device], 0.0 if health.get("state") == "offline" else 1.0)
            age.add_metric([site, device], max(0.0, now - received.get(key, now)))
            for name, (field, _text) in GAUGES.items():
                value = health.get(field)
                if isinstance(value, int | float):
                    families[name].add_metric([site, device], float(value))
        for name in LEVELS:
            level.add_metric([name], counts[name])
        delay = GaugeMetricFamily("fmd_fleet_state_delay_seconds",
                                  "How late device states reached fmd-fleet (received - sent), by quantile",
                                  labels=["quantile"])
        for q in (0.5, 0.95, 0.99):
            value = self.fleet.delay_quantile(q)
            if value is not None:
                delay.add_metric([str(q)], value)
        yield from (up, level, age, delay, *families.values())
