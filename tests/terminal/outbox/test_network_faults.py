"""Network faults over REST and SOAP (OFFLINE-QUEUE.md section 9, T5): the real worker, client and simulator.

One scenario suite, two protocols (issue 6, item 3): every test asks for ``protocol`` and runs over
REST and over SOAP against one simulator serving both facades over HTTPS with trustme certificates
and required client certificates (mutual TLS, ``two_protocols.mtls_simulator``). The worker is
stepped on a FakeClock (backoff, breaker and quiet periods take no real time); the network, the
timeouts and the simulator are real. Every scenario runs with the simulator's ClientTrxId-reuse check
on and off (``allow_reused_trx_ids``), to show that P3 does not depend on it. Checked: I3 (each change
applied once), I4 (per-pack order), I5 (no alert), classification, Retry-After, breaker transitions
and pauses, including the certificate pause (section 4.3).
"""

import itertools
import random

import pytest
from two_protocols import mtls_simulator, open_client, pack_ref

from fmd_terminal.outbox import DISPENSE_PENDING, OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

REQUESTED = {"dispense": "Supplied", "undo_dispense": "Active"}
TIMEOUTS = {"connect": 1.0, "read": 0.6, "total": 2.0}
# A SOAP URL without a client certificate is refused when the client is opened (ConfigError,
# test_soap_client): a missing certificate can only meet the queue over REST.
REST_ONLY = pytest.mark.parametrize("protocol", ["rest"])


def client(sim, protocol, secret="demo-secret", cert=None, ca=None):
    return open_client(sim, protocol, secret=secret, cert=cert, ca_bundle=ca and str(ca), timeouts=TIMEOUTS)


@pytest.fixture(scope="module", params=[False, True], ids=["reuse-refused", "reuse-allowed"])
def env(request, tmp_path_factory):
    with mtls_simulator(tmp_path_factory.mktemp("pki"), seed_packs=400, allow_reused_trx_ids=request.param) as sim:
        sim.home_packs = iter(sim.seeded_packs())
        yield sim


def setup_outbox(tmp_path, sim, packs, undo_every=4):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)
    for i, p in enumerate(packs):
        box.record(OpRequest("dispense", pack_ref(p), p["raw"], "ph", "deferred"))
        if i % undo_every == 0:
            box.record(OpRequest("undo_dispense", pack_ref(p), p["raw"], "ph", "deferred"))
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


@pytest.fixture
def faults(env):
    """Fault settings for one test, reset afterwards (the simulator is shared by the module)."""
    yield env.set_faults
    env.set_faults({})


def worker_for(box, service, clock, seed, **settings):
    return SyncWorker(box, service, clock, SyncSettings(**{"start_jitter_s": 0, **settings}), random.Random(seed))


def attempts(box, field):
    return [a[field] for r in box.ops() for a in box.attempts(r["seq"])]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_keep_every_invariant(env, protocol, faults, tmp_path, fault):
    packs = list(itertools.islice(env.home_packs, 8))
    box, clock = setup_outbox(tmp_path, env, packs)
    service = client(env, protocol)
    worker = worker_for(box, service, clock, 5, quiet_s=1, bulk_threshold=1000)
    faults(dict(FAULTS[fault], seed=11))
    drive(worker, clock, lambda: box.pending_count() == 0)
    faults({})
    states = {r["state"] for r in box.ops()}
    assert states == {"done"}, states
    check_simulator(env, box, packs)
    assert "unknown" in attempts(box, "outcome")
    if fault == "drop-after-apply":  # applied, answer lost: reconciled by a verify, never sent twice (I3)
        assert "reconcile_verify" in attempts(box, "action")
    service.close()
    box.close()


def test_a_counter_session_drains_in_order(env, protocol, tmp_path):
    """Dispense three packs, scan the first again (refused locally), undo the second, verify the third."""
    first, second, third = itertools.islice(env.home_packs, 3)
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "o.db"), clock, reserve_bytes=0)

    def record(kind, p):
        return box.record(OpRequest(kind, pack_ref(p), p["raw"], "ph", "deferred"))

    assert all(record("dispense", p).op is not None for p in (first, second, third))
    assert record("dispense", first).refusal.reason == DISPENSE_PENDING  # the double scan stays local
    assert record("undo_dispense", second).op is not None
    assert record("verify", third).op is not None
    service = client(env, protocol)
    drive(worker_for(box, service, clock, 3), clock, lambda: box.pending_count() == 0)
    assert [(r["kind"], r["state"]) for r in box.ops()] == [
        ("dispense", "done"), ("dispense", "done"), ("dispense", "done"), ("undo_dispense", "done"), ("verify", "done")]
    operations = [[h["operation"] for h in env.history(p["scheme"], p["productCode"], p["serial"])["history"]]
                  for p in (first, second, third)]
    assert operations == [["G120"], ["G120", "G121"], ["G120", "G110"]]
    check_simulator(env, box, [first, second, third])
    service.close()
    box.close()


def test_throttling_honours_retry_after_and_halves_the_rate(env, protocol, faults, tmp_path):
    """The simulator's token bucket reads the worker's fake clock, so both sides share one time line
    and every Retry-After is waited out without sleeping."""
    packs = list(itertools.islice(env.home_packs, 4))
    box, clock = setup_outbox(tmp_path, env, packs, undo_every=99)
    service = client(env, protocol)
    # the breaker's probes must not outrun the bucket either
    worker = worker_for(box, service, clock, 4, rate=60, burst=5, bulk_threshold=1000, probe_gap_s=1.0)
    real_monotonic = env.app.faults.monotonic
    env.app.faults.monotonic = lambda: clock.boottime / 1e9
    try:
        faults({"throttleRps": 2, "retryAfterSeconds": 3})
        drive(worker, clock, lambda: box.pending_count() == 0)
    finally:
        env.app.faults.monotonic = real_monotonic
    assert "retry_later" in attempts(box, "outcome")
    statuses = attempts(box, "http_status")
    assert 429 in statuses and statuses.count(200) == len(box.ops())  # each op answered once
    assert worker.bucket.halved_until_ns > 0  # the rate was halved after the 429
    assert clock.boottime >= 3 * 10**9  # at least one Retry-After waited out
    assert {r["state"] for r in box.ops()} == {"done"}
    check_simulator(env, box, packs)
    service.close()
    box.close()


def test_outage_breaker_and_retry_after_then_drain_through_recovery(env, protocol, faults, tmp_path):
    packs = list(itertools.islice(env.home_packs, 12))
    box, clock = setup_outbox(tmp_path, env, packs)
    service = client(env, protocol)
    worker = worker_for(box, service, clock, 6, start_jitter_s=30, quiet_s=1, bulk_threshold=5, poll_first_s=0.2)
    faults({"outage": True, "retryAfterSeconds": 45})
    drive(worker, clock, lambda: worker.breaker.state == "open")
    assert {r["state"] for r in box.ops()} == {"queued"} and box.pending_count() == 15
    faults({})
    start = clock.boottime
    drive(worker, clock, lambda: box.pending_count() == 0)
    assert ("breaker", "closed") in worker.events
    assert {r["state"] for r in box.ops()} == {"done"}
    assert "bulk_result" in attempts(box, "action")  # the backlog went up as a recovery upload
    assert clock.boottime - start > 0
    check_simulator(env, box, packs)
    service.close()
    box.close()


def test_retry_after_sets_the_wait(env, protocol, faults, tmp_path):
    packs = list(itertools.islice(env.home_packs, 1))
    box, clock = setup_outbox(tmp_path, env, packs, undo_every=99)
    service = client(env, protocol)
    worker = worker_for(box, service, clock, 7)
    drive(worker, clock, lambda: worker.breaker.state == "closed")
    faults({"outage": True, "retryAfterSeconds": 40})
    worker.step()
    faults({})
    assert box.ops()[0]["last_error_class"] == "retry_later"
    assert worker.not_before_ns - clock.boottime >= 40 * 10**9
    drive(worker, clock, lambda: box.pending_count() == 0)
    service.close()
    box.close()


def test_bad_credentials_pause_the_queue_without_failing_ops(env, protocol, tmp_path):
    packs = list(itertools.islice(env.home_packs, 2))
    box, clock = setup_outbox(tmp_path, env, packs, undo_every=99)
    bad = client(env, protocol, secret="wrong-secret")
    worker = worker_for(box, bad, clock, 8)
    drive(worker, clock, lambda: box.read_meta("paused") is not None, max_steps=20)
    assert box.read_meta("paused") == "pause_auth"
    assert {r["state"] for r in box.ops()} == {"queued"}
    bad.close()
    good = client(env, protocol)
    worker = worker_for(box, good, clock, 8)
    worker.resume("credentials changed")
    drive(worker, clock, lambda: box.pending_count() == 0)
    check_simulator(env, box, packs)
    good.close()
    box.close()


def test_recovery_batch_with_a_foreign_product_resends_it_alone(env, protocol, tmp_path):
    foreign = env.admin("POST", "/admin/seed", {"packs": 2, "seed": 77, "market": "DE"})["packs"]
    packs = list(itertools.islice(env.home_packs, 6)) + foreign[protocol == "soap":][:1]
    box, clock = setup_outbox(tmp_path, env, packs, undo_every=99)
    service = client(env, protocol)
    worker = worker_for(box, service, clock, 9, bulk_threshold=5, poll_first_s=0.1)
    drive(worker, clock, lambda: box.pending_count() == 0)
    rows = box.ops()
    assert {r["state"] for r in rows} == {"done"}
    last = rows[-1]
    assert last["single_only"] == 1 and last["intermarket"] == 1  # intermarket: single-pack only
    check_simulator(env, box, packs)
    service.close()
    box.close()


# -- TLS problems (section 4.3, section 7 "TLS") ------------------------------------------------------

def one_send(sim, tmp_path, service, synced=True):
    p = next(sim.home_packs)
    clock = FakeClock(synced=synced)
    box = open_sqlite_outbox(str(tmp_path / "t.db"), clock, reserve_bytes=0)
    box.write_meta("clock_floor_ns", "0")
    box.record(OpRequest("verify", pack_ref(p), p["raw"], "ph", "deferred"))
    worker = worker_for(box, service, clock, 1)
    for _ in range(3):
        clock.advance(worker.step())
    status = worker.status()  # what the screen's badge shows
    result = (box.read_meta("paused"), box.ops()[0]["state"], box.ops()[0]["last_error_class"], worker.breaker.failures,
              (status["level"], "certificate" in status["text"]))
    box.close()
    service.close()
    return result


def test_wrong_ca_is_not_sent(env, protocol, tmp_path):
    other_pem = tmp_path / "other-ca.pem"
    env.pki.other_ca.cert_pem.write_to_path(str(other_pem))
    service = client(env, protocol, ca=other_pem)
    answer = service.ping()
    service.close()
    assert (answer.transport, answer.transport_error) == ("not_sent", "tls_untrusted")


@REST_ONLY
def test_missing_client_certificate_pauses_the_queue(env, protocol, tmp_path):
    """Section 4.3: the service demands a client certificate and none is configured: ``pause_cert``."""
    result = one_send(env, tmp_path, client(env, protocol, cert=False))
    # Closed at start (section 6.2): the first op meets the refusal, goes back to queued (#8) and the
    # queue pauses; the breaker is untouched.
    assert result == ("pause_cert", "queued", "pause_cert", 0, ("amber", True))


@REST_ONLY
def test_missing_client_certificate_never_makes_a_state_change_uncertain(env, protocol, tmp_path):
    """The link was up (breaker closed) when the certificate went missing: the dispense that meets
    the refusal goes back to ``queued`` (#8), never ``uncertain`` (#7), and nothing is applied."""
    packs = list(itertools.islice(env.home_packs, 3))
    box, clock = setup_outbox(tmp_path, env, packs, undo_every=2)
    good = client(env, protocol)
    worker = worker_for(box, good, clock, 10, bulk_threshold=1000)
    assert worker.breaker.state == "closed"  # closed at process start (section 6.2)
    assert {r["state"] for r in box.ops()} == {"queued"}
    service = client(env, protocol, cert=False)
    worker.client = service  # the configuration lost its client certificate
    seen = set()
    for _ in range(6):
        clock.advance(worker.step())
        seen |= {r["state"] for r in box.ops()}
    service.close()
    assert box.read_meta("paused") == "pause_cert"
    assert "tls_client_cert" in box.read_meta("paused_detail")
    assert seen == {"queued"}, seen  # never in_flight after a step, never uncertain
    assert attempts(box, "outcome") == ["pause_cert"]  # one attempt, then the queue waits
    assert worker.breaker.failures == 0
    for p in packs:
        assert env.history(p["scheme"], p["productCode"], p["serial"])["state"] == "Active"
    worker.client = good
    worker.resume("client certificate installed")
    drive(worker, clock, lambda: box.pending_count() == 0)
    assert {r["state"] for r in box.ops()} == {"done"}
    check_simulator(env, box, packs)
    good.close()
    box.close()


@pytest.mark.parametrize("problem", ["expired-certificate", "refused-by-the-service"])
def test_a_certificate_problem_pauses_the_queue(env, protocol, faults, tmp_path, problem):
    """Section 4.3: an expired client certificate (refused in the TLS handshake) or one the service
    refuses (``NMVS_FE_PKI_01``) pauses the queue with ``pause_cert``; no op fails, the breaker is untouched."""
    cert = None
    if problem == "expired-certificate":
        cert = env.pki.client_files(days=(-60, -1), name=f"expired-{protocol}")
    else:
        faults({"certificateExpired": True})
    paused, state, _error, failures, badge = one_send(env, tmp_path, client(env, protocol, cert=cert))
    assert (paused, state, failures, badge) == ("pause_cert", "queued", 0, ("amber", True))


@pytest.mark.parametrize("validity", ["expired", "not_yet_valid"])
def test_server_certificate_validity_with_an_unsynchronised_clock_pauses_for_the_clock(protocol, tmp_path, validity):
    days = (-30, -1) if validity == "expired" else (1, 30)
    with mtls_simulator(tmp_path, server_days=days, seed_packs=2) as sim:
        sim.home_packs = iter(sim.seeded_packs())
        paused, state, _e, failures, _b = one_send(sim, tmp_path, client(sim, protocol), synced=False)
        assert (paused, state, failures) == ("pause_clock", "queued", 0)  # no op fails, breaker untouched
        (tmp_path / "t.db").unlink()
        paused, state, _e, _f, _b = one_send(sim, tmp_path, client(sim, protocol), synced=True)
        assert (paused, state) == (None, "queued")  # a synchronised clock: the server is wrong, not_sent
