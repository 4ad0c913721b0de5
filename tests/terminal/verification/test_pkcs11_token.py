"""Keys in a token (issue 14, item 3): a client key held by a real SoftHSM2 token, named by an RFC 7512
``pkcs11:`` URI, authenticates the terminal over mutual TLS to the simulator over REST and SOAP; TLS
verification stays on, the PIN comes from the secrets file, and every misconfiguration is a clear
``ConfigError`` at start-up, never a hang at the counter."""

import json
import subprocess
import sys

import pytest
from softhsm import PIN, module_path, shared_token
from two_protocols import open_client, pack_ref, seed, service_config

from fmd_core.service import ANSWERED, NOT_SENT
from fmd_terminal import config as terminal_config
from fmd_terminal.app import open_configured_service
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification.pkcs11 import Pkcs11Uri

PATIENT = {"connect": 10.0, "read": 30.0, "total": 40.0}  # a loaded CI machine: no timing in these tests
pytestmark = pytest.mark.skipif(module_path() is None, reason="SoftHSM2 is not installed (make system-packages)")


@pytest.fixture(scope="module")
def token(tmp_path_factory, mtls_sim):
    """A token holding the key of a client certificate the simulator's CA issued; no key file remains."""
    soft = shared_token(tmp_path_factory)
    leaf = mtls_sim.pki.ca.issue_cert("pharmacy.example")
    cert = mtls_sim.pki.write("token-client.pem", b"".join(b.bytes() for b in leaf.cert_chain_pems))
    uri = soft.import_key(leaf.private_key_pem.bytes(), "terminal", "01")
    other = mtls_sim.pki.ca.issue_cert("someone.else")
    other_cert = mtls_sim.pki.write("other-client.pem", other.cert_chain_pems[0].bytes())
    return {"uri": uri, "cert": cert, "other_cert": other_cert, "label": soft.label}


def test_token_key_authenticates_over_rest_and_soap(mtls_sim, token, protocol):
    packs = seed(mtls_sim, 1, 52000 + (protocol == "soap"))
    client = open_client(mtls_sim, protocol, cert=(token["cert"], token["uri"] + f"&pin-value={PIN}"),
                         timeouts=PATIENT)
    answer = client.verify(pack_ref(packs[0]))
    assert answer.transport == ANSWERED, answer.detail
    assert answer.operation_code == "NMVS_SUCCESS" and answer.state == "Active"


def test_configured_token_with_the_pin_in_the_secrets_file(tmp_path, mtls_sim, token, protocol):
    """The way a pharmacy configures it: the URI in the TOML file, the PIN in the 0600 secrets file."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'client_id = "pharmacy-demo"\nclient_secret = "demo-secret"\nclient_key_pin = "{PIN}"\n')
    secrets.chmod(0o600)
    toml = tmp_path / "terminal.toml"
    toml.write_text(service_config(mtls_sim, protocol, cert=(token["cert"], token["uri"]))
                    + f'secrets_file = "{secrets}"\n')
    config = terminal_config.load(str(toml), environ={})
    assert PIN not in repr(config)
    client = open_configured_service(config)
    mtls_sim.clients.append(client)
    packs = seed(mtls_sim, 1, 52010 + (protocol == "soap"))
    answer = client.verify(pack_ref(packs[0]))
    assert answer.transport == ANSWERED and answer.operation_code == "NMVS_SUCCESS", answer.detail


def test_untrusted_server_is_still_refused_with_a_token_key(mtls_sim, token, pki):
    """Verification stays on: a CA bundle that does not hold the server's CA refuses the server."""
    client = open_client(mtls_sim, "rest", cert=(token["cert"], token["uri"] + f"&pin-value={PIN}"),
                         ca_bundle=pki.ca_bundle)  # a different CA
    answer = client.verify(pack_ref(seed(mtls_sim, 1, 52020)[0]))
    assert answer.transport == NOT_SENT and answer.transport_error == "tls_untrusted"


def test_wrong_pin_is_refused_in_a_fresh_process(mtls_sim, token, tmp_path):
    """A token stays logged in for the process that logged in (PKCS#11 v2.40 s. 5.6, C_Login), so a
    wrong PIN is tried in a process of its own, as a terminal starting with a wrong secrets file."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('client_id = "pharmacy-demo"\nclient_secret = "demo-secret"\nclient_key_pin = "0000-0000"\n')
    secrets.chmod(0o600)
    toml = tmp_path / "terminal.toml"
    toml.write_text(service_config(mtls_sim, "rest", cert=(token["cert"], token["uri"]))
                    + f'secrets_file = "{secrets}"\n')
    done = subprocess.run([sys.executable, "-m", "fmd_terminal", "doctor", "--config", str(toml)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    # doctor speaks French by default (the message's text id): "code PIN refusé", then the fix
    assert "code PIN refusé" in done.stdout and "client_key_pin" in done.stdout, done.stdout + done.stderr
    assert "0000-0000" not in done.stdout + done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("case", ["no_pin", "wrong_cert", "no_such_key", "no_module"])
def test_misconfigured_token_is_a_clear_error_at_start(mtls_sim, token, case, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # not a console: the PIN cannot be asked
    uri, cert, pin = token["uri"], token["cert"], PIN
    expected = {"no_pin": "client_key_pin", "wrong_cert": "does not belong",
                "no_such_key": "no such key", "no_module": "not found"}[case]
    if case == "no_pin":
        pin = None
    elif case == "wrong_cert":
        cert = token["other_cert"]
    elif case == "no_such_key":
        uri = uri.replace("object=terminal", "object=missing")
    else:
        uri = uri.split("?")[0] + "?module-path=/nonexistent/libpkcs11.so"
    with pytest.raises(ConfigError, match=expected) as error:
        open_client(mtls_sim, "rest", cert=(cert, uri + (f"&pin-value={pin}" if pin else "")))
    assert PIN not in str(error.value) and (pin is None or pin not in str(error.value))


@pytest.mark.parametrize(("uri", "message"), [
    ("pkcs11:token=t;object=k", "module-path"),
    ("pkcs11:token=t?module-path=/m.so", "object=LABEL"),
    ("pkcs11:token=t;bad?module-path=/m.so", "name=value"),
])
def test_uri_refusals(uri, message):
    with pytest.raises(ConfigError, match=message):
        Pkcs11Uri(uri)


def test_uri_parts_are_decoded_and_the_pin_redacted():
    uri = Pkcs11Uri("pkcs11:token=Carte%20CPS;id=%01?module-path=/usr/lib/opensc-pkcs11.so&pin-value=1234")
    assert uri.path == {"token": "Carte CPS", "id": "\x01"} and uri.module_path == "/usr/lib/opensc-pkcs11.so"
    assert uri.key_uri() == "pkcs11:token=Carte%20CPS;id=%01" and "1234" not in uri.redacted()
    assert json.dumps(uri.redacted())
