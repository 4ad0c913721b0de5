"""The sync worker (OFFLINE-QUEUE.md section 6) against the model service, on an injected clock."""

import random

import pytest
from outbox_fakes import ModelService, check_invariants, drain, pack

from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker


def make(outbox, clock, service, seed=1, **settings):
    values = dict(start_jitter_s=0.0)
    values.update(settings)
    return SyncWorker(outbox, service, clock, SyncSettings(**values), random.Random(seed))


def rec(box, kind, n, origin="deferred"):
    result = box.record(OpRequest(kind, pack(n), f"raw{n}", "ph1", origin))
    assert result.op is not None, result.refusal.reason
    return result.op


def test_drains_in_pack_order_without_duplicates(outbox, clock):
    service = ModelService([pack(n) for n in range(1, 6)])
    for n in range(1, 6):
        rec(outbox, "dispense", n)
    rec(outbox, "undo_dispense", 2)
    rec(outbox, "dispense", 2)
    rec(outbox, "verify", 3)
    worker = make(outbox, clock, service)
    drain(worker, clock)
    assert {r["state"] for r in outbox.ops()} == {"done"}
    assert service.applied(pack(2).pack_key) == ["Supplied", "Active", "Supplied"]
    check_invariants(outbox, service)
    settled = worker.take_resolutions()
    assert sorted(s.seq for s in settled) == list(range(1, 9))  # resolved events for deferred ops
    assert worker.take_resolutions() == []


def test_rate_cap_holds_default_pace(outbox, clock):
    service = ModelService([pack(n) for n in range(1, 31)])
    for n in range(1, 31):
        rec(outbox, "dispense", n)
    worker = make(outbox, clock, service, breaker_threshold=5)
    start = clock.boottime
    drain(worker, clock)
    seconds = (clock.boottime - start) / 1e9
    requests = len(service.calls)
    assert requests == 30  # closed at process start (OFFLINE-QUEUE.md 6.2): no probe before the first send
    assert requests <= 5 + 5 * seconds + 1, f"{requests} requests in {seconds:.1f} s"


def test_outage_opens_the_breaker_and_probes_close_it(outbox, clock):
    service = ModelService([pack(n) for n in range(1, 4)])
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    for n in range(1, 4):
        rec(outbox, "dispense", n)
    service.outage = True
    drain(worker, clock, max_steps=200, until=lambda: worker.breaker.state == "open")
    assert ("breaker", "open") in worker.events
    assert {r["state"] for r in outbox.ops()} == {"queued"}  # 503: not executed, back to queued (#6)
    calls_before = len(service.calls)
    clock.advance(600)
    for _ in range(20):
        clock.advance(worker.step())
    probes = [c for c in service.calls[calls_before:] if c[0] == "ping"]
    assert probes and len(probes) == len(service.calls[calls_before:])  # only read-only probes while open
    service.outage = False
    drain(worker, clock)
    assert ("breaker", "closed") in worker.events
    check_invariants(outbox, service)


@pytest.mark.parametrize("fault", ["drop_after", "timeout_applied"])
@pytest.mark.parametrize("reuse_check", [True, False])
def test_uncertain_outcome_applied_is_confirmed_by_verify(outbox, clock, fault, reuse_check):
    service = ModelService([pack(1)], reuse_check=reuse_check)
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    op = rec(outbox, "dispense", 1)
    service.faults = [fault]
    clock.advance(worker.step())
    assert outbox.op(op.seq)["state"] == "uncertain"
    assert outbox.view(op.pack.pack_key).blocked_seq == op.seq
    # the quiet period: nothing is sent for 60 s
    calls = len(service.calls)
    for _ in range(5):
        worker.step()
        clock.advance(10)
    assert len(service.calls) == calls
    drain(worker, clock)
    row = outbox.op(op.seq)
    assert (row["state"], row["reconciled"]) == ("done", "verify")
    assert service.applied(op.pack.pack_key) == ["Supplied"]
    assert [c[0] for c in service.calls[calls:]] == ["verify"]  # verified, never resent
    check_invariants(outbox, service)


@pytest.mark.parametrize("reuse_check", [True, False])
def test_uncertain_outcome_not_applied_is_resent_with_the_same_id(outbox, clock, reuse_check):
    service = ModelService([pack(1)], reuse_check=reuse_check)
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    op = rec(outbox, "dispense", 1)
    service.faults = ["drop_before"]
    drain(worker, clock)
    row = outbox.op(op.seq)
    assert (row["state"], row["reconciled"], row["client_trx_id"]) == ("done", None, op.client_trx_id)
    sent = [a for a in outbox.attempts(op.seq) if a["action"] == "send"]
    assert [a["client_trx_id"] for a in sent] == [op.client_trx_id] * 2
    assert [a["action"] for a in outbox.attempts(op.seq)] == ["send", "reconcile_verify", "send"]
    check_invariants(outbox, service)


def test_duplicate_id_without_effect_gets_a_new_id_once(outbox, clock):
    service = ModelService([pack(1)])
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    op = rec(outbox, "dispense", 1)
    service.used_ids.add(op.client_trx_id)  # an earlier attempt used the id without effect
    drain(worker, clock)
    row = outbox.op(op.seq)
    assert row["state"] == "done" and row["client_trx_id"] != op.client_trx_id and row["renewals"] == 1
    check_invariants(outbox, service)


def test_refusal_of_a_deferred_op_needs_attention_and_blocks_the_pack(outbox, clock):
    service = ModelService([pack(1)])
    service.state[pack(1).pack_key] = "Destroyed"
    service.set_by[pack(1).pack_key] = "other"
    worker = make(outbox, clock, service)
    op = rec(outbox, "dispense", 1)
    later = rec(outbox, "verify", 1)
    drain(worker, clock, until=lambda: outbox.attention_count() == 1)
    row = outbox.op(op.seq)
    assert (row["state"], row["return_code"], row["alert_code"]) == ("needs_attention", "NMVS_NC_PCK_22", "A24")
    assert outbox.record(OpRequest("undo_dispense", pack(1), "r")).refusal.reason == "pack_blocked"
    for _ in range(20):
        clock.advance(worker.step())
    assert outbox.op(later.seq)["state"] == "queued"  # P5: later ops of the pack wait
    assert outbox.resolve(op.seq, "accept", "ph2") == "rejected"  # 17
    drain(worker, clock)
    assert outbox.op(later.seq)["state"] == "done"
    person = outbox.attempts(op.seq)[-1]
    assert (person["action"], person["user_id"], person["outcome"]) == ("person", "ph2", "accept")


def test_live_refusal_is_rejected(outbox, clock):
    service = ModelService([])  # unknown serial: NC_PC_02 with an alert
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    op = rec(outbox, "dispense", 1, origin="live")
    worker.live.append(op.seq)
    worker.step()
    assert outbox.op(op.seq)["state"] == "rejected"
    assert worker.live_results[op.seq].state == "rejected"


def test_retry_after_is_honoured(outbox, clock):
    service = ModelService([pack(1)])
    service.retry_after_s = 120
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    rec(outbox, "dispense", 1)
    service.faults = ["throttle"]
    start = clock.boottime
    worker.step()
    assert outbox.ops()[0]["state"] == "queued"
    drain(worker, clock)
    assert (clock.boottime - start) / 1e9 >= 120
    assert worker.bucket.halved_until_ns > start  # rate halved after a 429


def test_pause_auth_changes_no_op_and_waits_for_resume(outbox, clock):
    service = ModelService([pack(1), pack(2)])
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    rec(outbox, "dispense", 1)
    rec(outbox, "dispense", 2)
    service.faults = ["auth"]
    worker.step()
    assert outbox.read_meta("paused") == "pause_auth"
    assert {r["state"] for r in outbox.ops()} == {"queued"}
    calls = len(service.calls)
    for _ in range(50):
        clock.advance(worker.step())
    assert len(service.calls) == calls  # never automatically: repeated logins lock the account
    assert "login refused" in worker.status()["text"]
    worker.resume("administrator")
    drain(worker, clock)
    check_invariants(outbox, service)


def test_recovery_endpoint_drains_a_large_backlog_in_pack_order(outbox, clock):
    n = 150
    service = ModelService([pack(i) for i in range(1, n + 1)])
    service.bulk_ready_after = 2
    for i in range(1, n + 1):
        rec(outbox, "dispense", i)
    for i in range(1, 21):
        rec(outbox, "undo_dispense", i)
    worker = make(outbox, clock, service)
    drain(worker, clock)
    submits = [c for c in service.calls if c[0] == "submit"]
    assert submits[0] == ("submit", "150") and len(submits) == 1  # the 20 undos wait for their dispense
    assert {r["state"] for r in outbox.ops()} == {"done"}
    check_invariants(outbox, service)
    assert all(service.applied(pack(i).pack_key) == ["Supplied", "Active"] for i in range(1, 21))


def test_recovery_foreign_product_is_resent_alone(outbox, clock):
    service = ModelService([pack(i) for i in range(1, 101)] + [pack(500, "04000000000001")])
    for i in range(1, 101):
        rec(outbox, "dispense", i)
    foreign = outbox.record(OpRequest("dispense", pack(500, "04000000000001"), "raw", "ph1", "deferred")).op
    worker = make(outbox, clock, service)
    drain(worker, clock)
    assert outbox.op(foreign.seq)["state"] == "done" and outbox.op(foreign.seq)["single_only"] == 1
    assert ("change", foreign.pack.pack_key) in service.calls
    check_invariants(outbox, service)


def test_lost_recovery_submission_is_reconciled_item_by_item(outbox, clock):
    service = ModelService([pack(i) for i in range(1, 101)])
    for i in range(1, 101):
        rec(outbox, "dispense", i)
    worker = make(outbox, clock, service)
    drain(worker, clock, until=lambda: worker.breaker.state == "closed")
    service.faults = ["drop_after"]
    drain(worker, clock, max_steps=100000)
    rows = outbox.ops()
    assert {r["state"] for r in rows} == {"done"} and {r["reconciled"] for r in rows} == {"verify"}
    check_invariants(outbox, service)


def test_random_faults_keep_every_invariant(outbox, clock):
    rng = random.Random(7)
    service = ModelService([pack(i) for i in range(1, 41)], seed=7)
    service.fault_rate = 0.3
    service.fault_kinds = ("drop_before", "drop_after", "error", "throttle", "timeout", "timeout_applied",
                           "refused", "bad_body")
    worker = make(outbox, clock, service, seed=7)
    for i in range(1, 41):
        rec(outbox, "dispense", i)
        if rng.random() < 0.3:
            rec(outbox, "undo_dispense", i)
    drain(worker, clock, max_steps=100000)
    assert {r["state"] for r in outbox.ops()} == {"done"}
    check_invariants(outbox, service)


def test_answer_for_a_transaction_never_sent_settles_nothing(outbox, clock):
    class Confused(ModelService):
        def change_state(self, p, state, trx, ref=None):
            answer = super().change_state(p, state, trx, ref)
            if self.calls.count(("change", p.pack_key)) == 1:  # the first answer names another transaction
                values = answer.as_dict()
                values["client_trx_id"] = "f" * 32
                from fmd_core.service import ServiceAnswer

                return ServiceAnswer(**values)
            return answer

    service = Confused([pack(1)])
    worker = make(outbox, clock, service)
    op = rec(outbox, "dispense", 1)
    drain(worker, clock)
    row = outbox.op(op.seq)
    assert (row["state"], row["reconciled"]) == ("done", "verify")  # verified, not trusted, never resent
    assert service.applied(pack(1).pack_key) == ["Supplied"]
    assert [a["outcome"] for a in outbox.attempts(op.seq)] == ["unknown", "success"]


def test_recovery_results_are_matched_by_transaction_id(outbox, clock):
    class Shuffled(ModelService):
        def fetch_results(self, ref):
            answer, items = super().fetch_results(ref)
            if items:
                items = list(reversed(items))
                items[0] = type(items[0])(**dict(items[0].as_dict(), client_trx_id="e" * 32))  # a stranger
            return answer, items

    n = 100
    service = Shuffled([pack(i) for i in range(1, n + 1)])
    for i in range(1, n + 1):
        rec(outbox, "dispense", i)
    worker = make(outbox, clock, service)
    drain(worker, clock)
    rows = outbox.ops()
    assert {r["state"] for r in rows} == {"done"}
    assert sum(1 for r in rows if r["reconciled"] == "verify") == 1  # the op whose result was replaced
    check_invariants(outbox, service)
