"""Two counters of one site, one real Mosquitto (client certificates, the generated ACL), the real
simulator over mutual TLS: two real terminal apps in-process (``fmd_terminal.app.build``), each with its
own SQLite outbox, sync worker and site ledger link.

- racing on one pack within 100 ms: exactly one decommission at the simulator, green on one counter and
  amber ``at_site`` on the other, whose op is cancelled locally with the reason;
- a pack dispensed at counter 1 is amber "already dispensed at counter 1 at HH:MM" at counter 2, and
  not sent; a verify at counter 2 stays allowed;
- broker down: both counters work alone (green, sent); broker back: counter 1 republishes its final,
  and counter 2 yields to it again;
- an NMVS_NC_PCK_22 for a pack the ledger shows dispensed at the site is explained, amber, not red.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from pathlib import Path

import pytest
from two_protocols import pack_ref, seed

from fmd_core.modes import MODE_CODES
from fmd_terminal.app import build
from fmd_terminal.config import Config
from fmd_terminal.i18n import Translator
from fmd_terminal.presenter import Presenter
from fmd_terminal.scanners import END, SCAN, ScanEvent

SITE = "pharmacy1"  # the ``site`` fixture (conftest.py): its broker, counter1, counter2, fleet
_seeds = itertools.count(46000)


class GateScanner:
    """Delivers its scans one by one when ``release()`` is called (so two counters scan together)."""

    def __init__(self) -> None:
        self.queue: list[ScanEvent] = []
        self.cond = threading.Condition()

    def push(self, *texts: str, end: bool = False) -> None:
        with self.cond:
            self.queue += [ScanEvent(SCAN, text) for text in texts] + ([ScanEvent(END, "")] if end else [])
            self.cond.notify_all()

    def read(self, timeout_s: float):
        with self.cond:
            if not self.queue:
                self.cond.wait(timeout_s)
            return self.queue.pop(0) if self.queue else None

    def close(self) -> None: ...


class Counter:
    """One real terminal app on its own thread: built from a Config like ``fmd-terminal run``."""

    def __init__(self, tmp: Path, sim, broker, device: str, counter: str, outbox: str | None = None,
                 sync: dict | None = None, enrolment_dir: str = "") -> None:
        cert, key = broker.identity(device)
        ledger = (f"mqtts://127.0.0.1:{broker.port}?site={SITE}&device={device}&counter={counter}"
                  f"&ca={broker.ca}&cert={cert}&key={key}&site_key={broker.directory / 'site-ledger.key'}"
                  "&echo_ms=3000")  # a loaded test machine: the echo's bound, never reached when it is up
        client_cert, client_key = sim.client_files
        (tmp / "empty.jsonl").write_text("")
        config = Config(scanner=f"script://{tmp / 'empty.jsonl'}", screen="recording://?render=0", indicators="recording://",
                        service=sim.base_url, client_id="pharmacy-demo", client_secret="demo-secret",
                        client_cert=client_cert, client_key=client_key, ca_bundle=sim.pki.ca_bundle,
                        outbox=outbox or f"sqlite://{tmp / (device + '.db')}", ledger=ledger, lang="fr",
                        duplicate_window_s=0.0, enrolment_dir=enrolment_dir,
                        sync={"probe_gap_s": 0.01, "start_jitter_s": 600.0, **(sync or {})})  # backlog sends: only when asked
        self.stack = contextlib.ExitStack()
        self.terminal = build(config, self.stack)
        self.terminal.scanner.close()
        self.scanner = self.terminal.scanner = GateScanner()
        self.outbox = self.terminal.outbox
        self.thread = threading.Thread(target=self.terminal.run, daemon=True)
        self.thread.start()

    @property
    def ledger(self):
        return self.terminal.site

    def wait_online(self, timeout_s: float = 30.0) -> None:
        assert self.ledger.link.connected.wait(timeout_s), "the counter never reached the site broker"

    def scan(self, *texts: str) -> None:
        self.scanner.push(*texts)

    def verdicts(self, n: int, timeout_s: float = 30.0) -> list:
        end = time.monotonic() + timeout_s
        while len(self.terminal.shown) < n and time.monotonic() < end:
            time.sleep(0.02)
        assert len(self.terminal.shown) >= n, f"{len(self.terminal.shown)} verdicts, expected {n}"
        return self.terminal.shown[:n]

    def close(self) -> None:
        self.scanner.push(end=True)
        self.thread.join(30)
        self.stack.close()


@pytest.fixture
def counters(tmp_path, mtls_sim, site):
    made: list[Counter] = []

    def make(device: str, counter: str, **options) -> Counter:
        made.append(Counter(tmp_path, mtls_sim, site, device, counter, **options))
        return made[-1]

    yield make
    for counter in made:
        counter.close()


def dispenses(sim, pack) -> list[dict]:
    history = sim.history(pack["scheme"], pack["productCode"], pack["serial"])
    return [h for h in history["history"] if h.get("requestedState") == "Supplied" and h.get("result") == "NMVS_SUCCESS"]


def test_two_counters_racing_on_one_pack_decommission_it_once(counters, mtls_sim):
    (pack,) = seed(mtls_sim, 1, next(_seeds))
    one, two = counters("counter1", "1"), counters("counter2", "2")
    one.wait_online()
    two.wait_online()
    go = threading.Barrier(2)
    threads = [threading.Thread(target=lambda c=c: (go.wait(), c.scan(pack["raw"]))) for c in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (first,), (second,) = one.verdicts(1), two.verdicts(1)
    outcomes = sorted([first.outcome, second.outcome])
    assert outcomes == ["at_site", "decommissioned"], (first, second)
    assert len(dispenses(mtls_sim, pack)) == 1
    loser, winner_counter = (one, "2") if first.outcome == "at_site" else (two, "1")
    verdict = loser.terminal.shown[0]
    assert verdict.light == "amber" and verdict.details["site"]["counter"] == winner_counter
    op = loser.outbox.op(verdict.seq)
    assert op["state"] == "cancelled" and op["resolution"].startswith("cancel:site_")
    assert op["attempts"] == 0


def wait_final(counter, pack_ref, timeout_s: float = 20.0) -> None:
    """Until ``counter``'s view of the site ledger holds the pack's final entry."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and (counter.ledger.entry(pack_ref) or {}).get("stage") != "final":
        time.sleep(0.02)
    assert (counter.ledger.entry(pack_ref) or {}).get("stage") == "final"


def dispensed_at_counter_1(counters, sim):
    """Two counters online; counter 1 dispensed a fresh pack and counter 2 holds its final entry."""
    (pack,) = seed(sim, 1, next(_seeds))
    one, two = counters("counter1", "1"), counters("counter2", "2")
    one.wait_online()
    two.wait_online()
    one.scan(pack["raw"])
    assert one.verdicts(1)[0].outcome == "decommissioned"
    wait_final(two, pack_ref(pack))
    return pack, one, two


def test_a_pack_dispensed_at_counter_1_is_amber_at_counter_2_and_a_verify_stays_allowed(counters, mtls_sim):
    pack, one, two = dispensed_at_counter_1(counters, mtls_sim)
    key = two.ledger.key(pack_ref(pack))
    two.scan(pack["raw"])
    verdict = two.verdicts(1)[0]
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("at_site", "amber", "site_dispensed")
    headline = Presenter(Translator("fr")).headline(verdict)
    assert headline.startswith("Déjà délivrée au comptoir 1 à ") and len(headline.rsplit(" ", 1)[-1]) == 5
    assert len(dispenses(mtls_sim, pack)) == 1
    assert key not in two.ledger.link.site  # the topic key is a hash, not the pack
    two.scan(MODE_CODES["verify"], pack["raw"])  # verify at another counter: allowed, sent, answered
    verdicts = two.verdicts(2)
    assert verdicts[1].outcome != "at_site" and verdicts[1].recorded


def wait_offline(*made, timeout_s: float = 20.0) -> None:
    end = time.monotonic() + timeout_s
    while any(counter.ledger.online for counter in made) and time.monotonic() < end:
        time.sleep(0.05)
    assert not any(counter.ledger.online for counter in made)


def test_broker_down_then_back(counters, mtls_sim, site):
    first, second = seed(mtls_sim, 2, next(_seeds))
    one, two = counters("counter1", "1"), counters("counter2", "2")
    one.wait_online()
    two.wait_online()
    site.stop()
    end = time.monotonic() + 20
    while (one.ledger.online or two.ledger.online) and time.monotonic() < end:
        time.sleep(0.05)
    assert not one.ledger.online and not two.ledger.online
    one.scan(first["raw"])  # alone, exactly as without a ledger: green, sent
    assert one.verdicts(1)[0].outcome == "decommissioned"
    two.scan(second["raw"])
    assert two.verdicts(1)[0].outcome == "decommissioned"
    site.start()  # back, empty (no persistence): counter 1 republishes what it did
    one.wait_online(40)
    two.wait_online(40)
    pack_one = one.outbox.recent(1)[0].pack
    end = time.monotonic() + 30
    # what counter 1 published while offline (recorded, then final) and its catch-up arrive in order
    while time.monotonic() < end and (two.ledger.entry(pack_one) or {}).get("stage") != "final":
        time.sleep(0.05)
    assert (two.ledger.entry(pack_one) or {}).get("device") == "counter1"
    assert (two.ledger.entry(pack_one) or {}).get("stage") == "final"
    two.scan(first["raw"])
    assert two.verdicts(2)[1].message_id == "site_dispensed"
    assert len(dispenses(mtls_sim, first)) == 1


def test_an_already_inactive_answer_for_a_pack_the_site_decommissioned_is_explained(counters, mtls_sim, tmp_path):
    """Counter 1 destroys a pack, then its outbox is replaced (a new SD card): the ledger shows the pack
    as its own, so a dispense is sent; the service answers NMVS_NC_PCK_22 (with its alert): the alert
    stays red, and the terminal says where and when the site destroyed the pack."""
    (pack,) = seed(mtls_sim, 1, next(_seeds))
    one = counters("counter1", "1")
    one.wait_online()
    one.scan(MODE_CODES["destroy"], pack["raw"])
    assert one.verdicts(1)[0].message_id == "destroyed_ok"
    time.sleep(0.3)
    one.close()
    again = counters("counter1", "1", outbox=f"sqlite://{tmp_path / 'new-card.db'}")
    again.wait_online()
    end = time.monotonic() + 20
    while time.monotonic() < end and not again.ledger._entries:
        time.sleep(0.02)
    again.scan(pack["raw"])
    verdict = again.verdicts(1)[0]
    assert verdict.service_code == "NMVS_NC_PCK_22"
    assert verdict.light == "red" and verdict.details["explained"] == "site_destroyed"
    lines = Presenter(Translator("en")).verdict(verdict).lines
    assert "Already destroyed" in lines and any(line.startswith("counter 1 at ") for line in lines), lines


def test_the_backlog_never_sends_an_op_the_ledger_yielded_even_right_after_it_is_recorded(counters, mtls_sim):
    """The sync worker's backlog is opened and made to run two full steps at the very moment the
    outbox has committed counter 2's op, before the terminal goes on: an op recorded to be cancelled
    afterwards would be sent then. It is recorded cancelled, never attempted, never sent."""
    pack, _one, two = dispensed_at_counter_1(counters, mtls_sim)
    sync = two.terminal.worker.worker  # the SyncWorker under the ledger's wrapper
    steps, stepped = [0], threading.Condition()
    real_step, real_record = sync.step, two.outbox.record

    def counted_step():
        try:
            return real_step()
        finally:
            with stepped:
                steps[0] += 1
                stepped.notify_all()

    def record_then_backlog(request):
        result = real_record(request)
        sync.backlog_not_before_ns = 0  # the backlog is open from now on
        with stepped:
            target = steps[0] + 2  # one whole step begins after this commit, whatever the worker was doing
        with sync.cond:
            sync._wakeups += 1
            sync.cond.notify_all()
        with stepped:
            assert stepped.wait_for(lambda: steps[0] >= target, 30), "the sync worker did not step"
        return result

    sync.step = counted_step
    two.outbox.record = record_then_backlog
    two.scan(pack["raw"])
    verdict = two.verdicts(1)[0]
    assert (verdict.outcome, verdict.message_id) == ("at_site", "site_dispensed")
    op = two.outbox.op(verdict.seq)
    assert (op["state"], op["attempts"], op["resolution"]) == ("cancelled", 0, "cancel:site_dispensed")
    history = mtls_sim.history(pack["scheme"], pack["productCode"], pack["serial"])["history"]
    assert [h.get("requestedState") for h in history].count("Supplied") == 1  # counter 1's, nothing from 2


class Releases:
    """Counts the claim releases of each device that ``counter``'s ledger has processed (its claim
    handler is wrapped: a release counted here has already been applied to its view of the site)."""

    def __init__(self, counter) -> None:
        self.seen: dict[str, int] = {}
        self.cond = threading.Condition()
        handlers = counter.ledger.link._handlers
        for i, (topic_filter, handler) in enumerate(handlers):
            if "/claim/" in topic_filter:
                handlers[i] = (topic_filter, self._wrap(handler))

    def _wrap(self, handler):
        def handle(topic: str, payload: bytes) -> None:
            handler(topic, payload)
            message = json.loads(payload)
            if message.get("released"):
                with self.cond:
                    self.seen[message["device"]] = self.seen.get(message["device"], 0) + 1
                    self.cond.notify_all()
        return handle

    def wait(self, device: str, n: int, timeout_s: float = 20.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.seen.get(device, 0) >= n, timeout_s), \
                f"{device}'s claim was never released"


def test_a_claim_whose_op_is_refused_or_yielded_is_released_at_once(counters, mtls_sim):
    """Counter 1's undo of a pack it never dispensed is refused by its outbox: its claim is released,
    and counter 2 dispenses the pack at once (green), not "in progress at counter 1". Counter 1 then
    scans it and yields (recorded cancelled): that claim is released too, so counter 2's undo of its
    own dispense goes through at once (Art. 13), not "in progress at counter 1" for 8 s."""
    (pack,) = seed(mtls_sim, 1, next(_seeds))
    one, two = counters("counter1", "1"), counters("counter2", "2")
    one.wait_online()
    two.wait_online()
    releases = Releases(two)
    one.scan(MODE_CODES["undo"], pack["raw"])
    refused = one.verdicts(1)[0]
    assert (refused.outcome, refused.message_id) == ("refused", "no_dispense_here")
    assert one.outbox.recent(1) == []  # nothing recorded: no entry will follow the claim
    releases.wait("counter1", 1)
    two.scan(pack["raw"])
    assert two.verdicts(1)[0].outcome == "decommissioned"
    wait_final(one, pack_ref(pack))
    one.scan(MODE_CODES["dispense"], pack["raw"])
    assert one.verdicts(2)[1].message_id == "site_dispensed"  # recorded cancelled, nothing sent
    releases.wait("counter1", 2)
    two.scan(MODE_CODES["undo"], pack["raw"])
    undo = two.verdicts(2)[1]
    assert (undo.outcome, undo.light) == ("undone", "green"), undo


def test_a_late_already_inactive_answer_gets_the_sites_explanation(counters, mtls_sim, site, faults):
    """Broker down: counter 1 dispenses a pack; counter 2, alone, records a dispense of it while the
    service is out (amber, queued). The broker comes back with counter 1's dispense (counter 2's own
    entry, written offline, does not hide it); the service too, and counter 2's backlog sends. The late
    answer (NMVS_NC_PCK_23: both counters use the pharmacy's one account) is counter 1's dispense,
    "already dispensed at counter 1 at HH:MM" in FR/EN/DE, as a live one would be; not "here"."""
    (pack,) = seed(mtls_sim, 1, next(_seeds))
    one = counters("counter1", "1")
    two = counters("counter2", "2", sync={"start_jitter_s": 0.0, "backoff_base_s": 0.05, "breaker_open_s": 0.2})
    one.wait_online()
    two.wait_online()
    site.stop()
    wait_offline(one, two)
    one.scan(pack["raw"])
    assert one.verdicts(1)[0].outcome == "decommissioned"
    faults({"outage": True, "retryAfterSeconds": 0})
    two.scan(pack["raw"])
    assert two.verdicts(1)[0].outcome == "recorded_offline"
    site.start()
    end = time.monotonic() + 40
    while time.monotonic() < end and two.ledger.explain("dispense", pack_ref(pack)) is None:
        time.sleep(0.05)
    assert two.ledger.explain("dispense", pack_ref(pack))[1]["counter"] == "1"
    faults({})
    late = two.verdicts(2, 60)[1]
    assert (late.event, late.service_code) == ("resolved", "NMVS_NC_PCK_23")
    assert (late.outcome, late.light, late.message_id) == ("at_site", "amber", "site_dispensed")
    assert len(dispenses(mtls_sim, pack)) == 1
    hhmm = time.strftime("%H:%M", time.localtime(late.details["site"]["at"]))
    for lang, headline in (("fr", f"Déjà délivrée au comptoir 1 à {hhmm}"),
                           ("en", f"Already dispensed at counter 1 at {hhmm}"),
                           ("de", f"Bereits an Theke 1 um {hhmm} abgegeben")):
        assert Presenter(Translator(lang)).headline(late) == headline
