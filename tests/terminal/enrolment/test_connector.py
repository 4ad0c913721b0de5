"""The connector route (issue 14, item 4): a CPS card's key in a token, the Ordre's connector in between.

A test "health-professional card" CA issues a card certificate with the holder's name and RPPS number
in its subject, as on a CPS card; its key sits in a real SoftHSM2 token, named by a ``pkcs11:`` URI.
``fmd-terminal run`` verifies a pack through the connector (``fmd_simulator.connector``), which maps
the card to the pharmacy subscribed on the connector route. The connector's log keeps a keyed
pseudonym of the holder; the holder's name and RPPS number appear nowhere: not in the connector's
log, nor in the terminal's logs, journal or outbox."""

import datetime as dt
import json
import os
import sqlite3
import ssl
import subprocess
import sys

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from enrol_site import LETTERS, subscription_site
from softhsm import PIN, module_path, shared_token
from two_protocols import seed

from fmd_simulator.connector import Connector, pseudonym

pytestmark = pytest.mark.skipif(module_path() is None, reason="SoftHSM2 is not installed (make system-packages)")

HOLDER, RPPS = "Jeanne Dupont-Lefèvre", "810001234567"


def card_certificate(ca: trustme.CA, finess: str) -> tuple[bytes, bytes]:
    """A CPS-like certificate: holder's name (CN), RPPS number (serialNumber), structure FINESS (OU)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), None)
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOLDER),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, RPPS),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, finess),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pharmacie test")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="module")
def connector(mtls_sim, tmp_path_factory):
    letter = LETTERS[7]
    with subscription_site(mtls_sim) as site:
        assert site.subscribe(letter, route="connector").status_code == 200
    cps_ca = trustme.CA()
    pki = mtls_sim.pki
    cps_bundle = pki.write("cps-ca.pem", cps_ca.cert_pem.bytes())
    upstream = ssl.create_default_context(cafile=pki.ca_bundle)
    upstream.load_cert_chain(*mtls_sim.client_files)  # the connector's own certificate towards the service
    cert, key = pki.server_files(name="connector")
    relay = Connector(upstream=mtls_sim.base_url, account=mtls_sim.app.enrolment.connector_account, cps_ca=cps_bundle,
                      tls_cert=cert, tls_key=key, upstream_context=upstream)
    port = relay.start()
    card_cert, card_key = card_certificate(cps_ca, letter.finess)
    token = shared_token(tmp_path_factory)
    uri = token.import_key(card_key, "cps-auth", "0c")
    relay.card = (pki.write("cps-card.pem", card_cert), uri)
    relay.cps_ca = cps_ca
    relay.url = f"https://127.0.0.1:{port}"
    relay.account_id = "ph-" + letter.finess
    yield relay
    relay.stop()


def test_a_verify_through_the_connector_leaves_only_a_pseudonym(tmp_path, connector, mtls_sim):
    (pack,) = seed(mtls_sim, 1, 62000)
    secrets_file = tmp_path / "secrets.toml"
    # The login is the connector's business: the terminal sends placeholders, nothing about the holder.
    secrets_file.write_text(f'client_id = "connector"\nclient_secret = "connector"\nclient_key_pin = "{PIN}"\n')
    secrets_file.chmod(0o600)
    config = tmp_path / "terminal.toml"
    cert, uri = connector.card
    config.write_text(f'mode = "verify"\n[service]\nurl = "{connector.url}"\nca_bundle = "{mtls_sim.pki.ca_bundle}"\n'
                      f'client_cert = "{cert}"\nclient_key = "{uri}"\nsecrets_file = "{secrets_file}"\n'
                      '[sync]\nprobe_gap_s = 0.01\n')
    script = tmp_path / "scans.jsonl"
    script.write_text(json.dumps({"raw": pack["raw"]}) + "\n")
    outbox, events = tmp_path / "outbox.db", tmp_path / "events.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    done = subprocess.run([sys.executable, "-m", "fmd_terminal", "-vv", "run", "--config", str(config), "--scanner",
                           f"script://{script}", "--screen", "console://", "--outbox", f"sqlite://{outbox}",
                           "--events-jsonl", str(events)], capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, done.stderr
    scans = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["light"], e["service_code"]) for e in scans] == [("green", "NMVS_SUCCESS")]
    history = mtls_sim.history(pack["scheme"], pack["productCode"], pack["serial"])["history"]
    assert [h["client"] for h in history] == [connector.account_id]  # the pharmacy's account
    # The connector's log: a keyed pseudonym of the holder, never the name or the RPPS number.
    assert connector.log and {e["holder"] for e in connector.log} == {pseudonym(connector.key, RPPS)}
    assert pseudonym(connector.key, RPPS) != pseudonym(b"another key", RPPS)
    # Nothing about the holder anywhere: connector log, terminal logs (-vv), journal, outbox.
    dump = "\n".join(sqlite3.connect(outbox).iterdump())
    for place, text in (("connector log", json.dumps(connector.log, ensure_ascii=False)),
                        ("terminal logs", done.stderr + done.stdout), ("journal", events.read_text()),
                        ("outbox", dump)):
        for secret in (RPPS, "Dupont", "Jeanne"):
            assert secret not in text, (place, secret)


def _ping_with_card(tmp_path, connector, ca_bundle, ca, finess):
    from fmd_terminal.verification.factory import open_service

    cert_pem, key_pem = card_certificate(ca, finess)
    cert, key = tmp_path / f"card-{finess}.pem", tmp_path / f"card-{finess}-key.pem"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    key.chmod(0o600)
    client = open_service(connector.url, client_id="connector", client_secret="connector", client_cert=str(cert),
                          client_key=str(key), ca_bundle=ca_bundle, timeouts={"connect": 5, "read": 10, "total": 15})
    try:
        return client.ping()
    finally:
        client.close()


def test_cards_the_connector_cannot_map_are_refused(tmp_path, connector, mtls_sim):
    """A card of another CA: refused in the TLS handshake (nothing sent). A card of the CPS CA whose
    structure has no connector subscription: 403, logged under its pseudonym, nothing forwarded."""
    other = _ping_with_card(tmp_path, connector, mtls_sim.pki.ca_bundle, trustme.CA(), "690000000")
    assert other.transport == "not_sent" and other.transport_error == "tls_client_cert", other.detail
    before = len(connector.log)
    unmapped = _ping_with_card(tmp_path, connector, mtls_sim.pki.ca_bundle, connector.cps_ca, "690000000")
    assert unmapped.transport == "not_sent" and "HTTP 403" in unmapped.detail  # the token was refused
    assert [(e["status"], e["finess"]) for e in connector.log[before:]] == [(403, "690000000")]
    assert RPPS not in json.dumps(connector.log)


def test_fmd_simulator_serve_runs_the_connector(tmp_path):
    """``fmd-simulator serve --connector-port 0``: the connector starts with the simulator, on loopback,
    in front of it; a card of a pharmacy subscribed on the connector route is let through under its
    keyed pseudonym, an unmapped card is refused (403); the log file never names the holder."""
    from pathlib import Path

    import requests

    from fmd_terminal.verification.factory import open_service

    ca, cps_ca = trustme.CA(), trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    files = {name: tmp_path / name for name in ("ca.pem", "server.pem", "server.key", "cps.pem")}
    ca.cert_pem.write_to_path(str(files["ca.pem"]))
    issued.cert_chain_pems[0].write_to_path(str(files["server.pem"]))
    issued.private_key_pem.write_to_path(str(files["server.key"]))
    cps_ca.cert_pem.write_to_path(str(files["cps.pem"]))
    log = tmp_path / "connector.jsonl"
    script = Path(sys.executable).parent / "fmd-simulator"
    process = subprocess.Popen([str(script), "serve", "--port", "0", "--tls-cert", str(files["server.pem"]),
                                "--tls-key", str(files["server.key"]), "--connector-port", "0",
                                "--cps-ca", str(files["cps.pem"]), "--connector-upstream-ca", str(files["ca.pem"]),
                                "--connector-log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        line = process.stdout.readline()
        assert line.startswith("connector listening on https://127.0.0.1:"), (line, process.stderr.read())
        connector_url = line.split()[-1]
        letter = LETTERS[5]
        form = {"identifier": letter.identifier, "finess": letter.finess, "route": "connector"}
        assert requests.post(url + "/subscribe", data=form, verify=str(files["ca.pem"]), timeout=30).status_code == 200

        def ping(finess):
            cert_pem, key_pem = card_certificate(cps_ca, finess)
            cert, key = tmp_path / f"card-{finess}.pem", tmp_path / f"card-{finess}.key"
            cert.write_bytes(cert_pem)
            key.write_bytes(key_pem)
            key.chmod(0o600)
            client = open_service(connector_url, client_id="connector", client_secret="connector",
                                  client_cert=str(cert), client_key=str(key), ca_bundle=str(files["ca.pem"]),
                                  timeouts={"connect": 5, "read": 20, "total": 30})
            try:
                return client.ping()
            finally:
                client.close()

        answer = ping(letter.finess)
        assert answer.operation_code == "NMVS_SUCCESS", answer.detail
        refused = ping("690000000")
        assert refused.transport == "not_sent" and "HTTP 403" in refused.detail
    finally:
        process.terminate()
        process.communicate(timeout=30)
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    assert {(e["finess"], e["status"]) for e in entries} == {(letter.finess, 200), ("690000000", 403)}
    holders = {e["holder"] for e in entries}
    assert len(holders) == 1 and len(holders.pop()) == 32  # one card holder, one keyed pseudonym
    for secret in (RPPS, "Dupont", "Jeanne"):
        assert secret not in text
