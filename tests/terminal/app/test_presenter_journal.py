"""Presenter (verdict -> translated ScreenModel) and the events journal (one JSON object per line)."""

import json

from fmd_core import flow as F
from fmd_core.modes import MODES
from fmd_core.outcomes import Outcome
from fmd_terminal.i18n import Translator
from fmd_terminal.journal import Journal, event_of
from fmd_terminal.presenter import LINE_CHARS, Presenter

PACK = {"product_code": "03400930012345", "serial": "SERIAL-7781", "scheme": "GS1"}


def verdict(outcome, **kw):
    fields = dict(event="scan", seq=4, mode="dispense", raw="raw", pack=PACK, decode_error=None, outcome=outcome)
    fields.update(kw)
    return F.Verdict(**fields)


def test_alert_shows_code_and_alert_id_first_then_the_pack():
    v = verdict(Outcome("alert"), service_code="NMVS_NC_PCK_22", alert_code="A24", details={"alert_id": "AL-9"})
    model = Presenter(Translator("fr")).verdict(v, pending=2)
    assert model.light == "red" and model.headline == "Ne pas délivrer"
    # The headline takes one row on the OLED, so three detail lines: code, alert id and the reason.
    assert model.lines == ("Alerte A24", "AL-9", "Déjà inactive")
    assert (model.mode, model.badge) == ("DÉLIVRER", "2 en attente")
    english = Presenter(Translator("en")).verdict(v)
    assert english.lines == ("Alert A24", "AL-9", "Already inactive")


def test_only_the_serial_tail_is_shown_and_lines_fit():
    model = Presenter(Translator("en")).verdict(verdict(Outcome("decommissioned", None, "dispensed")))
    assert model.headline == "Pack dispensed" and model.badge == ""
    assert "Serial …7781" in model.lines and not any("SERIAL-7781" in line for line in model.lines)
    assert all(len(line) <= LINE_CHARS for line in model.lines)


def test_unknown_service_code_is_shown_raw():
    v = verdict(Outcome("refused", "amber", "service_refused"), service_code="NMVS_NEW_99", pack=None)
    assert Presenter(Translator("de")).verdict(v).lines == ("Code NMVS_NEW_99",)
    ppn = verdict(Outcome("authentic"), pack={"product_code": "110375286414", "product_code_scheme": "PPN"})
    assert Presenter(Translator("de")).verdict(ppn).lines == ("PPN 110375286414",)


def test_duplicate_names_the_earlier_result():
    v = verdict(Outcome("duplicate_scan", "green", "duplicate_scan"), details={"earlier": "dispensed"}, pack=None)
    model = Presenter(Translator("fr")).verdict(v)
    assert (model.headline, model.light, model.lines) == ("Déjà scannée", "green", ("Boîte désactivée",))


def test_notice_and_fault_screens_have_no_light():
    p = Presenter(Translator("fr"))
    busy = p.notice(F.Notice("checking", "verify", busy=True))
    assert (busy.light, busy.busy, busy.headline, busy.mode) == (None, True, "Vérification…", "VÉRIFIER")
    assert p.fault("undo").light is None and p.fault("undo").headline == "Erreur interne – rescanner"


def test_a_certificate_pause_is_named_on_the_verdict_the_badge_and_the_idle_screen():
    """Issue 6 item 3: the screen says the certificate must be renewed (OFFLINE-QUEUE.md 4.3, pause_cert)."""
    p = Presenter(Translator("fr"))
    model = p.verdict(verdict(Outcome("certificate_problem"), recorded=True), pending=3, paused="pause_cert")
    assert (model.light, model.headline, model.badge) == ("amber", "Certificat à renouveler", "Certificat")
    idle = p.notice(F.Notice("ready", "dispense"), pending=3, paused="pause_cert")
    assert (idle.light, idle.badge, idle.lines) == (None, "Certificat", ("Renouveler certificat", "3 en attente"))
    assert Presenter(Translator("de")).notice(F.Notice("ready", "verify"), 0, "pause_cert").lines == (
        "Zertifikat erneuern",)
    assert p.notice(F.Notice("ready", "dispense"), pending=3).badge == "3 en attente"  # not paused
    login = p.notice(F.Notice("ready", "dispense"), pending=1, paused="pause_auth")
    assert (login.badge, login.lines[0]) == ("Compte", "Compte à vérifier")
    clock = Presenter(Translator("en")).verdict(verdict(Outcome("recorded_offline", "amber", "waiting_for_time")),
                                                pending=1, paused="pause_clock")
    assert (clock.light, clock.headline, clock.badge) == ("amber", "Recorded, awaiting correct time", "Time?")
    busy = p.notice(F.Notice("checking", "dispense", busy=True), pending=1, paused="pause_cert")
    assert busy.lines == () and busy.badge == "Certificat"  # only the idle screen carries the lines


def test_pause_badges_fit_beside_every_mode_label():
    """The bar is one row of 21 characters: mode label, a space, the badge (screens/render.py)."""
    for lang in ("fr", "en", "de"):
        t = Translator(lang)
        widest_mode = max(len(t("mode." + mode)) for mode in MODES)
        for pause in ("pause_auth", "pause_cert", "pause_clock", "pause_software"):
            assert widest_mode + 1 + len(t("badge." + pause)) <= LINE_CHARS, (lang, pause)


def test_journal_writes_one_flushed_json_line_per_event(tmp_path):
    path = tmp_path / "events.jsonl"
    journal = Journal(str(path))
    journal.write(verdict(Outcome("pending", None, "recorded_awaiting"), recorded=True), "Enregistrée", "T1")
    resolved = F.Verdict("resolved", 4, "dispense", None, None, None, Outcome("alert"), "NMVS_NC_PC_02", "A3",
                         recorded=True)
    journal.write(resolved, "Alerte", "T2")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    journal.close()
    assert lines[0] == {"event": "scan", "seq": 4, "time": "T1", "mode": "dispense", "raw": "raw", "pack": PACK,
                        "decode_error": None, "outcome": "pending", "light": "amber", "service_code": None,
                        "alert_code": None, "message": "Enregistrée", "recorded": True}
    assert lines[1] == {"event": "resolved", "seq": 4, "time": "T2", "outcome": "alert", "light": "red",
                        "service_code": "NMVS_NC_PC_02", "alert_code": "A3", "message": "Alerte", "recorded": True}


def test_journal_time_is_iso_8601_utc():
    event = event_of(verdict(Outcome("authentic")), "ok", Journal().write(verdict(Outcome("authentic")), "ok")["time"])
    assert event["time"].endswith("+00:00") and event["time"][10] == "T"


def test_a_pack_dispensed_here_today_says_at_what_time_and_an_earlier_day_says_the_date():
    """Issue 11, item 6: "déjà délivrée ici à 10:42"."""
    import time

    now_ns = time.time_ns()
    today = verdict(Outcome("already_done_here", None, "already_dispensed_here"), details={"since_wall_ns": now_ns})
    model = Presenter(Translator("fr")).verdict(today)
    assert (model.headline, model.light) == ("Déjà délivrée ici", "amber")
    assert model.lines[0] == "à " + time.strftime("%H:%M", time.localtime(now_ns / 1e9))
    earlier = verdict(Outcome("already_done_here", None, "already_dispensed_here"),
                      details={"since_wall_ns": now_ns - 3 * 86400 * 10**9})
    line = Presenter(Translator("en")).verdict(earlier).lines[0]
    assert line.startswith("on ") and "/" in line


def test_a_late_alert_the_site_ledger_explains_says_which_counter_and_when():
    """Issue 16: a late red NMVS_NC_PCK_22 for a pack dispensed at counter 2 says so on its notice."""
    import time

    at = int(time.time())
    v = verdict(Outcome("alert", "red", "late_alert"), event="resolved", alert_code="A24",
                details={"late": True, "alert_id": "AL-1", "explained": "site_dispensed",
                         "site": {"device": "counter2", "counter": "2", "at": at}})
    hhmm = time.strftime("%H:%M", time.localtime(at))
    for lang, done, where in (("fr", "Déjà délivrée", "comptoir 2 à "), ("en", "Already dispensed", "counter 2 at "),
                              ("de", "Bereits abgegeben", "Theke 2 um ")):
        model = Presenter(Translator(lang)).verdict(v, queue=None)
        assert model.light == "red" and model.lines[0].endswith("3400930012345")
        assert model.lines[1:] == (done, where + hhmm), model.lines


def test_a_pending_dispense_scanned_again_says_how_long_it_has_waited():
    """Issue 11, item 4: "en attente de réponse", with its age; never "dispensed"."""
    v = verdict(Outcome("pending", None, "pending"), details={"age_ns": 185 * 10**9})
    model = Presenter(Translator("fr")).verdict(v)
    assert (model.headline, model.light, model.lines[0]) == ("En attente de réponse", "amber", "depuis 3 min")
    assert Presenter(Translator("de")).verdict(verdict(Outcome("pending", None, "pending"),
                                                       details={"age_ns": 42 * 10**9})).lines[0] == "seit 42 s"


def test_a_late_alert_names_its_pack_and_what_to_do():
    """Issue 11, item 5: its own red screen, one headline row, then the CIP, the serial's end, what to do."""
    v = verdict(Outcome("alert", "red", "late_alert"), event="resolved", alert_code="A3",
                details={"late": True, "alert_id": "AL-1"})
    for lang, headline, do in (("fr", "Alerte scan précédent", "Retrouver et isoler"),
                               ("en", "Alert: earlier scan", "Find it, set it aside"),
                               ("de", "Alarm: früherer Scan", "Suchen, zurückhalten")):
        model = Presenter(Translator(lang)).verdict(v, queue=None)
        assert (model.headline, model.light, model.lines[-1]) == (headline, "red", do)
        assert model.lines[0].endswith("3400930012345") and "…7781" in model.lines[1]
        assert len(model.headline) <= LINE_CHARS
