"""The flow in a receiving session and under a role (issue 17): each receive-mode scan is checked against
the note; a difference is never green; a pui_dock decommissions only clean matches; a mode barcode never
takes a device out of its role."""

import pytest

from fmd_core import flow as F
from fmd_core.modes import MODE_CODES, RECEPTION
from fmd_core.receiving import NoteEntry, Receipt
from fmd_core.service import ServiceAnswer

GS = "\x1d"
TODAY = "2026-11-26"
CODE = "03400930012345"
SUCCESS = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Supplied")
ACTIVE = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Active")


def pack_code(serial="S1", expiry="270630", batch="B123", code=CODE):
    return "]d201" + code + "17" + expiry + "10" + batch + GS + "21" + serial


def receiving_flow(role="pui_dock", quantity=2, batch="B123"):
    flow = F.Flow(mode="receive", role=role, duplicate_window_ms=10_000)
    flow.receipt = Receipt([NoteEntry(CODE[1:], quantity, batch, "2027-06-30", "Doliprane 1000")], 90)
    return flow


def settle(flow, text, answer, seq=1):
    effects = flow.scan(text, 0, TODAY)
    assert [e.kind for e in effects] == [F.RECORD], effects
    kind = effects[0].payload.kind
    flow.recorded(seq, None, 1)
    (show,) = flow.settled("done", answer, 2)
    return kind, show.payload


def test_a_clean_pack_at_a_pui_dock_is_decommissioned_and_green_with_its_line():
    kind, verdict = settle(receiving_flow(), pack_code(), SUCCESS)
    check = verdict.details["receiving"]
    assert (kind, verdict.light, check.line, check.counted, check.quantity, check.problems) == (
        "dispense", "green", 0, 1, 2, ())
    assert check.label == "Doliprane 1000"


def test_a_different_batch_is_verified_only_and_amber_though_the_service_accepts():
    kind, verdict = settle(receiving_flow(), pack_code(batch="ZZ9"), ACTIVE)
    assert (kind, verdict.light, verdict.details["receiving"].problems) == ("verify", "amber", ("batch_differs",))
    assert verdict.details.get("verify_only") is True


def test_an_unexpected_product_is_amber_and_a_red_answer_stays_red():
    flow = receiving_flow()
    kind, verdict = settle(flow, pack_code(code="03400935555555"[:-1] + "7"), ACTIVE)
    assert (kind, verdict.light, verdict.details["receiving"].problems) == ("verify", "amber", ("wrong_product",))
    alert = ServiceAnswer(http_status=200, operation_code="NMVS_NC_PC_02", alert_id="X1", alert_code="A3")
    _kind, verdict = settle(flow, pack_code(serial="S2", batch="ZZ9"), alert, seq=2)
    assert verdict.light == "red"


def test_the_same_pack_again_in_the_session_is_amber_not_counted_and_not_sent():
    flow = receiving_flow()
    settle(flow, pack_code(), SUCCESS)
    again = flow.scan(pack_code(), 20_000, TODAY)  # after the duplicate window: the session still knows it
    assert [e.kind for e in again] == [F.SHOW]
    verdict = again[0].payload
    assert (verdict.light, verdict.message_id, verdict.details["receiving"].counted) == (
        "amber", "receive_already_scanned", 1)


def test_at_a_reception_receive_only_verifies():
    kind, verdict = settle(receiving_flow(role=RECEPTION), pack_code(), ACTIVE)
    assert (kind, verdict.light, verdict.details.get("verify_only")) == ("verify", "green", None)


@pytest.mark.parametrize("role, refused, kept", [
    ("counter", "receive", "dispense"), ("reception", "dispense", "receive"), ("pui_dock", "dispense", "receive")])
def test_a_mode_barcode_cannot_take_a_device_out_of_its_role(role, refused, kept):
    flow = F.Flow(role=role)
    assert flow.mode == kept  # the configured default mode gives way to the role's first
    (effect,) = flow.scan(MODE_CODES[refused], 0, TODAY)
    assert (effect.payload.message_id, effect.payload.items, flow.mode) == ("mode_not_in_role", (role, refused), kept)


def test_the_mode_button_cycles_within_the_role():
    flow = F.Flow(role="reception")
    seen = [flow.next_mode(0)[0].payload.mode for _ in range(3)]
    assert seen == ["verify", "receive", "verify"]


def test_without_a_role_every_mode_stays_and_receive_dispenses_as_before():
    flow = F.Flow()
    flow.scan(MODE_CODES["receive"], 0, TODAY)
    assert flow.mode == "receive"
    assert flow.scan(pack_code(), 0, TODAY)[0].payload.kind == "dispense"
