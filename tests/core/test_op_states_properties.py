"""Property tests of the state machine (OFFLINE-QUEUE.md section 9, T1).

A hypothesis rule-based machine drives the pure transition functions of ``fmd_core.op_states``
(classify, after_send, after_reconcile, after_restart) with random faults and crashes, against a
reference model of the service (VERIFICATION-SERVICE.md sections 5-6: pack state, ClientTrxId
namespace with the reuse check on or off, NC_PCK_23 for a repeated change). One pack, ops in scan
order (dispense, undo, dispense, ...), the head op only, as the outbox sends them (P4).

Invariants: a change takes effect at most once at any time (P3); an op that is ``done`` took effect
exactly once; no op is ever ``rejected`` or ``needs_attention`` for a valid workload; and once the
faults stop every op ends ``done``, applied once, in scan order.
"""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fmd_core import op_states
from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, ServiceAnswer

REQUESTED = {"dispense": "Supplied", "undo_dispense": "Active"}
FAULTS = ("none", "drop_before", "drop_after", "error_500", "unavailable_503", "refused_connect",
          "timeout_applied", "timeout_not_applied")


class Service:
    def __init__(self, reuse_check):
        self.state = "Active"
        self.reuse_check = reuse_check
        self.used = set()
        self.applied = []  # (op index, requested state)
        self.trx_of = {}

    def change(self, index, trx, requested, ref, fault):
        if fault == "refused_connect":
            return ServiceAnswer(transport=NOT_SENT, transport_error="refused")
        if fault == "unavailable_503":
            return ServiceAnswer(http_status=503, operation_code="NMVS_ERROR", retry_after_s=1)
        if fault in ("drop_before", "timeout_not_applied"):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="reset")
        if fault == "error_500":
            return ServiceAnswer(http_status=500, operation_code="NMVS_ERROR")
        answer = self._apply(index, trx, requested, ref)
        if fault in ("drop_after", "timeout_applied"):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout")
        return answer

    def _apply(self, index, trx, requested, ref):
        if self.reuse_check and trx in self.used:
            return self._body(409, "TE_TX_01")
        self.used.add(trx)
        if requested == "Active":
            if self.state == "Active":
                return self._body(409, "NC_PCK_06")
            if ref not in self.trx_of:
                return self._body(409, "FE_TX_01")
        elif self.state == requested:
            return self._body(409, "NC_PCK_23")
        self.state = requested
        self.trx_of[trx] = index
        self.applied.append((index, requested))
        return self._body(200, "SUCCESS")

    def verify(self, fault):
        if fault in ("refused_connect",):
            return ServiceAnswer(transport=NOT_SENT, transport_error="refused")
        if fault in ("unavailable_503",):
            return ServiceAnswer(http_status=503, operation_code="NMVS_ERROR")
        if fault in ("drop_before", "drop_after", "timeout_applied", "timeout_not_applied"):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout")
        return self._body(200, "SUCCESS")

    def _body(self, status, code):
        reasons = () if self.state == "Active" else (self.state.upper(),)
        return ServiceAnswer(transport=ANSWERED, http_status=status, operation_code="NMVS_" + code,
                             state=self.state, reasons=reasons)


class OpMachine(RuleBasedStateMachine):
    @initialize(reuse_check=st.booleans(), n_ops=st.integers(1, 5))
    def setup(self, reuse_check, n_ops):
        self.service = Service(reuse_check)
        self.ops = []
        for i in range(n_ops):
            kind = "dispense" if i % 2 == 0 else "undo_dispense"
            self.ops.append({"kind": kind, "state": op_states.QUEUED, "trx": f"t{i}-0", "dup": False,
                             "renewals": 0, "was_uncertain": False})
        self.trx_counter = 0

    def head(self):
        for i, op in enumerate(self.ops):
            if op["state"] not in op_states.FINAL:
                return i, op
        return None, None

    def ref_of(self, i):
        return self.ops[i - 1]["trx"] if self.ops[i]["kind"] == "undo_dispense" else None

    @precondition(lambda self: self.head()[1] is not None and self.head()[1]["state"] == op_states.QUEUED)
    @rule(fault=st.sampled_from(FAULTS), crash=st.booleans())
    def send(self, fault, crash):
        i, op = self.head()
        op["state"] = op_states.IN_FLIGHT  # 2: claimed before the send
        answer = self.service.change(i, op["trx"], REQUESTED[op["kind"]], self.ref_of(i), fault)
        if crash:  # killed before the answer was stored
            op["state"] = op_states.after_restart(op["state"], op["kind"], False)
            if op["state"] == op_states.UNCERTAIN:
                op["was_uncertain"] = True
            return
        klass = op_states.classify(answer)
        if klass == op_states.DUPLICATE_ID:
            op["dup"] = True
        outcome = op_states.after_send(op["kind"], "deferred", klass, op_states.code_of(answer), op["was_uncertain"])
        op["state"] = outcome.state
        if outcome.state == op_states.UNCERTAIN:
            op["was_uncertain"] = True

    @precondition(lambda self: self.head()[1] is not None and self.head()[1]["state"] == op_states.UNCERTAIN)
    @rule(fault=st.sampled_from(FAULTS))
    def reconcile(self, fault):
        _i, op = self.head()
        answer = self.service.verify(fault)
        klass = op_states.classify(answer)
        outcome = op_states.after_reconcile(op["kind"], answer, klass, op["dup"], op["renewals"])
        op["state"] = outcome.state
        if outcome.new_trx_id:
            self.trx_counter += 1
            op["trx"] = f"renewed-{self.trx_counter}"
            op["renewals"] += 1
            op["dup"] = False

    @rule()
    def restart(self):
        """A process restart between requests: nothing is in flight, so #9 changes nothing."""
        for op in self.ops:
            before = op["state"]
            op["state"] = op_states.after_restart(op["state"], op["kind"], False)
            assert op["state"] == before

    @invariant()
    def at_most_once(self):
        if not hasattr(self, "service"):
            return
        indexes = [i for i, _s in self.service.applied]
        assert len(indexes) == len(set(indexes)), f"an op took effect twice: {self.service.applied}"
        for i, op in enumerate(self.ops):
            if op["state"] == op_states.DONE:
                assert indexes.count(i) == 1, f"op {i} done but applied {indexes.count(i)} times"
            assert op["state"] not in (op_states.REJECTED, op_states.NEEDS_ATTENTION), (i, op, self.service.applied)

    def teardown(self):
        if not hasattr(self, "service"):
            return
        for _ in range(50):  # faults stop: everything settles
            i, op = self.head()
            if op is None:
                break
            if op["state"] == op_states.QUEUED:
                self.send("none", False)
            else:
                self.reconcile("none")
        assert all(op["state"] == op_states.DONE for op in self.ops), self.ops
        assert [i for i, _s in self.service.applied] == list(range(len(self.ops))), "I3/I4"


OpMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
TestOpMachine = OpMachine.TestCase
