"""Test doubles for the outbox tests: a small model of the service, and helpers.

``ModelService`` implements the ``VerificationClient`` port in memory with the rules the outbox
depends on (VERIFICATION-SERVICE.md sections 5-7): pack states, the per-client ClientTrxId
namespace (``TE_TX_01``, switchable), ``NC_PCK_23`` for a repeated change, the undo rules, the
recovery endpoint with results fetched later, a history per pack and an alert log, plus the
faults of section 8 (outage, drop before or after apply, 500, 429 with Retry-After, timeouts).
It is the reference against which the invariants I3-I5 are checked.
"""

from __future__ import annotations

import itertools
import random

from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, PackRef, ServiceAnswer

T0 = 1_780_000_000.0


def pack(n: int, product: str = "03400930000014") -> PackRef:
    return PackRef("GTIN", product, f"SER{n:06d}", "B1", "281231")


class ModelService:
    def __init__(self, packs=(), *, reuse_check: bool = True, seed: int = 0, clock=None) -> None:
        self.state: dict[str, str] = {}
        self.set_by: dict[str, str | None] = {}
        self.set_at: dict[str, float] = {}
        self.known_products = {"03400930000014"}
        for p in packs:
            self.add(p)
        self.reuse_check = reuse_check
        self.used_ids: set[str] = set()
        self.trx_of: dict[str, tuple[str, str]] = {}  # client_trx_id -> (pack_key, requested state)
        self.history: dict[str, list[tuple[str, str, str]]] = {}  # pack_key -> [(state, trx id, code)]
        self.alerts: list[tuple[str, str]] = []
        self.calls: list[tuple[str, str | None]] = []
        self.rng = random.Random(seed)
        self.clock = clock
        self.now = T0
        self.outage = False
        self.faults: list[str] = []  # consumed one per request: drop_before, drop_after, error, throttle, timeout_applied, ...
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = ()
        self.retry_after_s = 1.0
        self.bulks: dict[str, list] = {}
        self.bulk_ready_after = 0  # polls answered "not ready" before the results
        self.bulk_polls: dict[str, int] = {}
        self._ids = itertools.count(1)

    def add(self, p: PackRef) -> None:
        self.state[p.pack_key] = "Active"
        self.set_by[p.pack_key] = None

    # -- faults ------------------------------------------------------------------------------------

    def _fault(self) -> str | None:
        if self.outage:
            return "outage"
        if self.faults:
            return self.faults.pop(0)
        if self.fault_rate and self.rng.random() < self.fault_rate:
            return self.rng.choice(self.fault_kinds)
        return None

    def _timestamp(self) -> str:
        import time

        t = self.now if self.clock is None else self.clock().wall_ns / 1e9
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"

    # -- the port ----------------------------------------------------------------------------------

    def ping(self) -> ServiceAnswer:
        self.calls.append(("ping", None))
        fault = self._fault()
        if fault in ("outage", "throttle"):
            return ServiceAnswer(http_status=503, operation_code="NMVS_ERROR", retry_after_s=self.retry_after_s)
        if fault in ("refused", "drop_before", "drop_after", "timeout"):
            return ServiceAnswer(transport=NOT_SENT, transport_error="refused")
        return ServiceAnswer(http_status=200)

    def verify(self, p: PackRef) -> ServiceAnswer:
        self.calls.append(("verify", p.pack_key))
        fault = self._fault()
        early = self._early(fault)
        if early is not None:
            return early
        if p.pack_key not in self.state:
            self.alerts.append((p.pack_key, "A3"))
            return self._body(200, "NC_PC_02", p, state="NotFound", alert="A3")
        answer = self._body(200, "SUCCESS", p)
        return self._late(fault, answer)

    def change_state(self, p: PackRef, state: str, client_trx_id: str, ref_client_trx_id=None) -> ServiceAnswer:
        self.calls.append(("change", p.pack_key))
        fault = self._fault()
        early = self._early(fault)
        if early is not None:
            return early
        answer = self._apply(p, state, client_trx_id, ref_client_trx_id)
        return self._late(fault, answer)

    def submit_recovery(self, items):
        self.calls.append(("submit", str(len(items))))
        fault = self._fault()
        early = self._early(fault)
        if early is not None:
            return early, None
        results = [self._apply(i.pack, i.requested_state, i.client_trx_id, i.ref_client_trx_id, bulk=True)
                   for i in items]
        if fault in ("drop_after", "timeout_applied"):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="reset"), None
        ref = f"/recovery/packs/{next(self._ids)}"
        self.bulks[ref] = results
        self.bulk_polls[ref] = 0
        return ServiceAnswer(http_status=202), ref

    def fetch_results(self, ref):
        self.calls.append(("fetch", ref))
        fault = self._fault()
        early = self._early(fault)
        if early is not None:
            return early, None
        self.bulk_polls[ref] += 1
        if self.bulk_polls[ref] <= self.bulk_ready_after:
            return ServiceAnswer(http_status=202, operation_code="NMVS_FE_TX_02"), None
        return ServiceAnswer(http_status=200), list(self.bulks[ref])

    def close(self) -> None:
        pass

    # -- the rules ---------------------------------------------------------------------------------

    def _early(self, fault):
        """Faults where nothing is applied."""
        if fault == "outage":
            return ServiceAnswer(http_status=503, operation_code="NMVS_ERROR", retry_after_s=self.retry_after_s)
        if fault == "throttle":
            return ServiceAnswer(http_status=429, operation_code="NMVS_FI_SE_CLI_01", retry_after_s=self.retry_after_s)
        if fault == "refused":
            return ServiceAnswer(transport=NOT_SENT, transport_error="refused")
        if fault == "drop_before":
            return ServiceAnswer(transport=NO_ANSWER, transport_error="reset")
        if fault == "error":
            return ServiceAnswer(http_status=500, operation_code="NMVS_ERROR")
        if fault == "timeout":
            return ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout")
        if fault == "bad_body":
            return ServiceAnswer(transport=NO_ANSWER, transport_error="bad_body", http_status=200)
        if fault == "auth":
            return ServiceAnswer(http_status=401, operation_code="NMVS_FE_AU_01")
        return None

    def _late(self, fault, answer):
        """Faults after the request was applied."""
        if fault in ("drop_after", "timeout_applied"):
            return ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout")
        return answer

    def _body(self, status, code, p, *, state=None, alert=None, trx=None):
        key = p.pack_key
        shown = state or self.state.get(key, "NotFound")
        reasons = () if shown in ("Active", "NotFound") else (shown.upper(),)
        return ServiceAnswer(transport=ANSWERED, http_status=status, operation_code="NMVS_" + code, state=shown,
                             reasons=reasons, alert_id=f"AL{len(self.alerts)}" if alert else None, alert_code=alert,
                             nmvs_trx_id=f"S{next(self._ids)}", client_trx_id=trx, timestamp=self._timestamp())

    def _apply(self, p, state, trx, ref, bulk=False):
        key = p.pack_key
        if self.reuse_check and trx in self.used_ids:
            return self._body(409, "TE_TX_01", p, trx=trx)
        if bulk and p.product_code not in self.known_products:
            return self._body(409, "NC_PC_01", p, state="NotFound", trx=trx)
        self.used_ids.add(trx)
        if key not in self.state:
            self.alerts.append((key, "A3"))
            return self._body(409, "NC_PC_02", p, state="NotFound", alert="A3", trx=trx)
        current = self.state[key]
        log = self.history.setdefault(key, [])
        if state == "Active":
            if current == "Active":
                log.append((state, trx, "NC_PCK_06"))
                return self._body(409, "NC_PCK_06", p, trx=trx)
            if self.set_by[key] != "me" or ref not in self.trx_of or self.trx_of[ref][0] != key:
                self.alerts.append((key, "A24"))
                log.append((state, trx, "FE_TX_01"))
                return self._body(409, "FE_TX_01", p, trx=trx)
        elif current == state:
            log.append((state, trx, "NC_PCK_23"))
            return self._body(409, "NC_PCK_23", p, trx=trx)
        elif current != "Active":
            self.alerts.append((key, "A24"))
            log.append((state, trx, "NC_PCK_22"))
            return self._body(409, "NC_PCK_22", p, alert="A24", trx=trx)
        self.state[key] = state
        self.set_by[key] = "me"
        self.trx_of[trx] = (key, state)
        log.append((state, trx, "SUCCESS"))
        return self._body(200, "SUCCESS", p, trx=trx)

    # -- invariant checks --------------------------------------------------------------------------

    def applied(self, key: str) -> list[str]:
        """The state changes that took effect on a pack, in order."""
        return [s for s, _t, c in self.history.get(key, []) if c == "SUCCESS"]


def drain(worker, clock, max_steps: int = 20000, until=None) -> int:
    """Drive ``worker.step()`` on a ``FakeClock``: advance the clock by each returned delay.

    Stops when nothing is pending (or ``until()`` is true); returns the steps taken.
    """
    for steps in range(max_steps):
        if until() if until is not None else worker.outbox.pending_count() == 0:
            return steps
        delay = worker.step()
        if delay > 0:
            clock.advance(delay)
    raise AssertionError(f"not drained after {max_steps} steps: {worker.outbox.pending_count()} pending")


def check_invariants(box, service) -> None:
    """I2-I5 of OFFLINE-QUEUE.md section 9 against the model service."""
    rows = box.ops()
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "I2: seq rises without gaps"
    assert len({r["op_id"] for r in rows}) == len(rows), "I2: op_id unique"
    for key in {r["pack_key"] for r in rows}:
        ops = [r for r in rows if r["pack_key"] == key and r["kind"] != "verify"]
        done = [r for r in ops if r["state"] == "done"]
        expected = [{"dispense": "Supplied", "undo_dispense": "Active"}[r["kind"]] for r in done]
        assert service.applied(key) == expected, f"I3/I4: {key}: applied {service.applied(key)}, expected {expected}"
    assert service.alerts == [], f"I5: alerts {service.alerts}"
