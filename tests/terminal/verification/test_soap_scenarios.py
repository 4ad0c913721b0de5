"""One scenario suite, two protocols (issue 6, point 3): the outbox and its sync worker end to end.

The real SQLite outbox and ``SyncWorker`` replay recorded scans through the real REST or SOAP client
to one mutual-TLS simulator. The worker's timers run on a ``FakeClock`` (no sleeping); the network
is real. Every scenario runs over both protocols and checks the simulator's own record: each
change applied exactly once, in order, and no alert raised for a valid workload (OFFLINE-QUEUE.md
section 9, I3-I5).
"""

from __future__ import annotations

import itertools
import random

import pytest

from fmd_core.service import PackRef
from fmd_terminal.outbox import ALREADY_DISPENSED_HERE, OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
from fmd_terminal.verification.factory import open_service

FAST = {"connect": 2.0, "read": 3.0, "total": 5.0}
_seeds = itertools.count(20000)


def fresh(sim, n=1, market="FR"):
    packs = sim.admin("POST", "/admin/seed", {"packs": n, "seed": next(_seeds), "market": market})["packs"]
    return [PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"]) for p in packs]


@pytest.fixture(params=["rest", "soap"])
def protocol(request):
    return request.param


@pytest.fixture
def faults(soap_sim):
    yield soap_sim.set_faults
    soap_sim.set_faults({})


class Terminal:
    """Outbox + worker + client of one protocol, stepped on a fake clock."""

    def __init__(self, sim, protocol, tmp_path, cert=None, **settings):
        cert = cert or sim.client_files
        url = f"nmvs-soap+https://127.0.0.1:{sim.port}/soap" if protocol == "soap" else sim.base_url
        self.client = open_service(url, client_id="pharmacy-demo", client_secret="demo-secret", client_cert=cert[0],
                                   client_key=cert[1], ca_bundle=sim.pki.ca_bundle, timeouts=FAST)
        self.clock = FakeClock()
        self.outbox = open_sqlite_outbox(str(tmp_path / f"outbox-{protocol}.db"), self.clock, reserve_bytes=0)
        values = dict(start_jitter_s=0.0, probe_gap_s=0.0)
        values.update(settings)
        self.worker = SyncWorker(self.outbox, self.client, self.clock, SyncSettings(**values), random.Random(7))

    def record(self, kind, pack, origin="deferred"):
        return self.outbox.record(OpRequest(kind, pack, "raw", "ph1", origin))

    def drain(self, max_steps=400, until=None):
        for _ in range(max_steps):
            if until() if until is not None else self.outbox.pending_count() == 0:
                return
            delay = self.worker.step()
            if delay > 0:
                self.clock.advance(delay)
        raise AssertionError(f"not drained: {self.outbox.pending_count()} pending, {self.worker.status()}")

    def states(self):
        return [(r["kind"], r["state"]) for r in self.outbox.ops()]

    def close(self):
        self.outbox.close()
        self.client.close()


@pytest.fixture
def terminal(soap_sim, protocol, tmp_path):
    made = []

    def make(**options):
        made.append(Terminal(soap_sim, protocol, tmp_path, **options))
        return made[-1]

    yield make
    for t in made:
        t.close()


def applied(sim, pack):
    """The changes the simulator applied to ``pack`` (operation codes of successful changes)."""
    history = sim.history(pack.scheme, pack.product_code, pack.serial)["history"]
    return [h["operation"] for h in history if h["result"] == "NMVS_SUCCESS" and h["operation"] != "G110"]


def alerts_for(sim, packs):
    serials = {p.serial for p in packs}
    return [a for a in sim.alerts() if a.get("serial") in serials]


def test_counter_session_with_undo_and_double_scan(soap_sim, terminal):
    t = terminal()
    first, second, third = fresh(soap_sim, 3)
    for pack in (first, second, third):
        assert t.record("dispense", pack).op is not None
    assert t.record("dispense", first).refusal.reason == ALREADY_DISPENSED_HERE  # double scan, caught locally
    assert t.record("undo_dispense", second).op is not None
    assert t.record("verify", third).op is not None
    t.drain()
    assert {state for _, state in t.states()} == {"done"}
    assert [applied(soap_sim, p) for p in (first, second, third)] == [["G120"], ["G120", "G121"], ["G120"]]
    assert alerts_for(soap_sim, [first, second, third]) == []


def test_intermarket_dispense(soap_sim, terminal):
    t = terminal()
    foreign = fresh(soap_sim, market="DE")[0]
    t.record("dispense", foreign)
    t.drain()
    row = t.outbox.ops()[0]
    assert (row["kind"], row["state"], row["return_code"], row["intermarket"]) == (
        "dispense", "done", "NMVS_SUCCESS", 1)
    assert applied(soap_sim, foreign) == ["G120"]


def test_outage_records_offline_then_drains_once(soap_sim, terminal, faults):
    t = terminal(breaker_threshold=2)
    packs = fresh(soap_sim, 3)
    t.drain(until=lambda: t.worker.breaker.state == "closed")
    faults({"outage": True, "retryAfterSeconds": 1})
    for pack in packs:
        t.record("dispense", pack)
    t.drain(until=lambda: t.worker.breaker.state == "open")
    assert {state for _, state in t.states()} == {"queued"}  # 503: not executed
    faults({})
    t.drain()
    assert {state for _, state in t.states()} == {"done"}
    assert [applied(soap_sim, p) for p in packs] == [["G120"]] * 3
    assert alerts_for(soap_sim, packs) == []


def test_throttling_is_paced_by_retry_after(soap_sim, terminal, faults):
    t = terminal(probe_gap_s=1.0)  # the breaker's three probes must not outrun the bucket either
    packs = fresh(soap_sim, 4)
    for pack in packs:
        t.record("dispense", pack)
    # The simulator's token bucket reads the terminal's fake clock, so both sides share one time line.
    real_monotonic = soap_sim.app.faults.monotonic
    soap_sim.app.faults.monotonic = lambda: t.clock.boottime / 1e9
    try:
        faults({"throttleRps": 2, "retryAfterSeconds": 3})
        started = t.clock.boottime
        t.drain(max_steps=2000)
    finally:
        soap_sim.app.faults.monotonic = real_monotonic
    assert {state for _, state in t.states()} == {"done"}
    assert [applied(soap_sim, p) for p in packs] == [["G120"]] * 4
    statuses = [a["http_status"] for r in t.outbox.ops() for a in t.outbox.attempts(r["seq"])]
    assert 429 in statuses and statuses.count(200) == 4
    assert (t.clock.boottime - started) / 1e9 >= 3  # at least one Retry-After waited out


def test_dropped_answers_are_reconciled_without_double_decommission(soap_sim, terminal, faults):
    t = terminal(quiet_s=1.0)
    packs = fresh(soap_sim, 3)
    t.drain(until=lambda: t.worker.breaker.state == "closed")
    faults({"dropAfterApplyRate": 1.0})
    for pack in packs:
        t.record("dispense", pack)
    t.drain(until=lambda: all(state == "uncertain" for _, state in t.states()))
    faults({})
    t.drain()
    assert {state for _, state in t.states()} == {"done"}
    assert [applied(soap_sim, p) for p in packs] == [["G120"]] * 3  # applied once, confirmed by verify
    assert alerts_for(soap_sim, packs) == []


def test_recovery_upload_drains_a_backlog(soap_sim, terminal):
    t = terminal(bulk_threshold=5, batch_size=10, poll_first_s=0.01, poll_cap_s=0.05)
    packs = fresh(soap_sim, 8)
    for pack in packs:
        t.record("dispense", pack)
    t.record("undo_dispense", packs[0])
    t.drain(max_steps=2000)
    assert {state for _, state in t.states()} == {"done"}
    # one item per pack per upload (OFFLINE-QUEUE.md 6.3): the undo, left alone, goes single-pack
    assert applied(soap_sim, packs[0]) == ["G125", "G121"]
    assert [applied(soap_sim, p)[0] for p in packs[1:]] == ["G125"] * 7


def test_an_expired_client_certificate_pauses_the_queue(soap_sim, terminal):
    expired = soap_sim.pki.client_files(days=(-60, -1), name="expired-terminal")
    t = terminal(cert=expired)
    pack = fresh(soap_sim)[0]
    t.record("dispense", pack)
    t.drain(until=lambda: t.outbox.read_meta("paused") is not None)
    status = t.worker.status()
    assert t.outbox.read_meta("paused") == "pause_cert"
    assert status["level"] == "amber" and "certificate" in status["text"]
    assert t.states() == [("dispense", "queued")]  # a pause changes no op (section 4.3)
    assert applied(soap_sim, pack) == []
