"""A site's broker from ``fmd-provision site-broker``: a real Mosquitto with client certificates and the
generated per-site ACL. A device reaches its own site's claims and ledger and writes its own health; it
can neither publish to nor read another site's topics; a client without a certificate of the site's CA
is refused at the TLS handshake."""

from __future__ import annotations

import ssl
import stat
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from fmd_provision.cli import main as provision_main
from fmd_provision.mosquitto import running_site


class Client:
    """A paho MQTT 5 client under one device identity, collecting what it receives."""

    def __init__(self, broker, name: str) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.connected = threading.Event()
        self.granted: list = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        cert, key = broker.identity(name)
        self.client.tls_set(ca_certs=broker.ca, certfile=cert, keyfile=key)
        self.client.on_message = lambda _c, _u, msg: self.received.append((msg.topic, msg.payload))
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_subscribe = self._on_subscribe
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.connected.wait(20)

    def _on_subscribe(self, _c, _u, _mid, codes, _props):
        self.granted = list(codes)
        self.subscribed.set()

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(20)

    def publish(self, topic: str, payload: bytes = b"x", retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(20)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _wait_for(predicate, timeout_s: float = 20.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def broker(tmp_path):
    with running_site(tmp_path / "broker", "pharmacyA", ["a1", "a2"], readers=["fleet"],
                      more_sites={"pharmacyB": ["b1"]}) as running:
        yield running


def test_keys_are_private_and_acl_is_per_site(broker):
    d = broker.directory
    for key in [d / "ca.key", d / "broker.key", d / "devices" / "a1.key"]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    acl = (d / "acl").read_text()
    assert "user a1\ntopic readwrite fmd/pharmacyA/claim/#" in acl
    assert "topic write fmd/pharmacyA/a1/health" in acl
    assert "user b1\ntopic readwrite fmd/pharmacyB/claim/#" in acl
    conf = (d / "mosquitto.conf").read_text()
    assert "require_certificate true" in conf and "use_identity_as_username true" in conf
    assert f"listener {broker.port} 127.0.0.1" in conf


def test_devices_of_a_site_share_its_ledger(broker):
    a1, a2 = Client(broker, "a1"), Client(broker, "a2")
    try:
        a2.subscribe("fmd/pharmacyA/ledger/#")
        a1.publish("fmd/pharmacyA/ledger/k1", b"entry")
        assert _wait_for(lambda: ("fmd/pharmacyA/ledger/k1", b"entry") in a2.received)
    finally:
        a1.close()
        a2.close()


def test_unauthorised_device_cannot_publish_to_or_read_another_site(broker):
    """a1 (site A) writes into site B's ledger and claims and reads them; b1 (site B) does the same
    towards A. Nothing crosses; and a device cannot write another device's health."""
    a1, b1, a2 = Client(broker, "a1"), Client(broker, "b1"), Client(broker, "a2")
    try:
        b1.subscribe("fmd/pharmacyB/#")
        a1.subscribe("fmd/pharmacyB/#")  # not allowed: granted, but nothing is ever delivered
        a2.subscribe("fmd/pharmacyA/#")
        a1.publish("fmd/pharmacyB/ledger/k1", b"forged", retain=True)
        a1.publish("fmd/pharmacyB/claim/k1", b"forged")
        b1.publish("fmd/pharmacyA/ledger/k2", b"forged", retain=True)
        a1.publish("fmd/pharmacyA/a2/health", b"forged")  # another device's health
        b1.publish("fmd/pharmacyB/ledger/k3", b"own")  # allowed: proves b1's subscription works
        a1.publish("fmd/pharmacyA/ledger/k4", b"own")  # allowed: proves a2's subscription works
        assert _wait_for(lambda: ("fmd/pharmacyB/ledger/k3", b"own") in b1.received)
        assert _wait_for(lambda: ("fmd/pharmacyA/ledger/k4", b"own") in a2.received)
        time.sleep(0.3)
        assert [m for m in b1.received if m[1] == b"forged"] == []
        assert [m for m in a2.received if m[1] == b"forged"] == []
        assert a1.received == []  # a1 read nothing of site B
    finally:
        for client in (a1, b1, a2):
            client.close()


def test_a_client_without_the_sites_certificate_is_refused(broker, tmp_path):
    import trustme

    other = trustme.CA()
    cert = other.issue_cert("a1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "stranger.pem"))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="stranger", protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=broker.ca, certfile=str(tmp_path / "stranger.pem"))
    accepted = []
    client.on_connect = lambda _c, _u, _f, reason, _p: accepted.append(reason)
    try:  # TLS 1.3: the server's refusal of the certificate may come after the handshake
        client.connect(broker.host, broker.port)
        for _ in range(20):
            client.loop(timeout=0.1)
    except (ssl.SSLError, OSError):
        pass  # refused at the handshake
    assert accepted == [] and not client.is_connected()


def test_cli_writes_the_bridge_and_device_certificates(tmp_path, capsys):
    out, central = tmp_path / "site", tmp_path / "central"
    site_args = ["site-broker", "--site", "pharmacyA", "--device", "a1", "--device", "a2", "--reader", "fleet",
                 "--central", "127.0.0.1:8884", "--port", "18883", "--out", str(out)]
    assert provision_main(site_args) == 3  # the bridge's certificate needs the central broker's CA
    assert "--central-dir" in capsys.readouterr().err
    assert provision_main(["central-broker", "--site", "pharmacyA", "--reader", "fleet", "--port", "8884",
                           "--out", str(central)]) == 0
    central_ca = (central / "ca.crt").read_bytes()
    assert "user bridge-pharmacyA\ntopic write fmd/pharmacyA/+/health" in (central / "acl").read_text()
    assert provision_main(site_args + ["--central-dir", str(central)]) == 0
    assert (out / "central-ca.crt").read_bytes() == central_ca
    # adding a site keeps the central CA, so the bridges' certificates stay valid
    assert provision_main(["central-broker", "--site", "pharmacyA", "--site", "pharmacyB", "--out", str(central)]) == 0
    assert (central / "ca.crt").read_bytes() == central_ca and "bridge-pharmacyB" in (central / "acl").read_text()
    conf = (out / "mosquitto.conf").read_text()
    assert "topic fmd/pharmacyA/+/health out 1" in conf
    assert "claim" not in conf.split("connection", 1)[1] and "ledger" not in conf.split("connection", 1)[1]
    for name in ("a1", "a2", "fleet", "bridge-pharmacyA"):
        assert (out / "devices" / f"{name}.crt").exists()
    assert provision_main(["site-broker", "--site", "bad/site", "--device", "a1", "--out", str(out)]) == 3
    assert "letters, digits" in capsys.readouterr().err
