"""fmd-provision new-device: bundles with a fresh key and CSR, or an imported certificate."""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fmd_terminal import config as terminal_config

SERVICE = "https://mvs.example.test/api"


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def make_cert(tmp_path, key_mode=0o600):
    """A self-signed certificate and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "pharm-07")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "in.crt", tmp_path / "in.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(key_mode)
    return cert_path, key_path


def test_fresh_key_and_csr(provision, tmp_path):
    out = tmp_path / "bundle"
    run = provision("new-device", "--out", out, "--device-id", "pharm-01", "--service", SERVICE,
                    "--organization", "Pharmacie du Port", "--country", "fr")
    assert run.code == 0, run.err
    assert sorted(p.name for p in out.iterdir()) == ["device.csr", "device.key", "fmd-terminal.toml"]
    assert mode_of(out / "device.key") == 0o600
    assert mode_of(out) == 0o700
    key = serialization.load_pem_private_key((out / "device.key").read_bytes(), password=None)
    csr = x509.load_pem_x509_csr((out / "device.csr").read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "C=FR,O=Pharmacie du Port,CN=pharm-01"
    assert csr.public_key() == key.public_key()
    # the key never reaches the terminal's output
    assert "PRIVATE KEY" not in run.out + run.err
    # the terminal itself accepts the configuration
    loaded = terminal_config.load(str(out / "fmd-terminal.toml")).validate()
    assert loaded.service == SERVICE
    assert loaded.client_id == "pharm-01"
    assert loaded.client_key == "/etc/fmd-terminal/device.key"
    assert loaded.lang == "fr"


def test_two_devices_get_different_keys(provision, tmp_path):
    for name in ("a", "b"):
        assert provision("new-device", "--out", tmp_path / name, "--device-id", name, "--service", SERVICE).code == 0
    assert (tmp_path / "a" / "device.key").read_bytes() != (tmp_path / "b" / "device.key").read_bytes()


def test_imported_certificate(provision, tmp_path):
    cert, key = make_cert(tmp_path)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('client_id = "pharm-07"\nclient_secret = "s3cret-value"\n')
    secrets.chmod(0o600)
    out = tmp_path / "bundle"
    run = provision("new-device", "--out", out, "--device-id", "pharm-07", "--service", SERVICE,
                    "--cert", cert, "--key", key, "--ca", cert, "--secrets", secrets, "--lang", "de",
                    "--scanner", "serial:///dev/fmd-scanner-serial")
    assert run.code == 0, run.err
    assert sorted(p.name for p in out.iterdir()) == ["ca.crt", "device.crt", "device.key", "fmd-terminal.toml",
                                                      "secrets.toml"]
    assert (out / "device.key").read_bytes() == key.read_bytes()
    assert mode_of(out / "device.key") == 0o600
    assert mode_of(out / "secrets.toml") == 0o600
    assert "s3cret-value" not in run.out + run.err
    text = (out / "fmd-terminal.toml").read_text()
    assert "s3cret" not in text
    assert 'scanner = "serial:///dev/fmd-scanner-serial"' in text
    assert 'ca_bundle = "/etc/fmd-terminal/ca.crt"' in text
    assert 'secrets_file = "secrets.toml"' in text


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("loose-key", "has mode 0644, expected 0600"),
        ("missing-key", "does not exist"),
        ("other-key", "does not belong to key"),
        ("not-a-cert", "is not a PEM X.509 certificate"),
        ("cert-only", "--cert and --key go together"),
        ("loose-secrets", "has mode 0640, expected 0600"),
        ("bad-id", "device id 'bad id' is not usable"),
        ("http-less", "expected https://HOST/... or nmvs-soap+https://HOST/..."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(provision, tmp_path, setup, message):
    cert, key = make_cert(tmp_path, key_mode=0o644 if setup == "loose-key" else 0o600)
    args = ["--cert", cert, "--key", key]
    device_id, service = "pharm-07", SERVICE
    if setup == "missing-key":
        args = ["--cert", cert, "--key", tmp_path / "nowhere.key"]
    elif setup == "other-key":
        (tmp_path / "other").mkdir()
        _, other_key = make_cert(tmp_path / "other")
        args = ["--cert", cert, "--key", other_key]
    elif setup == "not-a-cert":
        bogus = tmp_path / "bogus.crt"
        bogus.write_text("hello\n")
        args = ["--cert", bogus, "--key", key]
    elif setup == "cert-only":
        args = ["--cert", cert]
    elif setup == "loose-secrets":
        secrets = tmp_path / "secrets.toml"
        secrets.write_text('client_id = "a"\nclient_secret = "b"\n')
        secrets.chmod(0o640)
        args = ["--secrets", secrets]
    elif setup == "bad-id":
        device_id = "bad id"
    elif setup == "http-less":
        service = "mvs.example.test"
    out = tmp_path / "bundle"
    run = provision("new-device", "--out", out, "--device-id", device_id, "--service", service, *args)
    assert run.code == 3
    assert run.err.startswith("fmd-provision: ")
    assert message in run.err
    assert "Traceback" not in run.err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bundle")] == []


def test_existing_bundle_needs_force(provision, tmp_path):
    out = tmp_path / "bundle"
    assert provision("new-device", "--out", out, "--device-id", "a", "--service", SERVICE).code == 0
    first_key = (out / "device.key").read_bytes()
    run = provision("new-device", "--out", out, "--device-id", "a", "--service", SERVICE)
    assert run.code == 4
    assert "already exists" in run.err
    assert (out / "device.key").read_bytes() == first_key
    assert provision("new-device", "--out", out, "--device-id", "a", "--service", SERVICE, "--force").code == 0
    assert (out / "device.key").read_bytes() != first_key
    assert sorted(os.listdir(tmp_path)) == ["bundle"]


def test_default_device_urls_name_schemes_the_terminal_knows():
    from fmd_provision.bundle import DEFAULT_DEVICES
    from fmd_terminal.indicators.factory import INDICATORS
    from fmd_terminal.outbox.factory import OUTBOXES
    from fmd_terminal.scanners.factory import SCHEMES
    from fmd_terminal.screens.factory import SCREENS
    from fmd_terminal.urls import scheme_of

    tables = {"scanner": SCHEMES, "screen": SCREENS, "indicators": INDICATORS, "outbox": OUTBOXES}
    for port, url in DEFAULT_DEVICES.items():
        assert scheme_of(url) in tables[port], (port, url)


@pytest.mark.parametrize("service", ["nmvs-soap+https://nmvs.example.fr/soap?user=COUNTER-1",
                                     "https://mvs.example.test/api", "http://127.0.0.1:8080", "http://[::1]:8080/",
                                     "http://127.8.9.10:1234/x", "http://localhost:8080"])
def test_service_urls_of_the_readme_and_loopback_simulators_are_accepted(provision, tmp_path, service):
    out = tmp_path / "bundle"
    run = provision("new-device", "--out", out, "--device-id", "pharm-02", "--service", service)
    assert run.code == 0, run.err
    assert terminal_config.load(str(out / "fmd-terminal.toml")).validate().service == service


@pytest.mark.parametrize("service", ["http://mvs.example.test/api", "http://192.168.1.10:8080",
                                     "nmvs-soap+http://nmvs.example.fr/soap", "http://10.0.0.1"])
def test_plain_http_beyond_loopback_is_refused(provision, tmp_path, service):
    out = tmp_path / "bundle"
    run = provision("new-device", "--out", out, "--device-id", "pharm-02", "--service", service)
    assert run.code == 3
    assert "in clear" in run.err and run.err.startswith("fmd-provision: service URL ")
    assert not out.exists()


@pytest.mark.parametrize("service", ["ftp://mvs.example.test", "https://", "nmvs-soap+https:///soap", "https://[::1"])
def test_service_urls_without_a_usable_scheme_or_host_are_refused(provision, tmp_path, service):
    run = provision("new-device", "--out", tmp_path / "bundle", "--device-id", "pharm-02", "--service", service)
    assert run.code == 3 and "is not usable" in run.err, run.err
