"""The application's main loop over the twins: scripted scanner, recording screen and indicators,
the in-memory outbox with its real sync worker, and the scripted verification service."""

import json
import sqlite3
import threading
import time

import pytest

from fmd_core.flow import Flow
from fmd_core.modes import MODE_CODES
from fmd_core.service import ServiceAnswer
from fmd_terminal.app import Terminal
from fmd_terminal.i18n import Translator
from fmd_terminal.indicators.recording import RecordingIndicators
from fmd_terminal.journal import Journal
from fmd_terminal.outbox.memory import MemoryOutbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker
from fmd_terminal.presenter import Presenter
from fmd_terminal.scanners import END, FAULT, MODE, SCAN, ScanEvent
from fmd_terminal.scanners.script import ScriptedScanSource
from fmd_terminal.screens.recording import RecordingScreen
from fmd_terminal.verification.scripted import (
    ScriptedCall,
    ScriptedVerificationClient,
    offline_answer,
    success_answer,
)

GS = "\x1d"


def pack_code(serial="SER0001", expiry="270630"):
    return "]d2010340093001234517" + expiry + "10B123" + GS + "21" + serial


class FakeClock:
    def __init__(self):
        self.ms = 1_000_000

    def __call__(self):
        self.ms += 50
        return self.ms


class Rig:
    def __init__(self, events, service, tmp_path, mode="dispense", lang="fr", scanner=None, outbox=None,
                 live_deadline_s=5.0):
        self.service = service
        self.outbox = outbox or MemoryOutbox()
        # no fleet jitter before the backlog (OFFLINE-QUEUE.md 6.2): late answers come as soon as they can
        self.worker = SyncWorker(self.outbox, service, settings=SyncSettings(start_jitter_s=0)).start()
        self.screen = RecordingScreen(keep_images=False)
        self.indicators = RecordingIndicators()
        self.journal_path = tmp_path / "events.jsonl"
        self.journal = Journal(str(self.journal_path))
        self.terminal = Terminal(
            flow=Flow(mode=mode), scanner=scanner or ScriptedScanSource(events), screen=self.screen,
            indicators=self.indicators, outbox=self.outbox, worker=self.worker,
            presenter=Presenter(Translator(lang)), journal=self.journal, live_deadline_s=live_deadline_s,
            clock=FakeClock(), today=lambda: "2026-11-26")

    def run(self):
        try:
            assert self.terminal.run() == 0
        finally:
            self.worker.close()
            self.journal.close()
            self.outbox.close()
        return [json.loads(line) for line in self.journal_path.read_text(encoding="utf-8").splitlines()]


def scans(*texts):
    return [ScanEvent(SCAN, t) for t in texts]


def step_until(terminal, done, limit_s=30.0):
    """Turn the loop until ``done()``: the live path hands a scan to the worker and goes on (issue 11)."""
    import time

    end = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < end, "the loop never got there"
        terminal.step()


def test_dispense_against_a_healthy_service_is_green(tmp_path):
    rig = Rig(scans(pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path)
    (event,) = rig.run()
    assert (event["event"], event["outcome"], event["light"], event["service_code"]) == (
        "scan", "decommissioned", "green", "NMVS_SUCCESS")
    assert event["message"] == "Boîte désactivée" and event["pack"]["serial"] == "SER0001"
    assert event["recorded"] and event["seq"] >= 1
    (call,) = rig.service.calls_to("change_state")
    assert (call.state, call.pack.pack_key) == ("Supplied", "GTIN:03400930012345:SER0001")
    assert rig.indicators.lights == ["green"]
    assert rig.indicators.signals[:2] == ["ready", "working"]
    assert any(m.headline == "Boîte désactivée" and m.light == "green" for m in rig.screen.models)


def test_unreachable_service_records_offline_and_never_shows_green(tmp_path):
    rig = Rig(scans(pack_code("A1"), pack_code("A2")), ScriptedVerificationClient(default=offline_answer), tmp_path,
              live_deadline_s=0.3)
    events = rig.run()
    assert [(e["outcome"], e["light"]) for e in events] == [("recorded_offline", "amber")] * 2
    assert "green" not in rig.indicators.signals
    assert rig.screen.last.badge.endswith("en attente")


def test_a_queue_paused_for_the_certificate_says_renew_it_from_the_idle_screen_on(tmp_path):
    """Issue 6 item 3: the pause survives a restart (outbox meta), so the first screen already says it;
    a scan is recorded, nothing is sent, and it shows "renew the certificate" in amber, never green."""
    outbox = MemoryOutbox()
    outbox.write_meta("paused", "pause_cert")
    rig = Rig(scans(pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path, outbox=outbox,
              live_deadline_s=0.3)
    (event,) = rig.run()
    assert (event["outcome"], event["light"], event["message"], event["recorded"]) == (
        "certificate_problem", "amber", "Certificat à renouveler", True)
    idle = rig.screen.models[0]
    assert (idle.headline, idle.badge, idle.lines, idle.light) == (
        "Prêt – scannez une boîte", "Certificat", ("Renouveler certificat",), None)
    assert rig.screen.last.headline == "Certificat à renouveler" and rig.screen.last.badge == "Certificat"
    assert rig.service.calls_to("change_state") == [] and "green" not in rig.indicators.signals


def test_bad_input_keeps_the_terminal_running(tmp_path):
    events = scans("3400930012345", "]d20103400930012340", "\x07\x08garbage", "9" * 10000) + [
        ScanEvent(FAULT, "scanner unplugged"), ScanEvent(MODE, "verify")] + scans(pack_code())
    rig = Rig(events, ScriptedVerificationClient(default=success_answer), tmp_path, lang="en")
    journal = rig.run()
    assert [(e["outcome"], e["light"]) for e in journal] == [
        ("not_a_pack", "amber"), ("unreadable", "amber"), ("not_a_pack", "amber"), ("unreadable", "red"),
        ("authentic", "green")]
    assert journal[0]["message"] == "Scan the Data Matrix" and journal[1]["decode_error"] == "bad_check_digit"
    assert journal[3]["decode_error"] == "too_long" and journal[4]["mode"] == "verify"
    assert any(m.headline == "Scanner problem" and m.light is None for m in rig.screen.models)
    assert "fault" in rig.indicators.signals


def test_mode_barcode_then_undo_of_this_terminals_dispense(tmp_path):
    texts = [pack_code(), "]C0" + MODE_CODES["undo"], pack_code(), pack_code("NEVER")]
    rig = Rig(scans(*texts), ScriptedVerificationClient(default=success_answer), tmp_path)
    journal = rig.run()
    assert [(e["mode"], e["outcome"]) for e in journal] == [
        ("dispense", "decommissioned"), ("undo", "undone"), ("undo", "refused")]
    assert journal[2]["message"] == "Pas désactivée ici" and not journal[2]["recorded"]
    undo = rig.service.calls_to("change_state")[1]
    assert undo.state == "Active" and undo.ref_client_trx_id == rig.service.calls_to("change_state")[0].client_trx_id


def test_second_dispense_is_refused_locally_and_the_same_scan_in_the_window_is_a_duplicate(tmp_path):
    rig = Rig(scans(pack_code(), pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path)
    rig.terminal.flow.duplicate_window_ms = 0  # every rescan goes to the outbox's local check
    journal = rig.run()
    assert [e["outcome"] for e in journal] == ["decommissioned", "already_done_here"]
    assert len(rig.service.calls_to("change_state")) == 1

    (tmp_path / "x").mkdir()
    rig2 = Rig(scans(pack_code(), pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path / "x")
    journal2 = rig2.run()
    # issue 11, item 6: inside the duplicate window too, a pack dispensed here is amber with the time, never green
    assert [(e["outcome"], e["light"], e["message"]) for e in journal2] == [
        ("decommissioned", "green", "Boîte désactivée"), ("already_done_here", "amber", "Déjà délivrée ici")]
    assert len(rig2.service.calls_to("change_state")) == 1
    assert rig2.screen.models[-1].light == "amber"


def test_alert_answer_is_red_with_its_code(tmp_path):
    alert = ServiceAnswer(http_status=409, operation_code="NMVS_NC_PCK_22", state="Destroyed",
                          reasons=("DESTROYED",), alert_id="AL-77", alert_code="A24")
    def service(call):
        return alert if call.method == "change_state" else success_answer(call)

    rig = Rig(scans(pack_code()), ScriptedVerificationClient(service), tmp_path)
    (event,) = rig.run()
    assert (event["outcome"], event["light"], event["alert_code"]) == ("alert", "red", "A24")
    shown = [m for m in rig.screen.models if m.light == "red"][-1]
    assert shown.lines[:2] == ("Alerte A24", "AL-77")


def test_storage_failure_is_red_and_the_loop_goes_on(tmp_path):
    outbox = MemoryOutbox()
    rig = Rig(scans(pack_code(), "3400930012345"), ScriptedVerificationClient(default=success_answer), tmp_path,
              outbox=outbox)
    with outbox.lock:  # not in the middle of a worker query (closing under it crashed sqlite3 at times)
        outbox.storage.close()  # the database is gone: every write now fails
    journal = rig.run()
    assert [(e["outcome"], e["light"]) for e in journal] == [("not_recorded", "red"), ("not_a_pack", "amber")]


class FlakyScanner:
    """A scanner twin whose driver throws something unexpected once (a bug in a library, say)."""

    def __init__(self, events):
        self.inner = ScriptedScanSource(events)
        self.thrown = False

    def read(self, timeout_s):
        if not self.thrown:
            self.thrown = True
            raise RuntimeError("driver bug")
        return self.inner.read(timeout_s)

    def close(self):
        pass


def test_unexpected_error_shows_a_neutral_fault_screen_and_the_loop_goes_on(tmp_path, caplog):
    rig = Rig(None, ScriptedVerificationClient(default=success_answer), tmp_path,
              scanner=FlakyScanner(scans(pack_code())))
    (event,) = rig.run()
    assert event["outcome"] == "decommissioned"
    fault = [m for m in rig.screen.models if m.headline == "Erreur interne – rescanner"]
    assert fault and fault[0].light is None
    assert "driver bug" in caplog.text


def test_mode_button_presses_switch_mode_in_the_loop_thread(tmp_path):
    rig = Rig(scans(pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path)
    rig.terminal.press_mode_button()  # dispense -> verify
    rig.terminal.start()
    rig.terminal.step()  # the press, then the scan
    assert rig.terminal.flow.mode == "verify"
    step_until(rig.terminal, lambda: rig.terminal.ended)  # its answer, then END
    journal = rig.run()  # already ended: closes everything
    assert journal[0]["mode"] == "verify" and journal[0]["outcome"] == "authentic"


@pytest.mark.parametrize("kind", [END])
def test_end_of_script_ends_the_run(tmp_path, kind):
    rig = Rig([ScanEvent(kind)] + scans(pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path)
    assert rig.run() == []


def test_restart_lists_the_ops_recorded_before(tmp_path):
    from fmd_terminal.outbox.factory import open_outbox

    url = f"sqlite://{tmp_path / 'outbox.db'}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Rig(scans(pack_code()), ScriptedVerificationClient(default=offline_answer), tmp_path,
                outbox=open_outbox(url), live_deadline_s=0.2)
    first.run()
    (tmp_path / "again").mkdir()
    again = Rig([], ScriptedVerificationClient(default=offline_answer), tmp_path / "again", outbox=open_outbox(url))
    again.run()
    listed = again.screen.models[0]
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        wall_ns = db.execute("SELECT wall_ns FROM op").fetchone()[0]
    when = time.strftime("%H:%M", time.localtime(wall_ns / 1e9))
    # the first run ends without waiting for its send (issue 11): the op was left queued or in flight
    assert listed.headline == "Avant redémarrage" and listed.lines[:2] == (
        f"Délivrance à {when}", "3400930012345 …0001")
    assert listed.lines[2] in ("Pas encore envoyée", "Envoi en cours")


def test_slow_answer_is_shown_pending_then_resolved_in_the_journal(tmp_path):
    import threading

    release = threading.Event()

    def slow_service(call):
        if call.method == "change_state":
            release.wait(30)  # the service answers only once the test lets it
        return success_answer(call)

    rig = Rig(scans(pack_code()), ScriptedVerificationClient(slow_service), tmp_path, live_deadline_s=0.2)
    rig.terminal.start()
    step_until(rig.terminal, lambda: rig.terminal.shown)
    assert rig.terminal.shown[-1].outcome == "pending"
    release.set()
    rig.worker.close()  # joins the worker thread: the answer is settled and published
    rig.terminal.collect_resolutions()
    journal = rig.run()
    assert [(e["event"], e["outcome"], e["light"]) for e in journal] == [
        ("scan", "pending", "amber"), ("resolved", "decommissioned", "green")]
    assert journal[0]["seq"] == journal[1]["seq"] and journal[1]["message"] == "Boîte désactivée"


def test_a_receive_mode_scan_is_recorded_and_exported_in_receive_mode(tmp_path):
    """Issue 12: a receive is sent as a dispense op; the audit export still says it was a receive."""
    from fmd_terminal.cli import main
    from fmd_terminal.outbox.factory import open_outbox

    db = tmp_path / "o.db"
    rig = Rig(scans("]C0" + MODE_CODES["receive"], pack_code("R1")), ScriptedVerificationClient(default=success_answer),
              tmp_path, outbox=open_outbox(f"sqlite://{db}"))
    rig.run()
    out = tmp_path / "ops.jsonl"
    assert main(["export", "--outbox", f"sqlite://{db}", "--jsonl", str(out)]) == 0
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (record["mode"], record["kind"], record["serial"]) == ("receive", "dispense", "R1")


class PacedScanner:
    """A person at a queued scanner: each scan arrives at its time (``time.monotonic``), stamped as the
    real scanners stamp theirs (``received_ms``), then the scanner ends."""

    def __init__(self, timed, ends=True):
        import time

        start = time.monotonic()
        self.due = [(start + at, text) for at, text in timed]
        self.ends = ends  # False: the person stays at the counter (no END) until the test says so

    def read(self, timeout_s):
        import time

        if not self.due:
            if self.ends:
                return ScanEvent(END)
            time.sleep(min(timeout_s, 0.01))
            return None
        at, text = self.due[0]
        now = time.monotonic()
        if now < at:
            time.sleep(min(timeout_s, at - now))
            return None
        self.due.pop(0)
        return ScanEvent(SCAN, text, int(at * 1000))

    def close(self):
        pass


def test_the_next_scan_is_never_held_behind_a_pending_request_and_late_answers_keep_the_screen(tmp_path):
    """Issue 11, items 2 and 5: the service holds every dispense; the second scan (0.7 s later) ends the
    first one's wait (amber, "awaiting answer") and is itself shown amber about a second later (its
    request cannot go while the first hangs); each verdict names its own pack. Once the service answers,
    the late greens are journaled, never drawn: the screen keeps the last verdict, and its badge changes."""
    import threading
    import time

    release = threading.Event()

    def held(call):
        if call.method == "change_state":
            release.wait(30)
        return success_answer(call)

    scanner = PacedScanner([(0.0, pack_code("P1")), (0.7, pack_code("P2"))], ends=False)
    rig = Rig(None, ScriptedVerificationClient(held), tmp_path, scanner=scanner, live_deadline_s=3.0)
    terminal = rig.terminal
    terminal.start()
    step_until(terminal, lambda: len(terminal.shown) >= 2)
    first, second = terminal.shown
    assert [(v.pack["serial"], v.light, v.outcome) for v in (first, second)] == [
        ("P1", "amber", "pending"), ("P2", "amber", "recorded_offline")]  # P2 never went out
    shown_at = time.monotonic()
    last = rig.screen.last
    release.set()
    step_until(terminal, lambda: len(terminal.shown) >= 4)  # the two late answers
    assert [(v.event, v.pack["serial"], v.outcome) for v in terminal.shown[2:]] == [
        ("resolved", "P1", "decommissioned"), ("resolved", "P2", "decommissioned")]
    assert rig.screen.last.headline == last.headline and rig.screen.last.light == "amber"  # P2's verdict stays
    assert rig.screen.last.badge != last.badge  # the pending count went
    assert "green" not in rig.indicators.signals
    assert time.monotonic() - shown_at < 30
    scanner.ends = True
    journal = rig.run()
    assert [(e["event"], e["light"]) for e in journal] == [
        ("scan", "amber"), ("scan", "amber"), ("resolved", "green"), ("resolved", "green")]


def test_a_next_scan_within_half_a_second_lets_the_first_answer_come(tmp_path):
    """The next scan waits at most 0.5 s after the first was sent: an answer in that time is shown green."""
    import threading

    gate = threading.Event()

    def quick(call):
        if call.method == "change_state" and call.pack.serial == "Q1":
            gate.wait(0.2)  # answered in 0.2 s
        return success_answer(call)

    rig = Rig(None, ScriptedVerificationClient(quick), tmp_path, scanner=PacedScanner(
        [(0.0, pack_code("Q1")), (0.05, pack_code("Q2"))]))
    journal = rig.run()
    assert [(e["pack"]["serial"], e["light"]) for e in journal] == [("Q1", "green"), ("Q2", "green")]


class FrozenClock:
    """The flow's clock, moved only by the test: a verdict's hold time ends when the test says so."""

    def __init__(self):
        self.ms = 1_000_000

    def __call__(self):
        return self.ms


def test_late_results_are_told_on_the_idle_screen_once_the_verdict_in_hand_has_had_its_hold(tmp_path):
    """Issue 11, item 5, the queue notice: three dispenses recorded during an outage are answered once the
    service is back, while a fresh pack's green is on screen. The green stays (badge aside) for its whole
    hold; then the late alert's own red notice names its pack; then the idle screen says "3 réponses
    reçues" (the alert counted among them); a late green is never drawn as a verdict."""
    up = threading.Event()
    alert = ServiceAnswer(http_status=200, operation_code="NMVS_NC_PC_02", alert_id="AL-3", alert_code="A3")

    def service(call):
        if not up.is_set():
            return offline_answer(call)
        if call.method == "change_state" and call.pack.serial == "L2":
            return alert
        return success_answer(call)

    scanner = PacedScanner([(0.0, pack_code("L1")), (0.1, pack_code("L2")), (0.2, pack_code("L3"))], ends=False)
    rig = Rig(None, ScriptedVerificationClient(service), tmp_path, scanner=scanner, live_deadline_s=1.0)
    terminal, clock = rig.terminal, FrozenClock()
    terminal.clock = clock
    terminal.start()
    step_until(terminal, lambda: len(terminal.shown) >= 3)
    assert [(v.pack["serial"], v.light) for v in terminal.shown] == [("L1", "amber"), ("L2", "amber"), ("L3", "amber")]
    up.set()
    clock.ms += 20_000  # L3's verdict has had its hold: the idle screen, nothing to tell yet
    step_until(terminal, lambda: rig.screen.last.headline == "Prêt – scannez une boîte")
    assert not any("reçue" in line for line in rig.screen.last.lines)
    time.sleep(2.1)  # past the probe gap (one probe per 2 s): G1's scan probes the link at once, and is sent
    scanner.due.append((time.monotonic(), pack_code("G1")))
    step_until(terminal, lambda: len(terminal.shown) >= 7)  # G1's green and the three late results
    green = next(v for v in terminal.shown if v.pack["serial"] == "G1")
    assert (green.event, green.light) == ("scan", "green")
    assert sorted((v.pack["serial"], v.light) for v in terminal.shown[3:] if v.event == "resolved") == [
        ("L1", "green"), ("L2", "red"), ("L3", "green")]
    for _ in range(5):
        terminal.step()
    in_hand = rig.screen.last  # the clock has not moved: G1's hold goes on, whatever came
    assert (in_hand.light, in_hand.headline, in_hand.lines[-1]) == ("green", "Boîte désactivée", "Série …G1")
    clock.ms += 15_000  # G1's hold is over: the late alert's own red notice
    step_until(terminal, lambda: rig.screen.last.light == "red")
    assert rig.screen.last.headline == "Alerte scan précédent" and "Série …L2" in rig.screen.last.lines
    clock.ms += 15_000  # then the idle screen tells the late results: the alert among them
    step_until(terminal, lambda: rig.screen.last.headline == "Prêt – scannez une boîte")
    assert rig.screen.last.lines[0] == "3 réponses reçues" and rig.screen.last.light is None
    assert rig.indicators.signals.count("green") == 1  # G1's own: a late green never lights
    scanner.ends = True
    journal = rig.run()
    seqs = {e["seq"]: e["pack"]["serial"] for e in journal if e["event"] == "scan"}
    assert sorted((e["event"], seqs[e["seq"]], e["light"]) for e in journal[3:]) == [
        ("resolved", "L1", "green"), ("resolved", "L2", "red"), ("resolved", "L3", "green"), ("scan", "G1", "green")]


def test_a_late_verify_after_a_restart_reads_supplied_as_dispensed_here_from_the_outbox(tmp_path):
    """A late answer is judged like a live one: the outbox shows this terminal's dispense of the pack, so
    a verify answered SUPPLIED after a restart (the flow's memory is new) is amber "already dispensed
    here", not "inactive elsewhere"."""
    import threading

    from fmd_terminal.outbox.factory import open_outbox

    url = f"sqlite://{tmp_path / 'outbox.db'}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Rig(scans(pack_code("R1")), ScriptedVerificationClient(default=success_answer), tmp_path / "a",
                outbox=open_outbox(url))
    assert [(e["pack"]["serial"], e["light"]) for e in first.run()] == [("R1", "green")]

    release = threading.Event()

    def held_supplied(call):
        if call.method == "verify":
            release.wait(30)
            return success_answer(ScriptedCall("verify", state="Supplied"))
        return success_answer(call)

    again = Rig(None, ScriptedVerificationClient(held_supplied), tmp_path / "b", mode="verify",
                outbox=open_outbox(url), scanner=PacedScanner([(0.0, pack_code("R1"))], ends=False),
                live_deadline_s=0.3)
    terminal = again.terminal
    terminal.start()
    step_until(terminal, lambda: len(terminal.shown) >= 1)
    assert terminal.shown[0].light == "amber"  # no answer within its wait
    release.set()
    step_until(terminal, lambda: len(terminal.shown) >= 2)
    late = terminal.shown[1]
    assert (late.event, late.pack["serial"], late.outcome, late.light) == (
        "resolved", "R1", "already_done_here", "amber")
    terminal.scanner.ends = True
    again.run()
