"""Fleet health end to end: a real terminal (the two-counter rig) publishes its health to a real
Mosquitto; ``fmd-fleet`` subscribes, serves Prometheus metrics and the fleet page (red rows first);
a device that vanishes is turned "offline" by its last will and comes first on the page."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest
from test_two_counters import Counter
from two_protocols import seed

from fmd_fleet.cli import serve, subscribe
from fmd_fleet.state import Fleet
from fmd_terminal.ledger.mqtt import SiteLink


def _wait(predicate, timeout_s=30.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not predicate():
        time.sleep(0.05)
    return predicate()


def _get(port: int, path: str, lang: str | None = None) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Language": lang or ""})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()


def test_a_terminal_s_health_reaches_the_metrics_and_its_last_will_turns_it_red(tmp_path, site, mtls_sim):
    broker = site
    fleet = Fleet()
    ca, (cert, key) = broker.ca, broker.identity("fleet")
    client = subscribe(fleet, broker.host, broker.port, ca, cert, key, client_id="fleet")
    server = serve(fleet, "127.0.0.1", 0)
    port = server.server_address[1]
    counter = Counter(tmp_path, mtls_sim, broker, "counter1", "1")
    other = SiteLink(host=broker.host, port=broker.port, site="pharmacy1", device="counter2", ca=ca,
                     cert=broker.identity("counter2")[0], key=broker.identity("counter2")[1]).start()
    try:
        assert _wait(lambda: "pharmacy1/counter1" in fleet.devices)
        health = fleet.devices["pharmacy1/counter1"]
        for field in ("version", "uptime_s", "link", "pending", "attention", "alerts_today", "decommissions_quarter",
                      "scanner_calibration", "storage_headroom_bytes", "cert_expiry"):
            assert field in health, field
        assert health["link"]["ledger"] == "online" and health["pending"] == 0
        assert health["decommissions_quarter"] == 0 and health["scanner_calibration"] == "unguarded"
        (pack,) = seed(mtls_sim, 1, 47100)
        counter.scan(pack["raw"])
        assert counter.verdicts(1)[0].outcome == "decommissioned"
        # on change, not only every 60 s: the new decommission reaches the fleet within seconds
        assert _wait(lambda: fleet.devices["pharmacy1/counter1"].get("decommissions_quarter") == 1, 30)
        assert fleet.devices["pharmacy1/counter1"]["last_decommission_at"] is not None
        metrics = _get(port, "/metrics")
        assert 'fmd_device_up{device="counter1",site="pharmacy1"} 1.0' in metrics
        assert 'fmd_device_pending{device="counter1",site="pharmacy1"} 0.0' in metrics
        # counter2 vanishes without a goodbye: the broker publishes its last will
        assert other.connected.wait(30)
        other.client.loop_stop()
        other.client.socket().close()
        assert _wait(lambda: fleet.devices.get("pharmacy1/counter2", {}).get("state") == "offline", 60)
        page = _get(port, "/", lang="de")
        assert page.index("counter2") < page.index("counter1") and "offline" in page
        assert 'fmd_device_up{device="counter2",site="pharmacy1"} 0.0' in _get(port, "/metrics")
    finally:
        counter.close()
        server.shutdown()
        server.server_close()
        client.loop_stop()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_the_health_carries_the_credentials_expiry_and_the_fleet_turns_it_red(tmp_path, site, mtls_sim):
    """The certificate's notAfter (the client certificate file), the password and terms dates (the last
    account status of the enrolment directory) reach fmd-fleet; a password 3 days from its end is red."""
    import datetime as dt
    import json

    from fmd_terminal.verification.transport import certificate_validity

    now = time.time()
    enrolment = tmp_path / "enrolment"
    enrolment.mkdir()
    password_at = int(now + 3 * 86400)
    terms_at = int(now + 20 * 86400)
    iso = lambda s: dt.datetime.fromtimestamp(s, dt.UTC).isoformat()  # noqa: E731
    (enrolment / "account.json").write_text(json.dumps(
        {"passwordExpiresAt": iso(password_at), "terms": {"deadline": iso(terms_at), "accepted": False}}))
    fleet = Fleet()
    ca, (cert, key) = site.ca, site.identity("fleet")
    client = subscribe(fleet, site.host, site.port, ca, cert, key, client_id="fleet")
    counter = Counter(tmp_path, mtls_sim, site, "counter1", "1", enrolment_dir=str(enrolment))
    try:
        assert _wait(lambda: "pharmacy1/counter1" in fleet.devices)
        health = fleet.devices["pharmacy1/counter1"]
        assert health["cert_expiry"] == int(certificate_validity(mtls_sim.client_files[0])[1])
        assert (health["password_expiry"], health["terms_expiry"]) == (password_at, terms_at)
        (level, reasons), = [(lvl, why) for key, lvl, why, _h in fleet.rows() if key == "pharmacy1/counter1"]
        assert level == "red" and set(reasons) == {"expiring"}, reasons
    finally:
        counter.close()
        client.loop_stop()
