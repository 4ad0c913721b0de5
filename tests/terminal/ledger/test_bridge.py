"""A site broker bridged to a central broker, both real Mosquitto instances on loopback, written by
``fmd-provision site-broker --central`` and ``fmd-provision central-broker`` (TLS, their certificates):
a terminal's health published on the site broker reaches ``fmd-fleet`` on the central one, and the
ACLs hold across the bridge (a forged health is dropped at the site, the bridge's identity writes its
own site's health only, a site's device certificate is not accepted by the central broker)."""

from __future__ import annotations

import json
import ssl
import time

import paho.mqtt.client as mqtt
import pytest

from fmd_fleet.cli import subscribe
from fmd_fleet.state import Fleet
from fmd_provision.mosquitto import running_central, running_site
from fmd_provision.site_broker import load_ca
from fmd_terminal.ledger.health import HealthReporter
from fmd_terminal.ledger.mqtt import SiteLink


def _wait(predicate, timeout_s: float = 30.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not predicate():
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def bridged(tmp_path):
    with running_central(tmp_path / "central", ["pharmacy1", "pharmacy2"], readers=["fleet"]) as central, \
            running_site(tmp_path / "site", "pharmacy1", ["counter1", "counter2"], central=f"127.0.0.1:{central.port}",
                         central_ca=load_ca(central.directory)) as site:
        yield site, central


def _client(broker_ca: str, identity: tuple[str, str], client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=broker_ca, certfile=identity[0], keyfile=identity[1])
    return client


def test_health_crosses_the_bridge_and_the_acl_holds_across_it(bridged):
    site, central = bridged
    conf = (site.directory / "mosquitto.conf").read_text()
    assert f"address 127.0.0.1:{central.port}" in conf and "topic fmd/pharmacy1/+/health out 1" in conf
    fleet = Fleet()
    reader = subscribe(fleet, central.host, central.port, central.ca, *central.identity("fleet"), client_id="fleet")
    cert, key = site.identity("counter1")
    link = SiteLink(host=site.host, port=site.port, site="pharmacy1", device="counter1", ca=site.ca, cert=cert,
                    key=key)
    reporter = HealthReporter(link)  # the terminal's own reporter: publishes on connect
    rogue = _client(central.ca, site.identity("bridge-pharmacy1"), "rogue")  # the bridge's identity, directly
    try:
        link.start()
        assert _wait(lambda: "pharmacy1/counter1" in fleet.devices), "the health never reached the central broker"
        health = fleet.devices["pharmacy1/counter1"]
        assert (health["state"], health["device"], health["link"]["ledger"]) == ("online", "counter1", "online")

        # on the site, counter1 forges counter2's health (the site's ACL drops it), then its own: in order
        link.publish("fmd/pharmacy1/counter2/health", {"v": 1, "state": "online", "forged": True})
        link.publish("fmd/pharmacy1/counter1/health", {"v": 1, "state": "online", "marker": 1}, retain=True)
        assert _wait(lambda: fleet.devices["pharmacy1/counter1"].get("marker") == 1)
        assert "pharmacy1/counter2" not in fleet.devices

        # on the central, the bridge's identity may write its own site's health only
        rogue.connect(central.host, central.port)
        rogue.loop_start()
        for topic, payload in (("fmd/pharmacy2/x/health", {"forged": True}), ("fmd/pharmacy1/y/health", {"own": 1})):
            rogue.publish(topic, json.dumps(payload), qos=1).wait_for_publish(20)
        assert _wait(lambda: "pharmacy1/y" in fleet.devices)
        assert "pharmacy2/x" not in fleet.devices

        # a device certificate of the site is not an identity on the central broker
        device = _client(central.ca, site.identity("counter2"), "counter2")
        accepted = []
        device.on_connect = lambda _c, _u, _f, reason, _p: accepted.append(reason)
        try:  # TLS 1.3: the refusal of the certificate may come after the handshake
            device.connect(central.host, central.port)
            for _ in range(20):
                device.loop(timeout=0.1)
        except (ssl.SSLError, OSError):
            pass
        assert accepted == [] and not device.is_connected()
    finally:
        reporter.close()
        link.close()
        rogue.loop_stop()
        reader.loop_stop()
