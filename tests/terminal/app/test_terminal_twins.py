"""The application's main loop over the twins: scripted scanner, recording screen and indicators,
the in-memory outbox with its real sync worker, and the scripted verification service."""

import json
import sqlite3
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
from fmd_terminal.verification.scripted import ScriptedVerificationClient, offline_answer, success_answer

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
        # the breaker is half-open at start (OFFLINE-QUEUE.md 6.2); probes 2 s apart would only slow the test
        self.worker = SyncWorker(self.outbox, service, settings=SyncSettings(probe_gap_s=0.0)).start()
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
    assert [(e["outcome"], e["light"], e["seq"]) for e in journal2] == [
        ("decommissioned", "green", journal2[0]["seq"]), ("duplicate_scan", "green", journal2[0]["seq"])]


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
    rig.terminal.step()  # END
    assert rig.terminal.ended
    journal = rig.run()  # already ended: closes everything
    assert journal[0]["mode"] == "verify" and journal[0]["outcome"] == "authentic"


@pytest.mark.parametrize("kind", [END])
def test_end_of_script_ends_the_run(tmp_path, kind):
    rig = Rig([ScanEvent(kind)] + scans(pack_code()), ScriptedVerificationClient(default=success_answer), tmp_path)
    assert rig.run() == []


def test_restart_lists_the_ops_recorded_before(tmp_path):
    from fmd_terminal.outbox.factory import open_outbox

    url = f"sqlite://{tmp_path / 'outbox.db'}"
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
    assert listed.headline == "Avant redémarrage" and listed.lines == (
        f"Délivrance à {when}", "3400930012345 …0001", "Pas encore envoyée")


def test_slow_answer_is_shown_pending_then_resolved_in_the_journal(tmp_path):
    import threading

    release = threading.Event()

    def slow_service(call):
        if call.method == "change_state":
            release.wait(30)  # the service answers only once the test lets it
        return success_answer(call)

    rig = Rig(scans(pack_code()), ScriptedVerificationClient(slow_service), tmp_path, live_deadline_s=0.2)
    rig.terminal.start()
    rig.terminal.step()
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
