"""The REST client against the real simulator (``fmd_simulator.testing.running_simulator``): REST's own cases.

Token renewal from ``expires_in`` and the single resend after a 401 (VERIFICATION-SERVICE.md 7.1),
the token refusal's detail, results pending while bulk work is held, and mutual TLS with trustme
certificates (expired, missing, unknown and refused client certificates). The cases both clients
share (verify, dispense, double scan, undo, alerts, intermarket, recovery upload, Retry-After on
429/503, notifications, a dispense dropped after it was applied) run over REST and SOAP in
test_soap_client.py.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from fmd_core.op_states import classify
from fmd_core.service import ANSWERED, NOT_SENT, PackRef
from fmd_simulator.testing import running_simulator
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.rest import HTTPVerificationClient

FAST = {"connect": 2.0, "read": 3.0, "total": 5.0}
_seeds = itertools.count(5000)


def trx() -> str:
    return uuid.uuid4().hex


def pack_ref(seeded, **override) -> PackRef:
    fields = {"scheme": seeded["scheme"], "product_code": seeded["productCode"], "serial": seeded["serial"],
              "batch": seeded["batch"], "expiry": seeded["expiry"]}
    fields.update(override)
    return PackRef(**fields)


def fresh_packs(sim, n=2, market="FR"):
    return [pack_ref(p) for p in sim.admin("POST", "/admin/seed", {"packs": n, "seed": next(_seeds),
                                                                   "market": market})["packs"]]


def client_for(sim, **options):
    options.setdefault("timeouts", FAST)
    return HTTPVerificationClient(sim.base_url, client_id=options.pop("client_id", "pharmacy-demo"),
                                  client_secret=options.pop("client_secret", "demo-secret"), **options)


@pytest.fixture(scope="module")
def sim():
    with running_simulator() as s:
        yield s


@pytest.fixture
def own_sim():
    with running_simulator() as s:
        yield s


def test_results_stay_pending_while_the_simulator_holds_bulk_work(own_sim):
    pack = fresh_packs(own_sim, 1)[0]
    client = client_for(own_sim)
    own_sim.set_faults({"holdBulk": True})
    _, uri = client.submit_recovery([RecoveryItem(pack, "Supplied", trx(), None, "2026-11-25T18:00:00Z")])
    pending, results = client.fetch_results(uri)
    assert (pending.http_status, pending.operation_code, results) == (202, "NMVS_FE_TX_02", None)


def test_wrong_secret_is_refused(sim):
    answer = client_for(sim, client_secret="wrong").verify(fresh_packs(sim, 1)[0])
    assert (answer.http_status, answer.operation_code) == (401, "NMVS_FE_AU_01")
    assert answer.detail == "token refused: NMVS_FE_AU_01"


def test_a_restarted_service_forgets_the_token_and_the_client_resends_once(own_sim):
    pack = fresh_packs(own_sim, 1)[0]
    client = client_for(own_sim)
    assert client.verify(pack).operation_code == "NMVS_SUCCESS"
    own_sim.restart()  # tokens live in memory: the cached one is now unknown
    pack = fresh_packs(own_sim, 1)[0]
    dispense = trx()
    answer = client.change_state(pack, "Supplied", dispense)
    assert (answer.http_status, answer.operation_code, answer.client_trx_id) == (200, "NMVS_SUCCESS", dispense)
    history = own_sim.history(pack.scheme, pack.product_code, pack.serial)["history"]
    assert [h["clientTrxId"] for h in history if h.get("clientTrxId")] == [dispense]


def test_the_token_is_renewed_from_expires_in(own_sim):
    own_sim.set_faults({"tokenTtlSeconds": 100})
    now = [0.0]
    client = client_for(own_sim, clock=lambda: now[0])
    client.ping()
    client.ping()
    assert len(own_sim.app.tokens) == 1
    now[0] = 95.0  # inside the last tenth of the token's life
    client.ping()
    assert len(own_sim.app.tokens) == 2


def test_mutual_tls_against_the_simulator(pki):
    server = pki.ca.issue_cert("127.0.0.1")
    cert_pem, key_pem = pki.write("sim-cert.pem", server.cert_chain_pems[0].bytes()), pki.write(
        "sim-key.pem", server.private_key_pem.bytes())
    good = pki.client_files()
    expired = pki.client_files(days=(-60, -1), name="old")
    with running_simulator(tls_cert=cert_pem, tls_key=key_pem, client_ca=pki.ca_bundle,
                           admin_client_cert=good) as sim:
        pack = fresh_packs(sim, 1)[0]
        ok = client_for(sim, ca_bundle=pki.ca_bundle, client_cert=good[0], client_key=good[1]).verify(pack)
        assert (ok.transport, ok.operation_code) == (ANSWERED, "NMVS_SUCCESS")
        refused = client_for(sim, ca_bundle=pki.ca_bundle, client_cert=expired[0], client_key=expired[1]).verify(pack)
        # uvicorn closes the handshake without an alert; the client's own certificate dates explain it.
        assert (refused.transport, refused.transport_error) == (NOT_SENT, "tls_client_cert"), refused.detail
        assert "client certificate expired on " in refused.detail
        missing = client_for(sim, ca_bundle=pki.ca_bundle).change_state(pack, "Supplied", trx())
        # No certificate configured: the TLS 1.2 handshake shows the server's CertificateRequest.
        assert (missing.transport, missing.transport_error, classify(missing)) == (
            NOT_SENT, "tls_client_cert", "pause_cert"), missing.detail
        assert sim.history(pack.scheme, pack.product_code, pack.serial)["state"] == "Active"
        stranger = pki.client_files(ca=pki.other_ca, name="stranger")
        unknown = client_for(sim, ca_bundle=pki.ca_bundle, client_cert=stranger[0], client_key=stranger[1]).ping()
        assert (unknown.transport, unknown.transport_error) == (NOT_SENT, "tls_handshake")
        sim.set_faults({"certificateExpired": True})
        pki_refusal = client_for(sim, ca_bundle=pki.ca_bundle, client_cert=good[0], client_key=good[1]).ping()
        assert (pki_refusal.http_status, pki_refusal.operation_code) == (401, "NMVS_FE_PKI_01")
