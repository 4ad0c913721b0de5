"""Fault injection (VERIFICATION-SERVICE.md, section 8): drops really close the TCP connection, latency
fits its distribution deterministically, intermarket calls add latency, notices and short tokens."""

from __future__ import annotations

import http.client
import json
import socket
import statistics

import pytest
from simulator_helpers import Actor, fresh_packs, new_trx

from fmd_simulator.faults import Faults


def raw_change(sim, actor, pack, trx):
    """Send a dispense on a fresh connection; return the response or the exception the client saw."""
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    body = json.dumps({"batch": pack["batch"], "expiry": pack["expiry"], "state": "Supplied"})
    try:
        conn.request("PATCH", Actor.path(pack), body=body,
                     headers=actor.headers(**{"X-Client-Trx-Id": trx, "Content-Type": "application/json"}))
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    except (http.client.RemoteDisconnected, ConnectionResetError) as exc:
        return exc
    finally:
        conn.close()


def test_drop_before_apply_closes_without_answer_and_leaves_id_unused(own_sim):
    pharmacy, pack, trx = Actor(own_sim), fresh_packs(own_sim, 1)[0], new_trx()
    own_sim.set_faults({"dropBeforeApplyRate": 1.0})
    assert isinstance(raw_change(own_sim, pharmacy, pack, trx), http.client.RemoteDisconnected | ConnectionResetError)
    own_sim.set_faults({})
    assert pharmacy.verify(pack)[1]["state"] == "Active"
    assert raw_change(own_sim, pharmacy, pack, trx)[1]["operationCode"] == "NMVS_SUCCESS"


def test_drop_after_apply_applies_then_closes(own_sim):
    pharmacy, pack, trx = Actor(own_sim), fresh_packs(own_sim, 1)[0], new_trx()
    own_sim.set_faults({"dropAfterApplyRate": 1.0})
    assert isinstance(raw_change(own_sim, pharmacy, pack, trx), http.client.RemoteDisconnected | ConnectionResetError)
    own_sim.set_faults({})
    assert pharmacy.verify(pack)[1]["state"] == "Supplied"
    assert raw_change(own_sim, pharmacy, pack, trx)[1]["operationCode"] == "NMVS_TE_TX_01"
    assert raw_change(own_sim, pharmacy, pack, new_trx())[1]["operationCode"] == "NMVS_NC_PCK_23"


def test_dropped_connection_sends_no_bytes(own_sim):
    pharmacy, pack = Actor(own_sim), fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"dropBeforeApplyRate": 1.0})
    request = (f"GET {Actor.path(pack)}?batch={pack['batch']}&expiry={pack['expiry']} HTTP/1.1\r\n"
               f"Host: x\r\nAuthorization: {pharmacy.bearer}\r\nemvs-data-entry-mode: non-manual\r\n\r\n").encode()
    with socket.create_connection((own_sim.host, own_sim.port), timeout=10) as sock:
        sock.sendall(request)
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            data = b""
    assert data == b""


def test_latency_sampling_fits_p50_and_p95_and_is_seeded():
    faults = Faults({"latencyMs": {"p50": 40, "p95": 200}, "seed": 5})
    samples = [faults.latency_seconds() * 1000 for _ in range(4000)]
    again = Faults({"latencyMs": {"p50": 40, "p95": 200}, "seed": 5})
    assert [again.latency_seconds() * 1000 for _ in range(10)] == samples[:10]
    quantiles = statistics.quantiles(samples, n=100)
    assert 36 < quantiles[49] < 44 and 180 < quantiles[94] < 220
    assert Faults({"latencyMs": {"p50": 40, "p95": 200}, "seed": 6}).latency_seconds() * 1000 != samples[0]


def test_intermarket_adds_two_latency_samples():
    faults = Faults({"latencyMs": {"p50": 30, "p95": 30}})
    assert faults.intermarket_seconds() == pytest.approx(0.060)
    assert Faults({"intermarketLatencyMs": 15}).intermarket_seconds() == pytest.approx(0.015)


def test_latency_is_added_to_bulk_uploads_and_their_results_too(own_sim):
    """Issue 17: one latency fault costs every request the same, a bulk (G195) and its results (G196) too."""
    import time

    pharmacy, pack = Actor(own_sim), fresh_packs(own_sim, 1)[0]
    item = {**{k: pack[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")},
            "requestedState": "Supplied", "clientTrxId": new_trx()}
    own_sim.set_faults({"latencyMs": {"p50": 300, "p95": 300}})
    started = time.perf_counter()
    status, _, accepted = own_sim.request("POST", "/recovery/packs", {"items": [item]}, pharmacy.headers())
    uploaded = time.perf_counter()
    assert status == 202 and uploaded - started >= 0.29
    status, _, _ = own_sim.request("GET", accepted["resultsUri"], headers=pharmacy.headers())
    assert status in (200, 202) and time.perf_counter() - uploaded >= 0.29


def test_password_expiry_notice_then_expired(own_sim):
    pharmacy, pack = Actor(own_sim), fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"passwordExpiresInDays": 5})
    body = pharmacy.verify(pack)[1]
    assert body["operationCode"] == "NMVS_SUCCESS" and body["notifications"][0]["days"] == 5
    own_sim.set_faults({"passwordExpired": True})
    assert pharmacy.verify(pack)[1]["operationCode"] == "NMVS_FE_AU_11"


def test_short_token_life(own_sim):
    own_sim.set_faults({"tokenTtlSeconds": 1})
    status, _, body = own_sim.request(
        "POST", "/identity/connect/token",
        body=b"grant_type=client_credentials&client_id=pharmacy-demo&client_secret=demo-secret",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body["expires_in"], body["token_type"]) == (200, 1, "Bearer")


def test_faults_read_back_and_reset(own_sim):
    settings = own_sim.set_faults({"errorRate": 0.25, "throttleRps": 50, "seed": 9})
    assert own_sim.faults() == settings and settings["errorRate"] == 0.25 and settings["outage"] is False
    assert own_sim.set_faults({})["errorRate"] == 0.0


def test_hang_is_silence_past_the_client_deadline(own_sim):
    pharmacy, pack = Actor(own_sim), fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"timeoutRate": 1.0, "hangMs": 500})
    conn = http.client.HTTPConnection(own_sim.host, own_sim.port, timeout=0.1)
    with pytest.raises(TimeoutError):
        conn.request("GET", Actor.path(pack) + f"?batch={pack['batch']}&expiry={pack['expiry']}",
                     headers=pharmacy.headers())
        conn.getresponse()
    conn.close()
