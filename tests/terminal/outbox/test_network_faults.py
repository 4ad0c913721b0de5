"""Network faults over HTTPS (OFFLINE-QUEUE.md section 9, T5): the real worker, REST client and simulator.

The simulator serves HTTPS with trustme certificates and requires a client certificate (mutual TLS).
The worker is stepped on a FakeClock (backoff, breaker and quiet periods take no real time); the
network, the timeouts and the simulator are real. Every scenario runs with the simulator's
ClientTrxId-reuse check on and off (``allow_reused_trx_ids``), to show that P3 does not depend on it.
Checked: I3 (each change applied once), I4 (per-pack order), I5 (no alert), classification,
Retry-After, breaker transitions and pauses.
"""

import datetime
import itertools
import random

import pytest
import trustme

from fmd_core.service import PackRef
from fmd_simulator.testing import running_simulator
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock, SystemClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
from fmd_terminal.verification.factory import open_service

REQUESTED = {"dispense": "Supplied", "undo_dispense": "Active"}
TIMEOUTS = {"connect": 1.0, "read": 0.6, "total": 2.0}


class PKI:
    def __init__(self, directory, **server_validity):
        self.ca = trustme.CA()
        self.ca_pem = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem))
        server = self.ca.issue_cert("127.0.0.1", **server_validity)
        self.server_cert, self.server_key = directory / "server.pem", directory / "server.key"
        server.cert_chain_pems[0].write_to_path(str(self.server_cert))
        server.private_key_pem.write_to_path(str(self.server_key))
        client = self.ca.issue_cert("pharmacy-demo@fmd.test")
        self.client_cert, self.client_key = directory / "client.pem", directory / "client.key"
        client.cert_chain_pems[0].write_to_path(str(self.client_cert))
        client.private_key_pem.write_to_path(str(self.client_key))


def tls_sim(pki, **options):
    return running_simulator(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key), client_ca=str(pki.ca_pem),
                             admin_client_cert=(str(pki.client_cert), str(pki.client_key)), **options)


def client(sim, pki, secret="demo-secret", cert=True, ca=None):
    return open_service(sim.base_url, client_id="pharmacy-demo", client_secret=secret,
                        client_cert=str(pki.client_cert) if cert else None,
                        client_key=str(pki.client_key) if cert else None,
                        ca_bundle=str(ca or pki.ca_pem), timeouts=TIMEOUTS)


@pytest.fixture(scope="module", params=[False, True], ids=["reuse-refused", "reuse-allowed"])
def env(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    pki = PKI(directory)
    with tls_sim(pki, seed_packs=400, allow_reused_trx_ids=request.param) as sim:
        sim.home_packs = iter(sim.seeded_packs())
        yield sim, pki


def ref(p):
    return PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"])


def setup_outbox(tmp_path, sim, packs, undo_every=4):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    for i, p in enumerate(packs):
        box.record(OpRequest("dispense", ref(p), p["raw"], "ph", "deferred"))
        if i % undo_every == 0:
            box.record(OpRequest("undo_dispense", ref(p), p["raw"], "ph", "deferred"))
    return box, clock


def drive(worker, clock, until, max_steps=4000):
    for _ in range(max_steps):
        if until():
            return
        clock.advance(worker.step())
    raise AssertionError(f"not reached after {max_steps} steps; pending {worker.outbox.pending_count()}")


def check_simulator(sim, box, packs):
    """I3, I4, I5 for the packs of this scenario."""
    keys = {(p["productCode"], p["serial"]) for p in packs}
    expected = {}
    for row in box.ops():
        if row["kind"] in REQUESTED and row["state"] == "done":
            expected.setdefault((row["product_code"], row["serial"]), []).append(REQUESTED[row["kind"]])
    for p in packs:
        history = sim.history(p["scheme"], p["productCode"], p["serial"])["history"]
        applied = [h["requestedState"] for h in history if h.get("requestedState") and h["result"] == "NMVS_SUCCESS"]
        assert applied == expected.get((p["productCode"], p["serial"]), []), f"I3/I4 {p['serial']}"
    alerts = [a for a in sim.alerts() if (a.get("productCode"), a.get("serial")) in keys
              or any(p["serial"] in str(a) for p in packs)]
    assert alerts == [], f"I5: {alerts}"


FAULTS = {
    "drop-before-apply": {"dropBeforeApplyRate": 0.35},
    "drop-after-apply": {"dropAfterApplyRate": 0.35},
    "errors-500": {"errorRate": 0.35},
    "slower-than-read-timeout": {"timeoutRate": 0.3, "hangMs": 900},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_keep_every_invariant(env, tmp_path, fault):
    sim, pki = env
    packs = list(itertools.islice(sim.home_packs, 8))
    box, clock = setup_outbox(tmp_path, sim, packs)
    service = client(sim, pki)
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0, quiet_s=1, bulk_threshold=1000),
                        random.Random(5))
    sim.set_faults(dict(FAULTS[fault], seed=11))
    try:
        drive(worker, clock, lambda: box.pending_count() == 0)
    finally:
        sim.set_faults({"dropBeforeApplyRate": 0, "dropAfterApplyRate": 0, "errorRate": 0, "timeoutRate": 0,
                        "hangMs": 0, "throttleRps": None, "retryAfterSeconds": 30})
    states = {r["state"] for r in box.ops()}
    assert states == {"done"}, states
    check_simulator(sim, box, packs)
    outcomes = {a["outcome"] for r in box.ops() for a in box.attempts(r["seq"])}
    expected_class = {"drop-before-apply": "unknown", "drop-after-apply": "unknown", "errors-500": "unknown",
                      "slower-than-read-timeout": "unknown"}[fault]
    assert expected_class in outcomes, outcomes
    service.close()
    box.close()


def test_throttling_honours_retry_after_and_halves_the_rate(tmp_path):
    """The simulator throttles in real time, so this worker runs on the real clock and really waits."""
    pki = PKI(tmp_path)
    with tls_sim(pki, seed_packs=5) as sim:
        throttled_drain(sim, pki, tmp_path, sim.seeded_packs()[:5])


def throttled_drain(sim, pki, tmp_path, packs):
    box, _fake = setup_outbox(tmp_path, sim, packs, undo_every=99)
    service = client(sim, pki)
    settings = SyncSettings(start_jitter_s=0, rate=60, burst=5, bulk_threshold=1000, breaker_open_s=0.2,
                            probe_gap_s=0.1, backoff_base_s=0.05, breaker_open_cap_s=2)
    worker = SyncWorker(box, service, SystemClock(), settings, random.Random(4))
    sim.set_faults({"throttleRps": 20, "retryAfterSeconds": 1})
    try:
        assert worker.run_until_drained(60) is True
    finally:
        sim.set_faults({"throttleRps": None, "retryAfterSeconds": 30})
    outcomes = [a["outcome"] for r in box.ops() for a in box.attempts(r["seq"])]
    assert "retry_later" in outcomes
    assert worker.bucket.halved_until_ns > 0  # the rate was halved after the 429
    assert {r["state"] for r in box.ops()} == {"done"}
    check_simulator(sim, box, packs)
    service.close()
    box.close()


def test_outage_breaker_and_retry_after_then_drain_through_recovery(env, tmp_path):
    sim, pki = env
    packs = list(itertools.islice(sim.home_packs, 12))
    box, clock = setup_outbox(tmp_path, sim, packs)
    service = client(sim, pki)
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=30, quiet_s=1, bulk_threshold=5,
                                                          poll_first_s=0.2), random.Random(6))
    sim.set_faults({"outage": True, "retryAfterSeconds": 45})
    drive(worker, clock, lambda: worker.breaker.state == "open")
    assert {r["state"] for r in box.ops()} == {"queued"} and box.pending_count() == 15
    sim.set_faults({"outage": False, "retryAfterSeconds": 30})
    start = clock.boottime
    drive(worker, clock, lambda: box.pending_count() == 0)
    assert ("breaker", "closed") in worker.events
    assert {r["state"] for r in box.ops()} == {"done"}
    assert any(a["action"] == "bulk_result" for r in box.ops() for a in box.attempts(r["seq"]))
    assert clock.boottime - start > 0
    check_simulator(sim, box, packs)
    service.close()
    box.close()


def test_retry_after_sets_the_wait(env, tmp_path):
    sim, pki = env
    packs = list(itertools.islice(sim.home_packs, 1))
    box, clock = setup_outbox(tmp_path, sim, packs, undo_every=99)
    service = client(sim, pki)
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0), random.Random(7))
    drive(worker, clock, lambda: worker.breaker.state == "closed")
    sim.set_faults({"outage": True, "retryAfterSeconds": 40})
    try:
        worker.step()
    finally:
        sim.set_faults({"outage": False, "retryAfterSeconds": 30})
    assert box.ops()[0]["last_error_class"] == "retry_later"
    assert worker.not_before_ns - clock.boottime >= 40 * 10**9
    drive(worker, clock, lambda: box.pending_count() == 0)
    service.close()
    box.close()


def test_bad_credentials_pause_the_queue_without_failing_ops(env, tmp_path):
    sim, pki = env
    packs = list(itertools.islice(sim.home_packs, 2))
    box, clock = setup_outbox(tmp_path, sim, packs, undo_every=99)
    bad = client(sim, pki, secret="wrong-secret")
    worker = SyncWorker(box, bad, clock, SyncSettings(start_jitter_s=0), random.Random(8))
    drive(worker, clock, lambda: box.read_meta("paused") is not None, max_steps=20)
    assert box.read_meta("paused") == "pause_auth"
    assert {r["state"] for r in box.ops()} == {"queued"}
    bad.close()
    good = client(sim, pki)
    worker = SyncWorker(box, good, clock, SyncSettings(start_jitter_s=0), random.Random(8))
    worker.resume("credentials changed")
    drive(worker, clock, lambda: box.pending_count() == 0)
    check_simulator(sim, box, packs)
    good.close()
    box.close()


def test_recovery_batch_with_a_foreign_product_resends_it_alone(env, tmp_path):
    sim, pki = env
    foreign = sim.admin("POST", "/admin/seed", {"packs": 2, "seed": 77, "market": "DE"})
    foreign_packs = foreign["packs"] if isinstance(foreign, dict) else foreign
    packs = list(itertools.islice(sim.home_packs, 6)) + foreign_packs[:1]
    box, clock = setup_outbox(tmp_path, sim, packs, undo_every=99)
    service = client(sim, pki)
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0, bulk_threshold=5, poll_first_s=0.1),
                        random.Random(9))
    drive(worker, clock, lambda: box.pending_count() == 0)
    rows = box.ops()
    assert {r["state"] for r in rows} == {"done"}
    last = rows[-1]
    assert last["single_only"] == 1 and last["intermarket"] == 1
    check_simulator(sim, box, packs)
    service.close()
    box.close()


# -- TLS problems (section 4.3, section 7 "TLS") ------------------------------------------------------

def one_send(sim, pki, tmp_path, service, synced=True):
    p = sim.seeded_packs()[0]
    clock = FakeClock(synced=synced)
    box = open_sqlite_outbox(str(tmp_path / "t.db"), clock, reserve_bytes=0)
    box.write_meta("clock_floor_ns", "0")
    box.record(OpRequest("verify", ref(p), p["raw"], "ph", "deferred"))
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0), random.Random(1))
    for _ in range(3):
        clock.advance(worker.step())
    result = (box.read_meta("paused"), box.ops()[0]["state"], box.ops()[0]["last_error_class"], worker.breaker.failures)
    box.close()
    service.close()
    return result


def test_wrong_ca_is_not_sent(env, tmp_path):
    sim, pki = env
    other = trustme.CA()
    other_pem = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(other_pem))
    service = client(sim, pki, ca=other_pem)
    answer = service.ping()
    service.close()
    assert (answer.transport, answer.transport_error) == ("not_sent", "tls_untrusted")


def test_missing_client_certificate_pauses_the_queue(env, tmp_path):
    """Section 4.3: the service demands a client certificate and none is configured: ``pause_cert``."""
    sim, pki = env
    paused, state, error, failures = one_send(sim, pki, tmp_path, client(sim, pki, cert=False))
    # The start-up probe already meets the refusal: the queue pauses before any op is sent.
    assert (paused, state, error, failures) == ("pause_cert", "queued", None, 0)  # breaker untouched


def test_missing_client_certificate_never_makes_a_state_change_uncertain(env, tmp_path):
    """The link was up (breaker closed) when the certificate went missing: the dispense that meets
    the refusal goes back to ``queued`` (#8), never ``uncertain`` (#7), and nothing is applied."""
    sim, pki = env
    packs = list(itertools.islice(sim.home_packs, 3))
    box, clock = setup_outbox(tmp_path, sim, packs, undo_every=2)
    good = client(sim, pki)
    worker = SyncWorker(box, good, clock, SyncSettings(start_jitter_s=0, bulk_threshold=1000), random.Random(10))
    drive(worker, clock, lambda: worker.breaker.state == "closed")
    assert {r["state"] for r in box.ops()} == {"queued"}  # only probes so far
    service = client(sim, pki, cert=False)
    worker.client = service  # the configuration lost its client certificate
    seen = set()
    for _ in range(6):
        clock.advance(worker.step())
        seen |= {r["state"] for r in box.ops()}
    service.close()
    assert box.read_meta("paused") == "pause_cert"
    assert "tls_client_cert" in box.read_meta("paused_detail")
    assert seen == {"queued"}, seen  # never in_flight after a step, never uncertain
    outcomes = [a["outcome"] for r in box.ops() for a in box.attempts(r["seq"])]
    assert outcomes == ["pause_cert"], outcomes  # one attempt, then the queue waits
    assert worker.breaker.failures == 0
    for p in packs:
        assert sim.history(p["scheme"], p["productCode"], p["serial"])["state"] == "Active"
    worker.client = good
    worker.resume("client certificate installed")
    drive(worker, clock, lambda: box.pending_count() == 0)
    assert {r["state"] for r in box.ops()} == {"done"}
    check_simulator(sim, box, packs)
    good.close()
    box.close()


def test_certificate_refused_by_the_service_pauses_the_queue(env, tmp_path):
    sim, pki = env
    sim.set_faults({"certificateExpired": True})
    try:
        paused, state, _error, failures = one_send(sim, pki, tmp_path, client(sim, pki))
    finally:
        sim.set_faults({"certificateExpired": False})
    assert (paused, state, failures) == ("pause_cert", "queued", 0)


@pytest.mark.parametrize("validity", ["expired", "not_yet_valid"])
def test_server_certificate_validity_with_an_unsynchronised_clock_pauses_for_the_clock(tmp_path, validity):
    now = datetime.datetime.now(datetime.UTC)
    window = ({"not_before": now - datetime.timedelta(days=30), "not_after": now - datetime.timedelta(days=1)}
              if validity == "expired" else
              {"not_before": now + datetime.timedelta(days=1), "not_after": now + datetime.timedelta(days=30)})
    pki = PKI(tmp_path, **window)
    with tls_sim(pki, seed_packs=1) as sim:
        paused, state, _e, failures = one_send(sim, pki, tmp_path, client(sim, pki), synced=False)
        assert (paused, state, failures) == ("pause_clock", "queued", 0)  # no op fails, breaker untouched
        (tmp_path / "t.db").unlink()
        paused, state, error, _f = one_send(sim, pki, tmp_path, client(sim, pki), synced=True)
        assert (paused, state) == (None, "queued")  # a synchronised clock: the server is wrong, not_sent
