"""``fmd-simulator seed`` and ``serve`` from the command line, TLS and mutual TLS (issue 3, items 4 and 2)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from fmd_simulator import cli, identifiers
from fmd_simulator.testing import running_simulator

SCRIPT = Path(sys.executable).parent / "fmd-simulator"


def seed_lines(capsys, *args):
    assert cli.main(["seed", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_seed_is_deterministic_and_valid(capsys):
    first = seed_lines(capsys, "--packs", "60", "--seed", "4", "--market", "FR")
    assert first == seed_lines(capsys, "--packs", "60", "--seed", "4", "--market", "FR")
    assert first != seed_lines(capsys, "--packs", "60", "--seed", "5", "--market", "FR")
    assert len(first) == 60 and len({(p["productCode"], p["serial"]) for p in first}) == 60
    for pack in first:
        assert pack["market"] == "FR" and pack["scheme"] == "GTIN" and pack["productCode"].startswith("034009")
        assert identifiers.product_code_error("GTIN", pack["productCode"]) is None
        assert identifiers.is_set82(pack["serial"]) and identifiers.is_set82(pack["batch"])
        assert identifiers.expiry_date(pack["expiry"]) is not None and pack["nhrn"] is None
        assert pack["raw"] == f"]d201{pack['productCode']}17{pack['expiry']}10{pack['batch']}\x1d21{pack['serial']}"
    assert any(p["serial"] != p["serial"].upper() and p["serial"] != p["serial"].lower() for p in first)


def test_seed_german_ppns(capsys):
    packs = seed_lines(capsys, "--packs", "10", "--market", "DE")
    for pack in packs:
        assert pack["scheme"] == "PPN" and identifiers.product_code_error("PPN", pack["productCode"]) is None
        assert pack["raw"] == (f"]d1[)>\x1e06\x1d9N{pack['productCode']}\x1d1T{pack['batch']}\x1dD{pack['expiry']}"
                               f"\x1dS{pack['serial']}\x1e\x04")


def test_usage_and_configuration_errors(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["seed", "--market", "XX"])
    assert exit_info.value.code == 2
    bad = tmp_path / "clients.json"
    bad.write_text('{"not": "a list"}')
    assert cli.main(["serve", "--port", "0", "--clients", str(bad)]) == 3
    assert "clients" in capsys.readouterr().err
    assert cli.main(["serve", "--port", "0", "--connector-port", "0"]) == 3  # no card CA, no TLS: refused
    assert "--connector-port needs --cps-ca" in capsys.readouterr().err


def test_serve_console_script_prints_its_port_and_serves(tmp_path):
    db = tmp_path / "served.sqlite"
    process = subprocess.Popen([str(SCRIPT), "serve", "--port", "0", "--seed-packs", "5", "--db", str(db)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        with urllib.request.urlopen(url + "/ping", timeout=10) as response:
            assert json.load(response) == {"status": "ok"}
        with urllib.request.urlopen(url + "/admin/packs", timeout=10) as response:
            assert len(json.load(response)["packs"]) == 5
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert db.exists()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = trustme.CA()
    base = tmp_path_factory.mktemp("pki")
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("pharmacy-demo@fmd.test")
    files = {"ca": base / "ca.pem", "cert": base / "server.pem", "key": base / "server.key",
             "client": base / "client.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    client.private_key_and_cert_chain_pem.write_to_path(str(files["client"]))
    return {k: os.fspath(v) for k, v in files.items()}


def test_https_and_mutual_tls(pki):
    with running_simulator(tls_cert=pki["cert"], tls_key=pki["key"], client_ca=pki["ca"], seed_packs=1,
                           admin_client_cert=(pki["client"], pki["client"])) as sim:
        assert sim.base_url.startswith("https://")
        assert len(sim.seeded_packs()) == 1
        with_cert = ssl.create_default_context(cafile=pki["ca"])
        with_cert.load_cert_chain(pki["client"])
        with urllib.request.urlopen(sim.base_url + "/ping", context=with_cert, timeout=10) as response:
            assert response.status == 200
        without_cert = ssl.create_default_context(cafile=pki["ca"])
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionResetError, BrokenPipeError)):
            with urllib.request.urlopen(sim.base_url + "/ping", context=without_cert, timeout=10) as response:
                response.read()


def test_served_seed_matches_the_seed_command(capsys):
    with running_simulator(seed_packs=7, seed=2) as sim:
        served = sim.seeded_packs()
    assert served == seed_lines(capsys, "--packs", "7", "--seed", "2", "--market", "FR")


@pytest.mark.parametrize("scheme,code,expected", [
    ("GTIN", "03400930012345", None), ("GTIN", "03400930012346", "NMVS_FE_GR_01"),
    ("GTIN", "04150123456782", None), ("GTIN", "0415012345678", "NMVS_FE_GR_01"),
    ("PPN", "110375286414", None), ("PPN", "111234567842", None), ("PPN", "111234567843", "NMVS_FE_GR_01"),
    ("PPN", "1112345670" + f"{sum(ord(c) * (i + 2) for i, c in enumerate('1112345670')) % 97:02d}", "NMVS_FE_GR_02"),
    ("PPN", "12345", "NMVS_FE_GR_01"), ("GTIN", "", "NMVS_FE_GR_01")])
def test_product_code_checks(scheme, code, expected):
    assert identifiers.product_code_error(scheme, code) == expected


@pytest.mark.parametrize("yymmdd,last_day", [("270200", "2027-02-28"), ("280200", "2028-02-29"), ("271231", "2027-12-31"),
                                             ("271332", None), ("270231", None), ("27123", None), ("2712o1", None)])
def test_expiry_dates(yymmdd, last_day):
    day = identifiers.expiry_date(yymmdd)
    assert (day.isoformat() if day else None) == last_day


def test_the_test_helper_verifies_the_servers_certificate(pki, tmp_path):
    """The helpers never talk to an unverified server: another CA is refused, no CA is an error."""
    other = trustme.CA()
    other_ca = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(other_ca))
    with running_simulator(tls_cert=pki["cert"], tls_key=pki["key"], tls_ca=str(other_ca)) as sim:
        with pytest.raises(ssl.SSLCertVerificationError):
            sim.request("GET", "/ping")
    with pytest.raises(ValueError, match="tls_ca"):
        with running_simulator(tls_cert=pki["cert"], tls_key=pki["key"]):
            pass
    with running_simulator(tls_cert=pki["cert"], tls_key=pki["key"], tls_ca=pki["ca"]) as sim:
        assert sim.request("GET", "/ping")[0] == 200
