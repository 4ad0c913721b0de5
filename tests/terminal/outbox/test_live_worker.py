"""The Worker port as the application uses it: the worker's thread, send_live and take_resolutions."""

import threading

from outbox_fakes import ModelService, pack

from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import SystemClock
from fmd_terminal.outbox.memory import MemoryOutbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker


class HeldService(ModelService):
    """Holds each change until the test releases it (a slow national system, without sleeping)."""

    def __init__(self, packs):
        super().__init__(packs)
        self.release = threading.Event()
        self.entered = threading.Event()

    def change_state(self, *args, **kwargs):
        self.entered.set()
        self.release.wait(30)
        return super().change_state(*args, **kwargs)


def started(service, box):
    worker = SyncWorker(box, service, SystemClock(),
                        SyncSettings(start_jitter_s=0, probe_gap_s=0, breaker_open_s=0.01)).start()
    return worker


def wait_for_resolutions(worker, timeout=30):
    with worker.cond:
        worker.cond.wait_for(lambda: worker.resolutions, timeout)
    return worker.take_resolutions()


def test_live_answer_in_time_is_returned():
    box = MemoryOutbox(SystemClock())
    service = ModelService([pack(1)])
    worker = started(service, box)
    try:
        op = box.record(OpRequest("dispense", pack(1), "raw", "ph", "live")).op
        settled = worker.send_live(op, 10)
        assert settled is not None and (settled.seq, settled.state) == (op.seq, "done")
        assert settled.answer.operation_code == "NMVS_SUCCESS"
        assert worker.take_resolutions() == []  # shown live: no later resolved event
    finally:
        worker.close()
        box.close()


def test_no_answer_in_time_defers_and_resolves_later():
    box = MemoryOutbox(SystemClock())
    service = HeldService([pack(1)])
    worker = started(service, box)
    try:
        op = box.record(OpRequest("dispense", pack(1), "raw", "ph", "live")).op
        assert worker.send_live(op, 0.3) is None
        assert service.entered.is_set()  # the request was on the wire
        assert box.op(op.seq)["origin"] == "deferred"  # the screen moved on: "recorded, awaiting answer"
        service.release.set()
        resolved = wait_for_resolutions(worker)
        assert [(s.seq, s.state) for s in resolved] == [(op.seq, "done")]
    finally:
        service.release.set()
        worker.close()
        box.close()


def test_a_refusal_after_the_screen_moved_on_needs_attention():
    box = MemoryOutbox(SystemClock())
    service = HeldService([])  # unknown serial: refused with an alert code
    worker = started(service, box)
    try:
        op = box.record(OpRequest("dispense", pack(1), "raw", "ph", "live")).op
        assert worker.send_live(op, 0.2) is None
        service.release.set()
        resolved = wait_for_resolutions(worker)
        assert [(s.seq, s.state) for s in resolved] == [(op.seq, "needs_attention")]  # 5, not 4
        assert box.attention_count() == 1
    finally:
        service.release.set()
        worker.close()
        box.close()


def test_a_live_op_that_must_wait_for_its_pack_does_not_spin_the_worker():
    """A live verify behind an uncertain op of its pack waits; the worker sleeps meanwhile."""
    box = MemoryOutbox(SystemClock())
    service = ModelService([pack(1), pack(2)])
    worker = started(service, box)
    try:
        warm = box.record(OpRequest("verify", pack(2), "raw", "ph", "live")).op
        assert worker.send_live(warm, 10).state == "done"  # the breaker is closed now
        service.faults = ["drop_after"]
        first = box.record(OpRequest("dispense", pack(1), "raw", "ph", "live")).op
        settled = worker.send_live(first, 10)
        assert settled is not None and settled.state == "uncertain"  # quiet period of 60 s before its verify
        verify = box.record(OpRequest("verify", pack(1), "raw", "ph", "live")).op
        steps = []
        original = worker.step
        worker.step = lambda: steps.append(1) or original()
        assert worker.send_live(verify, 0.5) is None
        assert 1 <= len(steps) < 50, f"{len(steps)} steps in 0.5 s: the worker spun"
    finally:
        worker.close()
        box.close()
