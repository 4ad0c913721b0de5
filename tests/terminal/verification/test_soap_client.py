"""One contract, two protocols: the REST and SOAP clients against one simulator (issue 6, point 2).

Both clients talk to the same engine over mutual TLS; every case asserts the same ``ServiceAnswer``
fields and the same outbox class (``fmd_core.op_states.classify``), so the flow, the outbox and the
events journal cannot tell the protocols apart.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid

import pytest
from two_protocols import open_client, pack_ref, seed, service_url

from fmd_core.op_states import classify
from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, PackRef
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.factory import open_service
from fmd_terminal.verification.soap import SOAPVerificationClient

_seeds = itertools.count(9000)


def trx() -> str:
    return uuid.uuid4().hex


def fresh(sim, n=1, market="FR"):
    return [pack_ref(p) for p in seed(sim, n, next(_seeds), market)]


@pytest.fixture
def client(mtls_sim, protocol):
    service = open_client(mtls_sim, protocol)
    yield service
    service.close()


def test_verify_dispense_double_scan_reused_id_and_undo(mtls_sim, client):
    pack = fresh(mtls_sim)[0]
    verified = client.verify(pack)
    assert (verified.transport, verified.http_status, verified.operation_code, verified.state, verified.reasons) == (
        ANSWERED, 200, "NMVS_SUCCESS", "Active", ())
    assert verified.product_name and verified.batch_state == "Active" and verified.client_trx_id is None
    assert classify(verified) == "success"
    dispense = trx()
    done = client.change_state(pack, "Supplied", dispense)
    assert (done.http_status, done.operation_code, done.state, done.reasons, done.client_trx_id) == (
        200, "NMVS_SUCCESS", "Supplied", ("SUPPLIED",), dispense)
    assert len(done.nmvs_trx_id) == 32 and done.timestamp.endswith("Z")
    again = client.change_state(pack, "Supplied", trx())
    assert (again.http_status, again.operation_code, again.has_alert, classify(again)) == (
        409, "NMVS_NC_PCK_23", False, "refused")
    reused = client.change_state(pack, "Supplied", dispense)
    assert (reused.http_status, reused.operation_code, classify(reused)) == (409, "NMVS_TE_TX_01", "duplicate_id")
    undo = client.change_state(pack, "Active", trx(), ref_client_trx_id=dispense)
    assert (undo.http_status, undo.operation_code, undo.state) == (200, "NMVS_SUCCESS", "Active")
    history = mtls_sim.history(pack.scheme, pack.product_code, pack.serial)["history"]
    assert [(h["operation"], h["result"]) for h in history] == [
        ("G110", "NMVS_SUCCESS"), ("G120", "NMVS_SUCCESS"), ("G120", "NMVS_NC_PCK_23"), ("G121", "NMVS_SUCCESS")]


def test_the_g_codes_reach_the_history(mtls_sim, client, protocol):
    pack = fresh(mtls_sim)[0]
    manual = PackRef(pack.scheme, pack.product_code, pack.serial, pack.batch, pack.expiry, entry_mode="manual")
    dispense = trx()
    client.change_state(manual, "Supplied", dispense)
    client.change_state(pack, "Active", trx(), ref_client_trx_id=dispense)
    client.change_state(pack, "Destroyed", trx())
    history = mtls_sim.history(pack.scheme, pack.product_code, pack.serial)["history"]
    assert [(h["operation"], h["entryMode"]) for h in history] == [
        ("G122", "manual"), ("G121", "non-manual"), ("G130", "non-manual")]


def test_another_pharmacy_dispensed_it(mtls_sim, client):
    pack = fresh(mtls_sim)[0]
    other = open_service(service_url(mtls_sim, "rest"), client_id="pharmacy-other", client_secret="other-secret",
                         client_cert=mtls_sim.client_files[0], client_key=mtls_sim.client_files[1],
                         ca_bundle=mtls_sim.pki.ca_bundle)
    mtls_sim.clients.append(other)  # closed with the simulator
    assert other.change_state(pack, "Supplied", trx()).operation_code == "NMVS_SUCCESS"
    answer = client.change_state(pack, "Supplied", trx())
    assert (answer.http_status, answer.operation_code, answer.alert_code, classify(answer)) == (
        409, "NMVS_NC_PCK_19", "A7", "refused")
    assert answer.has_alert and answer.alert_id.startswith("FR-A7-")


def test_unknown_serial_alerts_on_verify(mtls_sim, client):
    pack = fresh(mtls_sim)[0]
    answer = client.verify(PackRef(pack.scheme, pack.product_code, "NOSUCHSERIAL9", pack.batch, pack.expiry))
    assert (answer.http_status, answer.operation_code, answer.state, answer.alert_code) == (
        200, "NMVS_NC_PC_02", "NotFound", "A3")
    assert answer.has_alert


def test_intermarket(mtls_sim, client):
    foreign = fresh(mtls_sim, market="DE")[0]
    answer = client.verify(foreign)
    assert (answer.operation_code, answer.is_intermarket) == ("NMVS_SUCCESS", True)


def test_malformed_field_is_invalid(mtls_sim, client):
    pack = fresh(mtls_sim)[0]
    answer = client.verify(PackRef(pack.scheme, pack.product_code, pack.serial, pack.batch, "991399"))
    assert (answer.http_status, answer.operation_code, classify(answer)) == (400, "NMVS_FE_LOT_07", "invalid")


def test_recovery_upload_and_results(mtls_sim, client):
    first, second = fresh(mtls_sim, 2)
    supply = trx()
    answer, ref = client.submit_recovery([RecoveryItem(first, "Supplied", supply, None, "2026-11-25T18:00:00Z"),
                                          RecoveryItem(first, "Active", trx(), supply, "2026-11-25T18:01:00Z"),
                                          RecoveryItem(second, "Supplied", trx(), None, "2026-11-25T18:02:00Z")])
    assert answer.http_status == 202 and ref
    results = None
    for _ in range(500):  # bounded poll: the simulator processes uploads in the background
        polled, results = client.fetch_results(ref)
        if results is not None:
            break
        assert (polled.operation_code, polled.http_status) == ("NMVS_FE_TX_02", 202)
        time.sleep(0.01)
    assert [(r.operation_code, r.state, r.http_status, classify(r)) for r in results] == [
        ("NMVS_SUCCESS", "Supplied", 200, "success"), ("NMVS_SUCCESS", "Active", 200, "success"),
        ("NMVS_SUCCESS", "Supplied", 200, "success")]


def test_ping(client):
    answer = client.ping()
    assert (answer.transport, answer.http_status, classify(answer)) == (ANSWERED, 200, "success")


def test_wrong_password_pauses_for_the_login(mtls_sim, protocol):
    answer = open_client(mtls_sim, protocol, secret="wrong").verify(fresh(mtls_sim)[0])
    assert (answer.http_status, answer.operation_code, classify(answer)) == (401, "NMVS_FE_AU_01", "pause_auth")


@pytest.mark.parametrize(("settings", "status", "code", "klass"), [
    ({"outage": True, "retryAfterSeconds": 42}, 503, "NMVS_ERROR", "retry_later"),
    ({"throttleRps": 0.001, "retryAfterSeconds": 7}, 429, "NMVS_FI_SE_CLI_01", "retry_later"),
    ({"errorRate": 1.0}, 500, "NMVS_ERROR", "unknown"),
    ({"timeoutRate": 1.0}, 500, "NMVS_TI_TO_01", "unknown"),
    ({"accountLocked": True}, 401, "NMVS_FE_AU_02", "pause_auth"),
    ({"certificateExpired": True}, 401, "NMVS_FE_PKI_01", "pause_cert"),
    ({"passwordExpired": True}, 401, "NMVS_FE_AU_11", "pause_auth"),
])
def test_service_faults(mtls_sim, client, faults, settings, status, code, klass):
    pack = fresh(mtls_sim)[0]
    client.ping()  # a REST token is fetched before the fault
    faults(settings)
    answer = [client.change_state(pack, "Supplied", trx()) for _ in range(2)][-1]
    assert (answer.transport, answer.http_status, answer.operation_code, classify(answer)) == (
        ANSWERED, status, code, klass)
    if "retryAfterSeconds" in settings:
        assert answer.retry_after_s == settings["retryAfterSeconds"]


def test_password_expiry_notification(mtls_sim, client, faults):
    client.ping()
    faults({"passwordExpiresInDays": 5})
    answer = client.verify(fresh(mtls_sim)[0])
    assert answer.operation_code == "NMVS_SUCCESS"
    assert [(n["code"], n["days"]) for n in answer.notifications] == [("PASSWORD_EXPIRES", 5)]


def test_drop_after_apply_is_no_answer_and_the_same_id_is_then_used_up(mtls_sim, client, faults):
    pack = fresh(mtls_sim)[0]
    client.ping()
    faults({"dropAfterApplyRate": 1.0})
    dispense = trx()
    answer = client.change_state(pack, "Supplied", dispense)
    assert (answer.transport, classify(answer)) == (NO_ANSWER, "unknown")
    faults({})
    assert mtls_sim.history(pack.scheme, pack.product_code, pack.serial)["state"] == "Supplied"
    assert client.change_state(pack, "Supplied", dispense).operation_code == "NMVS_TE_TX_01"


def test_silence_past_the_read_timeout_is_no_answer(mtls_sim, protocol, faults):
    client = open_client(mtls_sim, protocol, timeouts={"connect": 2.0, "read": 0.4, "total": 1.0})
    client.ping()
    faults({"timeoutRate": 1.0, "hangMs": 1500})
    answer = client.change_state(fresh(mtls_sim)[0], "Supplied", trx())
    assert (answer.transport, answer.transport_error, classify(answer)) == (NO_ANSWER, "read_timeout", "unknown")


def test_an_expired_client_certificate_pauses_the_queue(mtls_sim, protocol):
    expired = mtls_sim.pki.client_files(days=(-60, -1), name=f"expired-{protocol}")
    answer = open_client(mtls_sim, protocol, cert=expired).verify(fresh(mtls_sim)[0])
    assert (answer.transport, answer.transport_error, classify(answer)) == (NOT_SENT, "tls_client_cert", "pause_cert")


def test_soap_needs_a_client_certificate_and_credentials():
    with pytest.raises(ConfigError, match="client_cert"):
        open_service("nmvs-soap+https://nmvs.example/soap", client_id="p", client_secret="s")
    with pytest.raises(ConfigError, match="FMD_CLIENT_SECRET"):
        open_service("nmvs-soap+https://nmvs.example/soap", client_id="p", client_cert="c.pem")


def test_soap_url_user_and_repr_without_secret(mtls_sim):
    client = open_service(f"nmvs-soap+https://127.0.0.1:{mtls_sim.port}/soap?user=counter-2",
                          client_id="pharmacy-demo", client_secret="demo-secret",
                          client_cert=mtls_sim.client_files[0], client_key=mtls_sim.client_files[1],
                          ca_bundle=mtls_sim.pki.ca_bundle)
    mtls_sim.clients.append(client)  # closed with the simulator
    assert isinstance(client, SOAPVerificationClient)
    assert client.endpoint == f"https://127.0.0.1:{mtls_sim.port}/soap"
    envelope = client._envelope("G110", "t1", None).decode()
    assert "<n:UserId>counter-2</n:UserId>" in envelope and "<n:Language>fra</n:Language>" in envelope
    assert "demo-secret" not in repr(client)
    assert client.ping().operation_code == "NMVS_SUCCESS"


def test_secrets_are_never_logged(mtls_sim, protocol, caplog):
    client = open_client(mtls_sim, protocol)
    with caplog.at_level(logging.DEBUG):
        client.verify(fresh(mtls_sim)[0])
        open_client(mtls_sim, protocol, secret="wrong-secret-xyz").ping()
    assert caplog.records  # the clients do log their exchanges
    assert "demo-secret" not in caplog.text and "wrong-secret-xyz" not in caplog.text
    assert "demo-secret" not in repr(client)
