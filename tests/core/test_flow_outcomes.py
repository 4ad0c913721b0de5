"""The red/amber/green mapping of VERIFICATION-SERVICE.md section 10, one row per case."""

import pytest

from fmd_core import outcomes
from fmd_core.service import NO_ANSWER, NOT_SENT, ServiceAnswer


def answer(code, status=200, state="Active", alert=None, reasons=()):
    return ServiceAnswer(http_status=status, operation_code=code, state=state, reasons=reasons,
                         alert_id="ALRT-1" if alert else None, alert_code=alert)


# (kind, answer, dispensed_here, outcome, light, message id)
ANSWER_CASES = [
    ("verify", answer("NMVS_SUCCESS"), False, "authentic", "green", "authentic"),
    ("dispense", answer("NMVS_SUCCESS", state="Supplied"), False, "decommissioned", "green", "dispensed"),
    ("destroy", answer("NMVS_SUCCESS", state="Destroyed"), False, "decommissioned", "green", "destroyed_ok"),
    ("undo_dispense", answer("NMVS_SUCCESS"), False, "undone", "green", "undone"),
    # any alert id is red, whatever the code says
    ("verify", answer("NMVS_NC_PC_02", alert="A3", state="NotFound"), False, "alert", "red", "alert"),
    ("verify", answer("NMVS_SUCCESS", alert="A52"), False, "alert", "red", "alert"),
    ("dispense", answer("NMVS_NC_PCK_22", 409, "Supplied", "A24", ("SUPPLIED",)), False, "alert", "red", "alert"),
    ("dispense", answer("NMVS_NC_PCK_19", 409, "Supplied", "A7"), True, "alert", "red", "alert"),
    # inactive elsewhere without alert is red too
    ("dispense", answer("NMVS_NC_PCK_19", 409, "Supplied"), False, "inactive_elsewhere", "red", "inactive_elsewhere"),
    ("verify", answer("NMVS_SUCCESS", state="Supplied", reasons=("SUPPLIED",)), False,
     "inactive_elsewhere", "red", "inactive_elsewhere"),
    ("verify", answer("NMVS_SUCCESS", state="Supplied", reasons=("SUPPLIED",)), True,
     "already_done_here", "amber", "already_dispensed_here"),
    ("verify", answer("NMVS_SUCCESS", state="Exported"), False, "inactive_elsewhere", "red", "inactive_elsewhere"),
    ("verify", answer("NMVS_SUCCESS", state="Expired", reasons=("EXPIRED",)), False, "expired", "red", "expired"),
    ("verify", answer("NMVS_SUCCESS", state="Recalled"), False, "recalled", "red", "recalled"),
    ("verify", answer("NMVS_SUCCESS", state="Stolen"), False, "stolen", "red", "stolen"),
    ("verify", answer("NMVS_SUCCESS", state="Destroyed"), False, "destroyed", "red", "destroyed"),
    ("dispense", answer("NMVS_NC_PCK_02", 409, "Expired"), False, "expired", "red", "expired"),
    ("dispense", answer("NMVS_FE_LOT_01", 409, "Recalled"), False, "recalled", "red", "recalled"),
    ("dispense", answer("NMVS_FE_LOT_08", 409, "Withdrawn"), False, "withdrawn", "red", "withdrawn"),
    # PCK_22 on a pack inactive only by overlays: read the overlay
    ("dispense", answer("NMVS_NC_PCK_22", 409, "Recalled", reasons=("RECALLED",)), False, "recalled", "red", "recalled"),
    ("dispense", answer("NMVS_NC_PCK_23", 409, "Supplied"), True, "already_done_here", "amber", "already_dispensed_here"),
    ("verify", answer("NMVS_NC_PC_01", state="NotFound"), False, "unknown_product", "amber", "unknown_product"),
    ("dispense", answer("NMVS_NC_PC_06", 409), False, "unknown_product", "amber", "unknown_product"),
    ("undo_dispense", answer("NMVS_FE_TX_05", 409, "Supplied"), True, "refused", "amber", "undo_refused"),
    ("undo_dispense", answer("NMVS_NC_PCK_06", 409), True, "refused", "amber", "undo_refused"),
    ("dispense", answer("NMVS_FE_BR_01", 403), False, "refused", "amber", "not_permitted"),
    ("dispense", answer("NMVS_FE_GR_01", 400), False, "unreadable", "amber", "unreadable"),
    ("dispense", answer("NMVS_TE_JS_02", 400), False, "unreadable", "amber", "unreadable"),
    ("dispense", answer("NMVS_FE_AU_01", 401), False, "account_problem", "amber", "account_problem"),
    # the client certificate is refused: renew it (VERIFICATION-SERVICE.md section 8, issue 6 item 3)
    ("dispense", answer("NMVS_FE_PKI_05", 401), False, "certificate_problem", "amber", "certificate_problem"),
    ("verify", answer("NMVS_FE_PKI_01", 401), False, "certificate_problem", "amber", "certificate_problem"),
    ("dispense", answer("NMVS_FE_AU_11", 401), False, "account_problem", "amber", "account_problem"),
    ("dispense", answer("NMVS_FI_SE_CLI_01", 429), False, "recorded_offline", "amber", "recorded_offline"),
    ("dispense", answer("NMVS_ERROR", 503), False, "pending", "amber", "pending"),
    ("dispense", answer("NMVS_TI_TO_01", 500), False, "pending", "amber", "pending"),
    ("dispense", answer("NMVS_SOMETHING_NEW", 409), False, "refused", "amber", "service_refused"),
    # a success code with an error status is not believed
    ("verify", answer("NMVS_SUCCESS", 500), False, "pending", "amber", "pending"),
    ("dispense", ServiceAnswer(transport=NOT_SENT, transport_error="refused"), False,
     "recorded_offline", "amber", "recorded_offline"),
    ("dispense", ServiceAnswer(transport=NO_ANSWER, transport_error="read_timeout"), False,
     "pending", "amber", "pending"),
    ("dispense", None, False, "recorded_offline", "amber", "recorded_offline"),
]


@pytest.mark.parametrize("kind, ans, here, code, light, message", ANSWER_CASES)
def test_of_answer(kind, ans, here, code, light, message):
    assert outcomes.of_answer(kind, ans, here) == outcomes.Outcome(code, light, message)


# (kind, op state, answer, outcome, light)
SETTLEMENT_CASES = [
    ("dispense", "done", answer("NMVS_SUCCESS", state="Supplied"), "decommissioned", "green"),
    # confirmed by a verify or by NC_PCK_23 on a resend of our own request: applied, green
    ("dispense", "done", answer("NMVS_NC_PCK_23", 409, "Supplied"), "decommissioned", "green"),
    ("undo_dispense", "done", answer("NMVS_SUCCESS"), "undone", "green"),
    ("verify", "done", answer("NMVS_SUCCESS"), "authentic", "green"),
    ("dispense", "rejected", answer("NMVS_NC_PCK_22", 409, "Destroyed", "A24"), "alert", "red"),
    ("dispense", "needs_attention", answer("NMVS_NC_PC_02", 409, "NotFound", "A3"), "alert", "red"),
    ("dispense", "queued", ServiceAnswer(transport=NOT_SENT), "recorded_offline", "amber"),
    ("dispense", "queued", answer("NMVS_FE_AU_01", 401), "account_problem", "amber"),
    ("dispense", "queued", answer("NMVS_FE_PKI_01", 401), "certificate_problem", "amber"),
    ("dispense", "queued", ServiceAnswer(transport=NOT_SENT, transport_error="tls_client_cert"),
     "certificate_problem", "amber"),
    ("dispense", "queued", None, "recorded_offline", "amber"),
    ("dispense", "uncertain", ServiceAnswer(transport=NO_ANSWER), "pending", "amber"),
    # a refused op is never green, even with a success code in its last answer
    ("verify", "rejected", answer("NMVS_SUCCESS"), "refused", "amber"),
    ("dispense", "cancelled", answer("NMVS_SUCCESS"), "refused", "amber"),
]


@pytest.mark.parametrize("kind, state, ans, code, light", SETTLEMENT_CASES)
def test_of_settlement(kind, state, ans, code, light):
    outcome = outcomes.of_settlement(kind, state, ans)
    assert (outcome.code, outcome.light) == (code, light)


# the queue's pause when no answer came (OFFLINE-QUEUE.md 4.3) -> (outcome, light, message id) or None
@pytest.mark.parametrize("paused, expected", [
    ("pause_auth", ("account_problem", "amber", "account_problem")),
    ("pause_cert", ("certificate_problem", "amber", "certificate_problem")),
    ("pause_clock", ("recorded_offline", "amber", "waiting_for_time")),
    ("pause_software", None),
    (None, None),
])
def test_of_pause(paused, expected):
    got = outcomes.of_pause(paused)
    assert (got if got is None else (got.code, got.light, got.message_id)) == expected


def test_only_service_accepted_outcomes_are_green():
    green = {code for code, light in outcomes.LIGHT.items() if light == "green"}
    assert green == {"authentic", "decommissioned", "undone"}


@pytest.mark.parametrize("reason, code, message", [
    ("already_dispensed_here", "already_done_here", "already_dispensed_here"),
    ("no_dispense_here", "refused", "no_dispense_here"),
    ("undo_period_over", "refused", "undo_period_over"),
    ("undo_time_unknown", "refused", "undo_time_unknown"),
    ("pack_blocked", "refused", "pack_blocked"),
    ("something_new", "refused", "refused"),
])
def test_local_refusals_are_amber(reason, code, message):
    assert outcomes.of_refusal(reason) == outcomes.Outcome(code, "amber", message)


def test_decode_errors():
    assert outcomes.of_decode_error("missing_serial") == outcomes.Outcome("not_serialised", "amber")
    assert outcomes.of_decode_error("not_a_pack_code") == outcomes.Outcome("not_a_pack", "amber")
    assert outcomes.of_decode_error("bad_check_digit", 1) == outcomes.Outcome("unreadable", "amber")
    assert outcomes.of_decode_error("bad_check_digit", 3) == outcomes.Outcome("unreadable", "red", "unreadable_repeated")
    assert outcomes.of_linear_code() == outcomes.Outcome("not_a_pack", "amber", "scan_data_matrix")


@pytest.mark.parametrize("expiry, today, expired", [
    ("2027-06-30", "2027-06-30", False),
    ("2027-06-30", "2027-07-01", True),
    ("2027-06-30", None, False),
    (None, "2027-07-01", False),
])
def test_expired_on(expiry, today, expired):
    assert outcomes.expired_on(expiry, today) is expired
