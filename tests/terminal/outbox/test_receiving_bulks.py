"""Receiving bulks (issue 17): the gather policy, on a FakeClock against the model service.

A receiving op (a state change recorded in a receiving mode, ``outbox.gathered``) waits for company and
goes in one mixed bulk (G195/G196) when ``gather_count`` wait, the oldest waited ``gather_wait_s`` or no
new one came for ``gather_quiet_s``; everything else (the counter, verifications, an unknown product
resent alone) keeps its single-pack path. The simulator runs are in ``test_receiving_simulator.py``.
"""

import random

import pytest
from outbox_fakes import ModelService, check_invariants, drain, pack

from fmd_terminal.config import Config
from fmd_terminal.config_rules import problems
from fmd_terminal.errors import ConfigError
from fmd_terminal.outbox import OpRequest, gathered
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker, gather_due

S = 1_000_000_000


def make(outbox, clock, service, **settings):
    values = dict(start_jitter_s=0.0, gather_count=10, gather_wait_s=5.0, gather_quiet_s=1.0, gather_poll_s=0.2)
    values.update(settings)
    return SyncWorker(outbox, service, clock, SyncSettings(**values), random.Random(3))


def receive(box, n, kind="dispense"):
    return box.record(OpRequest(kind, pack(n), f"raw{n}", "dock", "live", mode="receive")).op


def counter(box, n):
    return box.record(OpRequest("dispense", pack(n), f"raw{n}", "ph", "live", mode="dispense")).op


def test_which_ops_are_gathered():
    assert gathered("dispense", "receive") and gathered("destroy", "receive")
    assert not gathered("verify", "receive")  # G195 takes no verification: it goes alone
    assert not gathered("dispense", "receive", single_only=True)  # unknown product: alone, intermarket
    assert not gathered("dispense", "dispense") and not gathered("dispense", None)  # the counter


def test_gather_due_by_count_age_and_quiet():
    settings = SyncSettings(gather_count=10, gather_wait_s=5.0, gather_quiet_s=1.0)
    assert gather_due(0, None, None, settings) is None
    assert gather_due(10, 0, 0, settings) == 0.0  # a full bulk
    assert gather_due(3, 5 * S, 0, settings) == 0.0  # the oldest waited long enough
    assert gather_due(3, 2 * S, S, settings) == 0.0  # the scanning paused
    assert gather_due(3, 2 * S, S // 2, settings) == pytest.approx(0.5)  # the quiet time comes first
    assert gather_due(3, 4.8 * S, 0, settings) == pytest.approx(0.2)  # the oldest's wait comes first
    assert gather_due(3, None, 0, settings) == 0.0  # recorded before a reboot: send


def test_a_delivery_goes_in_bulks_while_the_counter_is_served_alone(outbox, clock):
    service = ModelService([pack(n) for n in range(1, 30)])
    worker = make(outbox, clock, service)
    for n in range(1, 8):
        receive(outbox, n)
        clock.advance(0.5)
        assert worker.step() > 0  # seven waiting, the newest 0.5 s old: not yet
    counter(outbox, 20)
    worker.step()
    assert service.calls == [("change", pack(20).pack_key)]  # the counter's op went at once, alone
    clock.advance(0.5)  # no receiving scan for 1 s: the seven go in one bulk
    worker.step()
    assert service.calls[-1] == ("submit", "7")
    drain(worker, clock)
    assert [c[0] for c in service.calls] == ["change", "submit", "fetch"]
    rows = outbox.ops()
    assert {r["state"] for r in rows} == {"done"}
    assert all(r["svc_trx_id"] for r in rows)  # each op settled with its own answer
    check_invariants(outbox, service)


def test_a_full_bulk_goes_at_once_and_the_oldest_never_waits_past_gather_wait(outbox, clock):
    service = ModelService([pack(n) for n in range(1, 40)])
    worker = make(outbox, clock, service, gather_count=10, gather_wait_s=2.0, gather_quiet_s=30.0)
    for n in range(1, 11):
        receive(outbox, n)
    worker.step()
    assert service.calls == [("submit", "10")]
    drain(worker, clock, until=lambda: not worker.bulks)
    for n in range(11, 14):
        receive(outbox, n)
        clock.advance(0.6)  # a slow but steady scanning: the quiet time never runs out
        worker.step()
    assert service.calls[-1][0] == "fetch"  # 1.8 s: still gathering
    clock.advance(0.3)
    worker.step()
    assert service.calls[-1] == ("submit", "3")  # the oldest waited 2 s


def test_a_receiving_verification_is_sent_alone(outbox, clock):
    service = ModelService([pack(1)])
    worker = make(outbox, clock, service)
    receive(outbox, 1, kind="verify")
    worker.step()
    assert service.calls == [("verify", pack(1).pack_key)]


def test_gather_count_zero_sends_receiving_ops_one_by_one(outbox, clock):
    service = ModelService([pack(1), pack(2)])
    worker = make(outbox, clock, service, gather_count=0)
    receive(outbox, 1)
    receive(outbox, 2)
    drain(worker, clock)
    assert [c[0] for c in service.calls] == ["change", "change"]


def test_a_receiving_scan_is_handed_back_at_once_and_settles_as_a_late_result(outbox, clock):
    service = ModelService([pack(1)])
    worker = make(outbox, clock, service)
    op = receive(outbox, 1)
    ticket = worker.submit_live(op, 3.0)
    assert ticket.gathered
    assert worker.live_result(ticket) == (True, None)  # "recorded, awaiting answer" at once
    assert worker.live == [] and service.calls == []
    clock.advance(1.0)
    drain(worker, clock)
    (late,) = worker.take_resolutions()
    assert (late.seq, late.state, late.answer.operation_code) == (op.seq, "done", "NMVS_SUCCESS")


@pytest.mark.parametrize(("sync", "fragment"), [
    ({"gather_count": 300}, "sync.gather_count = 300"),
    ({"gather_count": 150, "batch_size": 100}, "sync.batch_size = 100"),
    ({"gather_count": -1}, "sync.gather_count = -1"),
    ({"gather_wait_s": "10"}, "sync.gather_wait_s"),
])
def test_a_bad_gather_setting_is_one_clear_line_in_three_languages(sync, fragment):
    (problem,) = problems(Config(service="scripted://success", sync=sync), ("sync",))
    assert isinstance(problem, ConfigError) and fragment in str(problem)
    texts = {lang: problem.in_language(lang) for lang in ("fr", "en", "de")}
    assert len(set(texts.values())) == 3 and all(fragment.split(" =")[0] in t for t in texts.values())


def test_gather_settings_within_bounds_are_accepted():
    assert problems(Config(service="scripted://success", sync={"gather_count": 0}), ("sync",)) == []
    assert problems(Config(service="scripted://success", sync={"gather_count": 200, "gather_wait_s": 30,
                                                                 "gather_quiet_s": 2, "gather_poll_s": 0.5}),
                    ("sync",)) == []


def test_a_pack_scanned_since_the_start_is_not_held_behind_the_backlogs_randomised_start(outbox, clock):
    """Two receiving ops recorded before the terminal started (backlog: held by the randomised start) and
    one scanned since: once the gather is due, the bulk goes at once and carries all three; without the
    fresh one, the backlog alone waits for the randomised start."""
    service = ModelService([pack(n) for n in range(1, 10)])
    receive(outbox, 1)
    receive(outbox, 2)
    clock.advance(1.0)
    worker = make(outbox, clock, service, start_jitter_s=600.0)
    worker.rng = random.Random(1)
    clock.advance(2.0)
    worker.step()
    assert worker.backlog_not_before_ns > clock().boottime_ns  # the randomised start runs
    assert service.calls == []  # the backlog alone: held
    receive(outbox, 3)
    clock.advance(1.5)  # the quiet time after the fresh scan
    worker.step()
    assert service.calls == [("submit", "3")]  # the three in one bulk, at once
