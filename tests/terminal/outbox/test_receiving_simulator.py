"""Receiving bulks against the real simulator, over REST and SOAP (issue 17; two_protocols).

A delivery scanned at the dock (receive mode: decommission on receipt, Art. 25(2)) is recorded in the
real SQLite outbox and sent by the real worker and client to one simulator serving both facades over
mutual TLS. The worker is stepped on a FakeClock (scanning at 2 per second, gather and poll timers take no
real time); the network and the simulator are real. Checked: the delivery goes in a few mixed bulks
(G195/G196), each pack is settled with its own answer (by ClientTrxId), an alert is red for its own pack
only, an unknown product is resent alone (intermarket), a bulk whose results never come is reconciled by
verify and never decommissioned twice, and an outage in the middle loses nothing.
"""

import itertools

import pytest
from two_protocols import open_client, pack_ref, seed

from fmd_core.service import PackRef
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

TIMEOUTS = {"connect": 2.0, "read": 5.0, "total": 8.0}
SETTINGS = dict(start_jitter_s=0, quiet_s=1, gather_count=100, gather_wait_s=60, gather_quiet_s=1.5,
                gather_poll_s=0.2, rate=0)
_seeds = itertools.count(51700)


@pytest.fixture
def sim(mtls_sim):
    """The module's simulator (tests/terminal/conftest.py; ``faults`` resets its faults after a test)."""
    return mtls_sim


def dock(tmp_path, sim, protocol, **settings):
    clock = FakeClock()
    box = open_sqlite_outbox(str(tmp_path / "dock.db"), clock, reserve_bytes=0)
    service = open_client(sim, protocol, timeouts=TIMEOUTS)
    return box, clock, SyncWorker(box, service, clock, SyncSettings(**{**SETTINGS, **settings}))


def settle(worker, clock, max_steps=3000):
    """Step the worker until nothing is due now (each step's delay passes on the FakeClock, capped)."""
    for _ in range(max_steps):
        delay = worker.step()
        if delay > 0:
            return
    raise AssertionError("the worker never rested")


def scan(box, clock, worker, refs):
    """The dock scans ``refs`` at 2 per second; the worker runs between scans."""
    for ref in refs:
        box.record(OpRequest("dispense", ref, "raw", "dock", "deferred", mode="receive"))
        settle(worker, clock)
        clock.advance(0.5)


def drain(worker, clock, until, max_steps=5000):
    for _ in range(max_steps):
        if until():
            return
        clock.advance(min(worker.step(), 5.0))
    raise AssertionError(f"not drained; pending {worker.outbox.pending_count()}")


def bulks(box):
    return {a["bulk_id"] for r in box.ops() for a in box.attempts(r["seq"]) if a["action"] == "bulk_submit"}


def successes(sim, ref, history=None):
    history = history or sim.history(ref.scheme, ref.product_code, ref.serial)["history"]
    return [h for h in history if h["requestedState"] == "Supplied" and h["result"] == "NMVS_SUCCESS"]


def test_a_delivery_of_250_goes_in_three_bulks_and_each_pack_gets_its_own_answer(sim, protocol, tmp_path):
    packs = seed(sim, 246, next(_seeds))
    recalled = packs[7]
    sim.admin("POST", f"/admin/batches/{recalled['scheme']}/{recalled['productCode']}/{recalled['batch']}/recall")
    foreign = sim.admin("POST", "/admin/seed", {"packs": 1, "seed": next(_seeds), "market": "DE"})["packs"][0]
    unknown = [PackRef(p["scheme"], p["productCode"], p["serial"][:-1] + "Q" if p["serial"][-1] != "Q" else "X",
                       p["batch"], p["expiry"]) for p in packs[40:43]]  # unknown serials: an alert each
    refs = [pack_ref(p) for p in packs[:100]] + unknown + [pack_ref(foreign)] + [pack_ref(p) for p in packs[100:]]
    box, clock, worker = dock(tmp_path, sim, protocol)
    scan(box, clock, worker, refs)
    drain(worker, clock, lambda: box.pending_count() == 0)

    assert len(refs) == 250 and len(bulks(box)) == 3  # 100 + 100 + the last 50 at the pause
    rows = {r["serial"]: r for r in box.ops()}
    assert len(rows) == 250
    in_recalled = {p["serial"] for p in packs if (p["productCode"], p["batch"]) == (recalled["productCode"],
                                                                                    recalled["batch"])}
    alerted = {a["serial"]: a for a in sim.alerts() if a.get("serial") in {u.serial for u in unknown}}
    for ref in refs:
        row = rows[ref.serial]
        history = sim.history(ref.scheme, ref.product_code, ref.serial)["history"]
        trx = [h["clientTrxId"] for h in history if h.get("clientTrxId")]
        if ref.serial in {u.serial for u in unknown}:
            # red for its own pack: the alert the service raised for this serial, refused after the fact
            assert (row["state"], row["return_code"]) == ("needs_attention", "NMVS_NC_PC_02"), ref.serial
            assert row["alert_id"] == alerted[ref.serial]["alertId"]
        elif ref.serial in in_recalled:
            assert (row["state"], row["return_code"], row["alert_id"]) == (
                "needs_attention", "NMVS_FE_LOT_01", None), ref.serial
            assert successes(sim, ref, history) == []
        elif ref.serial == foreign["serial"]:  # no intermarket lookup in bulk: resent alone, then supplied
            assert (row["state"], row["single_only"], row["intermarket"]) == ("done", 1, 1)
            assert len(successes(sim, ref, history)) == 1
            assert len(set(trx)) == 2 and trx[-1] == row["client_trx_id"]  # resent under a new id (NC_PC_01)
            continue
        else:
            assert (row["state"], row["return_code"], row["alert_id"]) == ("done", "NMVS_SUCCESS", None), ref.serial
            (applied,) = successes(sim, ref, history)  # exactly once, under this op's own ClientTrxId, in a bulk
            assert applied["clientTrxId"] == row["client_trx_id"] and applied["bulkId"]
            assert row["svc_trx_id"] == applied["nmvsTrxId"]
        assert trx == [row["client_trx_id"]] * len(trx)
    assert len(alerted) == 3 and len(in_recalled) >= 1
    singles = [a for r in box.ops() for a in box.attempts(r["seq"]) if a["action"] == "send"]
    assert [a["seq"] for a in singles] == [rows[foreign["serial"]]["seq"]]  # the only single-pack request
    worker.client.close()
    box.close()


def test_a_bulk_whose_results_never_come_is_reconciled_by_verify_never_sent_twice(sim, protocol, faults, tmp_path):
    refs = [pack_ref(p) for p in seed(sim, 20, next(_seeds))]
    box, clock, worker = dock(tmp_path, sim, protocol, results_timeout_s=30)
    faults({"holdBulk": True})  # the service takes the bulk, and its results never come
    scan(box, clock, worker, refs)
    drain(worker, clock, lambda: {r["state"] for r in box.ops()} == {"uncertain"})
    assert len(bulks(box)) == 1
    faults({})  # the service processes the bulk after all: every pack is Supplied once
    drain(worker, clock, lambda: all(len(successes(sim, ref)) == 1 for ref in refs), max_steps=400)
    drain(worker, clock, lambda: box.pending_count() == 0)
    rows = box.ops()
    assert {(r["state"], r["reconciled"]) for r in rows} == {("done", "verify")}
    actions = {a["action"] for r in rows for a in box.attempts(r["seq"])}
    assert actions == {"bulk_submit", "reconcile_verify"} and len(bulks(box)) == 1  # never resent
    assert all(len(successes(sim, ref)) == 1 for ref in refs)
    worker.client.close()
    box.close()


def test_an_outage_in_the_middle_of_a_delivery_loses_nothing_and_decommissions_once(sim, protocol, faults, tmp_path):
    refs = [pack_ref(p) for p in seed(sim, 250, next(_seeds))]
    box, clock, worker = dock(tmp_path, sim, protocol)
    scan(box, clock, worker, refs[:100])
    faults({"outage": True})
    scan(box, clock, worker, refs[100:200])  # the dock goes on scanning; every scan is recorded
    assert box.pending_count() >= 100 and worker.failures >= 1  # refused by the outage (503), kept
    faults({})
    scan(box, clock, worker, refs[200:])
    drain(worker, clock, lambda: box.pending_count() == 0)
    rows = box.ops()
    assert len(rows) == 250 and {r["state"] for r in rows} == {"done"}
    assert all(len(successes(sim, ref)) == 1 for ref in refs)
    assert 3 <= len(bulks(box)) <= 8  # a few bulks, some refused by the outage and sent again
    keys = {ref.serial for ref in refs}
    assert [a for a in sim.alerts() if a.get("serial") in keys] == []
    worker.client.close()
    box.close()
