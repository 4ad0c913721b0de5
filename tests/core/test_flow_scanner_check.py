"""The flow's scanner-check events (issue 8): calibration results are notices, held scans amber verdicts."""

import pytest

from fmd_core import calibration as C
from fmd_core import flow as F
from fmd_core import outcomes

GS = "\x1d"
PACK = "]d2010340093001234517270630" + "10B123" + GS + "21SER0001"
HOLD_REASONS = ("settings_changed", "gs_dropped", "calibration_failed", "not_calibrated")


def test_a_calibration_without_problems_is_a_neutral_scanner_ok_notice():
    (effect,) = F.Flow(mode="verify").calibrated((), 100)
    notice = effect.payload
    assert (effect.kind, notice.message_id, notice.signal, notice.mode) == (F.SCREEN, "scanner_ok", "ready", "verify")
    assert notice.problems == ()


def test_advice_alone_still_reads_scanner_ok_but_a_blocking_problem_asks_for_a_change():
    advice_only = (("layout_not_us", {"layout": "French (AZERTY)"}), ("suffix_missing", {}))
    (ok,) = F.Flow().calibrated(advice_only, 0)
    assert (ok.payload.message_id, ok.payload.problems) == ("scanner_ok", advice_only)
    for problem in ("case_inverted", "aim_off", "gs_dropped", "rs_eot_dropped"):
        (change,) = F.Flow().calibrated(((problem, {}),), 0)
        assert (change.kind, change.payload.message_id, change.payload.signal) == (
            F.SCREEN, "scanner_adjust", "fault"), problem


def test_a_calibration_result_is_taken_down_after_the_hold_time():
    flow = F.Flow(result_hold_ms=1000)
    flow.calibrated((), 5000)
    assert flow.tick(5999) == []
    (idle,) = flow.tick(6000)
    assert idle.payload.message_id == "ready"


@pytest.mark.parametrize("reason", HOLD_REASONS)
def test_a_held_scan_is_amber_journaled_and_never_recorded_or_sent(reason):
    flow = F.Flow(mode="dispense")
    effects = flow.held(PACK, reason, (("aim_off", {}),), 0)
    assert [e.kind for e in effects] == [F.SHOW]  # no RECORD, no SEND
    verdict = effects[0].payload
    assert (verdict.event, verdict.outcome, verdict.light) == ("scan", "scanner_settings", "amber")
    assert verdict.message_id == "scanner_" + reason
    assert (verdict.raw, verdict.pack, verdict.recorded) == (PACK, None, False)
    assert verdict.details["scanner"] == (("aim_off", {}),)
    assert flow.pending_seqs == []


def test_held_scans_count_as_scans_and_do_not_hide_a_later_real_scan():
    flow = F.Flow(mode="dispense", duplicate_window_ms=10000)
    effects = flow.held(PACK[3:], "settings_changed", (("aim_off", {}),), 0)
    assert [e.kind for e in effects] == [F.SHOW] and effects[0].payload.seq == 1
    # the same pack read right afterwards is no duplicate of the held scan: it is recorded
    effects = flow.scan(PACK, 100, "2026-11-26")
    assert [e.kind for e in effects] == [F.RECORD]


def test_an_unknown_hold_reason_still_reads_scanner_settings():
    verdict = F.Flow().held(None, "something_new", (), 0)[0].payload
    assert (verdict.outcome, verdict.light, verdict.message_id) == ("scanner_settings", "amber", "scanner_settings")
    assert "scanner_settings" in outcomes.MESSAGE_IDS
    assert {"scanner_" + reason for reason in HOLD_REASONS} <= set(outcomes.MESSAGE_IDS)


def profile(layout="de", aim=True):
    return C.ScannerProfile(C.KEYBOARD, layout, aim, C.NORMAL, {"GS": "ctrl"}, "CR")


def test_changed_names_only_what_every_alternative_shares():
    assert C.changed(profile(), [("us", C.NORMAL, True), ("gb", C.NORMAL, True)]) == [
        ("keyboard_changed", {"layout": "DE"})]
    assert C.changed(profile(), [("de", C.INVERTED, True)]) == [("case_inverted", {})]
    assert C.changed(profile(), [("de", C.NORMAL, False), ("de", C.INVERTED, False)]) == [("aim_off", {})]
    # one alternative keeps the stored country, the other inverts case: nothing is sure
    assert C.changed(profile(), [("de", C.INVERTED, True), ("us", C.NORMAL, True)]) == []
    serial = C.ScannerProfile(C.SERIAL, "", True, C.NORMAL, {"GS": "byte"}, "unknown")
    assert C.changed(serial, [("", C.NORMAL, False)]) == [("aim_off", {})]
