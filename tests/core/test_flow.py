"""The pure flow (fmd_core.flow): events in, effects out, with the real decoder and an injected now_ms."""


import pytest
from table_loader import load_table

from fmd_core import flow as F
from fmd_core.modes import MODE_CODES
from fmd_core.service import NOT_SENT, ServiceAnswer

GS = "\x1d"


def pack_code(serial="SER0001", expiry="270630", batch="B123"):
    return "]d2010340093001234517" + expiry + "10" + batch + GS + "21" + serial


TODAY = "2026-11-26"
SUCCESS = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Supplied")


def kinds(effects):
    return [e.kind for e in effects]


def only_verdict(effects):
    assert kinds(effects) == [F.SHOW], effects
    return effects[0].payload


def scan_to_record(flow, text, now=0, today=TODAY):
    effects = flow.scan(text, now, today)
    assert kinds(effects) == [F.RECORD], effects
    return effects[0].payload


def test_start_shows_the_idle_screen_in_the_configured_mode():
    (effect,) = F.Flow(mode="verify").start(0)
    assert (effect.kind, effect.payload.message_id, effect.payload.mode) == (F.SCREEN, "ready", "verify")


def test_unknown_mode_at_construction_is_refused():
    with pytest.raises(ValueError, match="'sell'"):
        F.Flow(mode="sell")


def test_dispense_path_record_checking_send_then_green():
    flow = F.Flow()
    request = scan_to_record(flow, pack_code())
    assert request.kind == "dispense"
    assert request.pack.pack_key == "GTIN:03400930012345:SER0001"
    assert (request.pack.batch, request.pack.expiry, request.pack.entry_mode) == (
        "B123",
        "270630",
        "non-manual",
    )
    effects = flow.recorded(41, None, 5)
    assert kinds(effects) == [F.SCREEN, F.SEND]
    assert effects[0].payload.busy and effects[1].payload == 41
    verdict = only_verdict(flow.settled("done", SUCCESS, 30))
    assert (verdict.event, verdict.seq, verdict.outcome, verdict.light) == (
        "scan",
        41,
        "decommissioned",
        "green",
    )
    assert verdict.service_code == "NMVS_SUCCESS" and verdict.recorded
    assert verdict.pack["serial"] == "SER0001" and verdict.raw == pack_code()


@pytest.mark.parametrize(
    "mode, kind",
    [("verify", "verify"), ("undo", "undo_dispense"), ("destroy", "destroy"), ("receive", "dispense")],
)
def test_each_mode_requests_its_operation(mode, kind):
    assert scan_to_record(F.Flow(mode=mode), pack_code()).kind == kind


def test_mode_barcode_switches_mode_and_sends_nothing():
    flow = F.Flow()
    effects = flow.scan("]C0" + MODE_CODES["undo"] + "\r\n", 0, TODAY)
    assert kinds(effects) == [F.SCREEN] and effects[0].payload.mode == "undo"
    assert flow.mode == "undo"
    assert scan_to_record(flow, pack_code()).kind == "undo_dispense"


def test_admin_code_shows_the_console_address_for_the_hold_and_keeps_the_mode():
    """Issue 15: ``FMD-MODE-ADMIN`` asks for the console's address (the shell draws it); the mode stays, the
    idle screen comes back after the hold, and a scan before then is taken at once."""
    flow = F.Flow(mode="verify", result_hold_ms=5000)
    (effect,) = flow.scan("]C0FMD-MODE-ADMIN\r\n", 1000, TODAY)
    assert (effect.kind, effect.payload.message_id, effect.payload.mode, flow.mode) == (
        F.SCREEN, "console_address", "verify", "verify")
    assert flow.tick(5999) == []
    (idle,) = flow.tick(6000)
    assert (idle.payload.message_id, idle.payload.mode) == ("ready", "verify")
    flow.scan("FMD-MODE-ADMIN", 7000, TODAY)
    assert scan_to_record(flow, pack_code(), 7001).kind == "verify"  # the next scan does not wait


def test_switch_mode_event_and_unknown_mode():
    flow = F.Flow()
    assert flow.switch_mode("verify", 0)[0].payload.message_id == "mode_switched"
    effects = flow.switch_mode("sell", 0)
    assert effects[0].payload.message_id == "unknown_mode" and flow.mode == "verify"


def test_mode_button_goes_round_the_modes():
    flow = F.Flow()
    seen = [flow.next_mode(0)[0].payload.mode for _ in range(5)]
    assert seen == ["verify", "undo", "destroy", "receive", "dispense"]


def test_linear_code_asks_for_the_data_matrix():
    verdict = only_verdict(F.Flow().scan("3400930012345", 0, TODAY))
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("not_a_pack", "amber", "scan_data_matrix")
    assert verdict.pack["scheme"] == "linear" and verdict.decode_error is None and not verdict.recorded


def test_code_without_serial_is_amber_not_serialised():
    verdict = only_verdict(F.Flow().scan("]d201034009300123451727063010B1", 0, TODAY))
    assert (verdict.outcome, verdict.light, verdict.decode_error) == (
        "not_serialised",
        "amber",
        "missing_serial",
    )


def test_garbled_codes_are_amber_then_red_after_repeated_failures():
    flow = F.Flow()
    lights = [only_verdict(flow.scan("]d20103400930012340", i, TODAY)).light for i in range(4)]
    assert lights == ["amber", "amber", "red", "red"]
    only_verdict(flow.scan("3400930012345", 10, TODAY))  # a good read resets the count
    assert only_verdict(flow.scan("]d20103400930012340", 11, TODAY)).light == "amber"


def test_keystroke_burst_is_unreadable_without_decoding():
    def must_not_decode(text, substitutes=None):
        raise AssertionError("decoded a 10,000-character burst")

    verdict = only_verdict(F.Flow(decode=must_not_decode).scan("7" * 10000, 0, TODAY))
    assert (verdict.outcome, verdict.decode_error, verdict.light) == ("unreadable", "too_long", "amber")


def test_local_scan_counter_numbers_unrecorded_scans():
    flow = F.Flow()
    seqs = [only_verdict(flow.scan("garbage" + str(i), i, TODAY)).seq for i in range(3)]
    assert seqs == [1, 2, 3]


def test_same_pack_within_the_window_shows_the_earlier_result_and_sends_nothing():
    flow = F.Flow(duplicate_window_ms=10000, mode="destroy")
    scan_to_record(flow, pack_code(), 0)
    flow.recorded(7, None, 1)
    flow.settled("done", SUCCESS, 2)
    again = only_verdict(flow.scan(pack_code(), 9000, TODAY))
    # issue 11, item 6: a change done here is never shown green a second time
    assert (again.outcome, again.light, again.seq) == ("duplicate_scan", "amber", 7)
    assert again.details["earlier"] == "destroyed_ok" and again.service_code == "NMVS_SUCCESS"
    # outside the window the scan goes to the outbox again
    assert scan_to_record(flow, pack_code(), 12001).kind == "destroy"


def test_a_pack_dispensed_moments_ago_goes_to_the_local_check_never_green():
    """Issue 11, item 6: one rule inside and outside the window: the outbox's check answers "already
    dispensed here" with the time it was done."""
    flow = F.Flow(duplicate_window_ms=10000)
    scan_to_record(flow, pack_code(), 0)
    flow.recorded(7, None, 1)
    flow.settled("done", SUCCESS, 2)
    assert scan_to_record(flow, pack_code(), 3000).kind == "dispense"
    verdict = only_verdict(flow.recorded(None, "already_dispensed_here", 3001, since_wall_ns=5 * 10**18))
    assert (verdict.outcome, verdict.light, verdict.details["since_wall_ns"]) == (
        "already_done_here", "amber", 5 * 10**18)


def test_a_pending_dispense_scanned_again_is_awaiting_answer_with_its_age():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    verdict = only_verdict(flow.recorded(None, "dispense_pending", 1, since_wall_ns=5, age_ns=90 * 10**9))
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("pending", "amber", "pending")
    assert verdict.details["age_ns"] == 90 * 10**9 and "since_wall_ns" not in verdict.details


def test_same_pack_in_another_mode_is_not_a_duplicate():
    flow = F.Flow()
    scan_to_record(flow, pack_code(), 0)
    flow.recorded(7, None, 1)
    flow.settled("done", SUCCESS, 2)
    flow.switch_mode("undo", 3)
    assert scan_to_record(flow, pack_code(), 4).kind == "undo_dispense"


def test_expired_pack_is_red_and_not_decommissioned():
    verdict = only_verdict(F.Flow().scan(pack_code(expiry="250100"), 0, TODAY))
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("expired", "red", "expired_by_date")
    assert not verdict.recorded


def test_expired_pack_without_a_trusted_date_goes_to_the_service():
    assert scan_to_record(F.Flow(), pack_code(expiry="250100"), 0, today=None).kind == "dispense"


def test_expired_pack_is_verified_but_never_green():
    flow = F.Flow(mode="verify")
    scan_to_record(flow, pack_code(expiry="250100"))
    flow.recorded(3, None, 1)
    active = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Active")
    verdict = only_verdict(flow.settled("done", active, 2))
    assert (verdict.outcome, verdict.light) == ("expired", "red")


def test_local_refusal_is_shown_and_nothing_is_sent():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    verdict = only_verdict(
        flow.recorded(None, "already_dispensed_here", 1, since_wall_ns=1_700_000_000 * 10**9)
    )
    assert (verdict.outcome, verdict.light, verdict.message_id) == (
        "already_done_here",
        "amber",
        "already_dispensed_here",
    )
    assert verdict.details["since_wall_ns"] == 1_700_000_000 * 10**9 and not verdict.recorded


def test_storage_failure_is_red_not_recorded():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    verdict = only_verdict(flow.record_failed(1))
    assert (verdict.outcome, verdict.light) == ("not_recorded", "red")


def test_no_answer_in_time_is_pending_and_resolves_later():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    pending = only_verdict(flow.settled(None, None, 3001))
    assert (pending.outcome, pending.light, pending.message_id) == ("pending", "amber", "recorded_awaiting")
    assert flow.pending_seqs == [9]
    # a settlement that still says "queued" is not a resolution
    assert flow.resolved(9, "dispense", "queued", ServiceAnswer(transport=NOT_SENT), 4000) == []
    alert = ServiceAnswer(
        http_status=409, operation_code="NMVS_NC_PCK_22", state="Destroyed", alert_id="X1", alert_code="A24"
    )
    effects = flow.resolved(9, "dispense", "needs_attention", alert, 5000)
    # issue 11, item 5: journaled (LATE); its own red notice once the "pending" verdict's hold has ended
    assert kinds(effects) == [F.LATE]
    (shown,) = flow.tick(18001)
    assert shown.kind == F.ALERT
    resolved, notice = effects[0].payload, shown.payload
    assert (resolved.event, resolved.seq, resolved.outcome, resolved.light) == ("resolved", 9, "alert", "red")
    assert (resolved.alert_code, resolved.details["alert_id"]) == ("A24", "X1")
    assert (notice.message_id, notice.light, notice.pack["serial"], notice.details["late"]) == (
        "late_alert", "red", "SER0001", True)
    assert flow.pending_seqs == []


def test_a_late_result_never_takes_over_the_verdict_in_hand():
    """Issue 11, item 5: a late green is journaled only; a late red waits until no scan is in progress
    and the verdict in hand has had its hold time, then shows as its own notice, one after another."""
    flow = F.Flow(result_hold_ms=15000)
    for seq, serial in ((9, "SER0009"), (10, "SER0010")):
        scan_to_record(flow, pack_code(serial), 0)
        flow.recorded(seq, None, 1)
        only_verdict(flow.settled(None, None, 2))
    scan_to_record(flow, pack_code("SER0003"), 20000)  # the pack in hand: recorded, checking
    flow.recorded(11, None, 20001)
    alert = ServiceAnswer(http_status=200, operation_code="NMVS_NC_PC_02", alert_id="X1", alert_code="A3")
    assert kinds(flow.resolved(9, "dispense", "needs_attention", alert, 20002)) == [F.LATE]  # checking: waits
    assert kinds(flow.resolved(10, "dispense", "done", SUCCESS, 20003)) == [F.LATE]  # green: never drawn
    in_hand = only_verdict(flow.settled("done", SUCCESS, 20004))
    assert (in_hand.pack["serial"], in_hand.light) == ("SER0003", "green")
    assert flow.tick(35003) == []  # its hold time is not over
    (effect,) = flow.tick(35004)
    assert (effect.kind, effect.payload.pack["serial"], effect.payload.light) == (F.ALERT, "SER0009", "red")
    assert flow.tick(40000) == []
    assert kinds(flow.tick(50004)) == [F.SCREEN]  # then the idle screen


def test_the_idle_screen_says_how_many_late_results_came_once_the_verdict_in_hand_has_had_its_hold():
    """Issue 11, item 5, the queue notice: late results are counted, never drawn over the verdict in hand;
    once its hold ends (after the alerts' own red notices) the idle screen says how many came, and the
    count grows while that screen stays up, and starts again after the next scan."""
    flow = F.Flow(result_hold_ms=15000)
    for seq in (9, 10, 11):
        scan_to_record(flow, pack_code(f"SER00{seq:02d}"), 0)
        flow.recorded(seq, None, 1)
        only_verdict(flow.settled(None, None, 2))
    scan_to_record(flow, pack_code("SER0003"), 20000)
    flow.recorded(12, None, 20001)
    alert = ServiceAnswer(http_status=200, operation_code="NMVS_NC_PC_02", alert_id="X1", alert_code="A3")
    assert kinds(flow.resolved(9, "dispense", "done", SUCCESS, 20002)) == [F.LATE]  # checking: nothing drawn
    in_hand = only_verdict(flow.settled("done", SUCCESS, 20003))
    assert in_hand.pack["serial"] == "SER0003"
    assert kinds(flow.resolved(10, "dispense", "needs_attention", alert, 20004)) == [F.LATE]  # within the hold
    assert kinds(flow.resolved(11, "dispense", "done", SUCCESS, 20005)) == [F.LATE]
    assert flow.tick(35002) == []  # the verdict in hand keeps its hold time
    (alerted,) = flow.tick(35003)
    assert (alerted.kind, alerted.payload.pack["serial"]) == (F.ALERT, "SER0010")
    (idle,) = flow.tick(50003)  # after the alert's own hold
    assert (idle.kind, idle.payload.message_id, idle.payload.received) == (F.SCREEN, "ready", 3)
    assert flow.tick(60000) == []
    scan_to_record(flow, pack_code("SER0004"), 61000)  # the person is back: later ones are new
    flow.recorded(13, None, 61001)
    only_verdict(flow.settled(None, None, 64001))
    (idle,) = flow.tick(79001)
    assert idle.payload.received == 0  # nothing came: the plain idle screen
    (late, shown) = flow.resolved(13, "dispense", "done", SUCCESS, 80000)  # the screen is free: at once
    assert (late.kind, shown.kind, shown.payload.received) == (F.LATE, F.SCREEN, 1)
    scan_to_record(flow, pack_code("SER0005"), 80500)
    flow.recorded(14, None, 80501)
    only_verdict(flow.settled(None, None, 83501))
    flow.resolved(14, "dispense", "done", SUCCESS, 85000)
    (idle,) = flow.tick(98501)
    assert idle.payload.received == 1  # only the one since the last notice


def test_late_results_not_yet_told_are_kept_across_scans_until_the_idle_screen_says_so():
    """A late result that came while a verdict was held is still counted after the next scan; once the
    idle screen has told them, a mode switch (like a scan) starts the count again."""
    flow = F.Flow(result_hold_ms=15000)
    for seq in (9, 10):
        scan_to_record(flow, pack_code(f"SER00{seq:02d}"), seq * 1000)
        flow.recorded(seq, None, seq * 1000 + 1)
        only_verdict(flow.settled(None, None, seq * 1000 + 2))
        flow.resolved(seq, "dispense", "done", SUCCESS, seq * 1000 + 3)  # within the hold: not told yet
    (idle,) = flow.tick(10002 + 15000)
    assert idle.payload.received == 2
    pack = {"product_code": "03400930012345", "serial": "X"}
    (_late, idle) = flow.resolved(99, "dispense", "done", SUCCESS, 30000, pack=pack)
    assert idle.payload.received == 3  # while that screen is up, the count grows
    assert flow.tick(30001) == []
    assert kinds(flow.scan("]C0" + MODE_CODES["verify"], 31000)) == [F.SCREEN]  # a mode switch takes it too
    (_late, idle) = flow.resolved(98, "dispense", "done", SUCCESS, 32000, pack=pack)
    assert (idle.payload.message_id, idle.payload.mode, idle.payload.received) == ("ready", "verify", 1)


def test_resolution_of_an_op_from_an_earlier_run():
    pack = {"product_code": "03400930012345", "serial": "OLD1"}
    (effect, idle) = F.Flow().resolved(3, "dispense", "done", SUCCESS, 0, pack=pack)
    verdict = effect.payload
    assert (effect.kind, verdict.event, verdict.seq, verdict.outcome, verdict.pack) == (
        F.LATE, "resolved", 3, "decommissioned", pack)
    assert (idle.kind, idle.payload.message_id, idle.payload.received) == (F.SCREEN, "ready", 1)  # screen free


def test_offline_answer_is_recorded_offline_amber():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(2, None, 1)
    verdict = only_verdict(
        flow.settled("queued", ServiceAnswer(transport=NOT_SENT, transport_error="refused"), 2)
    )
    assert (verdict.outcome, verdict.light) == ("recorded_offline", "amber")


def test_verify_of_a_pack_this_run_dispensed_is_amber_not_red():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(1, None, 1)
    flow.settled("done", SUCCESS, 2)
    flow.switch_mode("verify", 3)
    scan_to_record(flow, pack_code(), 4)
    flow.recorded(2, None, 5)
    supplied = ServiceAnswer(
        http_status=200, operation_code="NMVS_SUCCESS", state="Supplied", reasons=["SUPPLIED"]
    )
    assert only_verdict(flow.settled("done", supplied, 6)).outcome == "already_done_here"
    # the outbox's view, when the application has it, wins over the run's memory
    scan_to_record(flow, pack_code("SER0002"), 7)
    flow.recorded(3, None, 8)
    assert only_verdict(flow.settled("done", supplied, 9, dispensed_here=True)).light == "amber"


def test_result_is_held_then_the_idle_screen_returns():
    flow = F.Flow(result_hold_ms=15000)
    only_verdict(flow.scan("3400930012345", 1000, TODAY))
    assert flow.tick(15999) == []
    (effect,) = flow.tick(16000)
    assert (effect.kind, effect.payload.message_id) == (F.SCREEN, "ready")
    assert flow.tick(40000) == []


def test_scanner_fault_is_a_neutral_notice():
    (effect,) = F.Flow().fault("scanner unplugged", 0)
    assert (effect.kind, effect.payload.message_id, effect.payload.detail) == (
        F.SCREEN,
        "scanner_fault",
        "scanner unplugged",
    )


def test_events_without_a_scan_in_progress_do_nothing():
    flow = F.Flow()
    assert (
        flow.recorded(1, None, 0) == []
        and flow.settled("done", SUCCESS, 0) == []
        and flow.record_failed(0) == []
    )


def test_no_answer_because_the_service_was_never_reached_is_recorded_offline():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    verdict = only_verdict(flow.settled(None, None, 3001, offline=True))
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("recorded_offline", "amber", "recorded_offline")
    assert flow.pending_seqs == [9]


def test_no_answer_while_the_queue_is_paused_for_login_is_an_account_problem():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    verdict = only_verdict(flow.settled(None, None, 3001, offline=True, paused="pause_auth"))
    assert (verdict.outcome, verdict.light) == ("account_problem", "amber")


@pytest.mark.parametrize("paused, outcome, message_id", [
    ("pause_auth", "account_problem", "account_problem"),
    ("pause_cert", "certificate_problem", "certificate_problem"),
    ("pause_clock", "recorded_offline", "waiting_for_time"),
])
def test_a_paused_queue_names_its_cause_and_the_later_answer_is_shown_as_resolved(paused, outcome, message_id):
    """Issue 6 item 3: a certificate pause says "renew the certificate", never green; once the pause is
    lifted (new certificate, new login, synchronised clock) the op's settlement is shown with its pack."""
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    verdict = only_verdict(flow.settled(None, None, 3001, offline=True, paused=paused))
    assert (verdict.outcome, verdict.light, verdict.message_id, verdict.recorded) == (
        outcome, "amber", message_id, True)
    assert flow.pending_seqs == [9]
    (late,) = flow.resolved(9, "dispense", "done", SUCCESS, 9000)
    later = late.payload
    assert (late.kind, later.event, later.outcome, later.light, later.pack["serial"]) == (
        F.LATE, "resolved", "decommissioned", "green", "SER0001")


def test_a_pause_does_not_override_an_answer_that_came_in_time():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    verdict = only_verdict(flow.settled("done", SUCCESS, 3001, paused="pause_cert"))
    assert (verdict.outcome, verdict.light) == ("decommissioned", "green")


def _load_table():
    return load_table("flow_cases")


TABLE = _load_table()


@pytest.mark.parametrize("case", TABLE.CASES, ids=lambda case: case["id"])
def test_flow_table_case(case):
    """The table MicroPython replays (tests/core/tables/flow_cases.py), here under CPython."""
    assert TABLE.check(case) is None


def test_start_after_a_restart_lists_the_last_ops_then_returns_to_idle():
    flow = F.Flow(result_hold_ms=60000)
    (effect,) = flow.start(0, recent=[("dispense", "03400930012345", "SER0001", "uncertain")])
    assert (effect.payload.message_id, effect.payload.items) == (
        "restart_list", (("dispense", "03400930012345", "SER0001", "uncertain"),))
    assert flow.tick(59999) == [] and flow.tick(60000)[0].payload.message_id == "ready"


def test_the_trusted_date_sets_the_decoders_sliding_century():
    """GS1 GenSpecs 7.12: in 2080 an expiry "25" is 2125, not 2025, so the pack is not expired by date."""
    request = scan_to_record(F.Flow(), pack_code(expiry="251231"), today="2080-06-01")
    assert request.pack.expiry == "251231"
    expired = only_verdict(F.Flow().scan(pack_code(expiry="251231"), 0, "2026-11-26"))
    assert expired.outcome == "expired"


SITE_WORD = ("site_dispensed", {"device": "counter2", "counter": "2", "at": 1764758520})


@pytest.mark.parametrize("code", ["NMVS_NC_PCK_22", "NMVS_NC_PCK_23"])
def test_a_late_already_inactive_answer_is_the_sites_decommission(code):
    """Issue 16: a late answer (shown amber "awaiting" first) saying the pack is already inactive, for a
    pack the site ledger shows decommissioned at another counter, is that counter's dispense (amber,
    where and when), as a live one is; without the ledger's word it stays what it was."""
    answer = ServiceAnswer(http_status=409, operation_code=code, state="Supplied")
    for site, outcome, light in ((SITE_WORD, "at_site", "amber"), (None, None, None)):
        flow = F.Flow()
        scan_to_record(flow, pack_code())
        flow.recorded(9, None, 1)
        only_verdict(flow.settled(None, None, 3001))
        (late, *_rest) = flow.resolved(9, "dispense", "rejected", answer, 5000, site=site)
        verdict = late.payload
        if site is None:
            assert verdict.outcome != "at_site" and "site" not in verdict.details
            continue
        assert (verdict.event, verdict.outcome, verdict.light, verdict.message_id) == (
            "resolved", outcome, light, "site_dispensed")
        assert verdict.details["site"]["counter"] == "2"


def test_a_late_alert_explained_by_the_site_stays_red_and_its_notice_says_where():
    flow = F.Flow()
    scan_to_record(flow, pack_code())
    flow.recorded(9, None, 1)
    only_verdict(flow.settled(None, None, 3001))
    alert = ServiceAnswer(http_status=409, operation_code="NMVS_NC_PCK_22", state="Supplied", alert_id="X1",
                          alert_code="A24")
    assert kinds(flow.resolved(9, "dispense", "needs_attention", alert, 5000, site=SITE_WORD)) == [F.LATE]
    (shown,) = flow.tick(18001)
    notice = shown.payload
    assert (notice.message_id, notice.light, notice.details["explained"]) == ("late_alert", "red", "site_dispensed")
    assert notice.details["site"]["counter"] == "2" and notice.details["alert_id"] == "X1"
