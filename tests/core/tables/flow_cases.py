"""The terminal flow (fmd_core.flow) over event sequences: the verdict it shows, on CPython and MicroPython.

Each case: the mode, the events (``scan`` text, ``recorded`` seq or refusal, ``settled`` op state and
answer fields, and the queue's pause when no answer came; ``resolved`` seq, op state and answer fields (a late
result); ``tick`` after so many ms) and the last verdict the screen shows with a light: [outcome, light, message id].
VERIFICATION-SERVICE.md section 10 (colours), OFFLINE-QUEUE.md sections 5.1 and 5.2 (scan path).
"""

from fmd_core import flow as F
from fmd_core.service import ServiceAnswer

GS = "\x1d"
PACK = "]d201034009300123451727063010B123" + GS + "21SER0001"
EXPIRED = "]d201034009300123451725010010B123" + GS + "21SER0002"
TODAY = "2026-11-26"
OK_SUPPLIED = {"http_status": 200, "operation_code": "NMVS_SUCCESS", "state": "Supplied"}

CASES = [
    {"id": "dispense_applied", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 7], ["settled", "done", OK_SUPPLIED]],
     "expect": ["decommissioned", "green", "dispensed"]},
    {"id": "verify_active", "mode": "verify",
     "events": [["scan", PACK], ["recorded", 1], ["settled", "done", {"http_status": 200,
                                                                      "operation_code": "NMVS_SUCCESS",
                                                                      "state": "Active"}]],
     "expect": ["authentic", "green", "authentic"]},
    {"id": "alert_is_red", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 2], ["settled", "rejected", {
         "http_status": 409, "operation_code": "NMVS_NC_PCK_22", "state": "Destroyed", "alert_id": "X",
         "alert_code": "A24"}]],
     "expect": ["alert", "red", "alert"]},
    {"id": "no_answer_in_time", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 3], ["settled", None, None]],
     "expect": ["pending", "amber", "recorded_awaiting"]},
    {"id": "local_second_dispense", "mode": "dispense",
     "events": [["scan", PACK], ["refused", "already_dispensed_here"]],
     "expect": ["already_done_here", "amber", "already_dispensed_here"]},
    {"id": "local_second_dispense_pending", "mode": "dispense",
     "events": [["scan", PACK], ["refused", "dispense_pending"]],
     "expect": ["pending", "amber", "pending"]},
    {"id": "undo_without_dispense", "mode": "undo",
     "events": [["scan", PACK], ["refused", "no_dispense_here"]],
     "expect": ["refused", "amber", "no_dispense_here"]},
    {"id": "expired_by_its_date", "mode": "dispense", "events": [["scan", EXPIRED]],
     "expect": ["expired", "red", "expired_by_date"]},
    {"id": "linear_code", "mode": "dispense", "events": [["scan", "3400930012345"]],
     "expect": ["not_a_pack", "amber", "scan_data_matrix"]},
    {"id": "no_serial", "mode": "dispense", "events": [["scan", "]d201034009300123451727063010B1"]],
     "expect": ["not_serialised", "amber", "not_serialised"]},
    {"id": "three_garbled_in_a_row", "mode": "dispense",
     "events": [["scan", "]d2010340"], ["scan", "]d2010340"], ["scan", "]d2010340"]],
     "expect": ["unreadable", "red", "unreadable_repeated"]},
    # issue 11, item 6: a pack dispensed here is never green again, inside the window too: the outbox's
    # local check answers "already dispensed here" with its time; another change shows its earlier result amber
    {"id": "duplicate_in_window", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 7], ["settled", "done", OK_SUPPLIED], ["scan", PACK],
                ["refused", "already_dispensed_here"]],
     "expect": ["already_done_here", "amber", "already_dispensed_here"]},
    {"id": "duplicate_pending_in_window", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 7], ["settled", None, None], ["scan", PACK],
                ["refused", "dispense_pending"]],
     "expect": ["pending", "amber", "pending"]},
    {"id": "duplicate_destroy_in_window", "mode": "destroy",
     "events": [["scan", PACK], ["recorded", 8], ["settled", "done", OK_SUPPLIED], ["scan", PACK]],
     "expect": ["duplicate_scan", "amber", "duplicate_scan"]},
    {"id": "duplicate_verify_in_window", "mode": "verify",
     "events": [["scan", PACK], ["recorded", 8], ["settled", "done", {"http_status": 200,
                "operation_code": "NMVS_SUCCESS", "state": "Active"}], ["scan", PACK]],
     "expect": ["duplicate_scan", "green", "duplicate_scan"]},
    {"id": "mode_barcode_then_undo", "mode": "dispense",
     "events": [["scan", "]C0FMD-MODE-UNDO"], ["scan", PACK], ["recorded", 9],
                ["settled", "done", {"http_status": 200, "operation_code": "NMVS_SUCCESS", "state": "Active"}]],
     "expect": ["undone", "green", "undone"]},
    # issue 15: the admin code shows the console's address; the mode stays and the next scan goes on at once
    {"id": "admin_code_keeps_the_mode", "mode": "dispense",
     "events": [["scan", "]C0FMD-MODE-ADMIN\r\n"], ["scan", PACK], ["recorded", 9], ["settled", "done", OK_SUPPLIED]],
     "expect": ["decommissioned", "green", "dispensed"]},
    {"id": "storage_failed", "mode": "dispense", "events": [["scan", PACK], ["record_failed"]],
     "expect": ["not_recorded", "red", "not_recorded"]},
    # no answer because the queue is paused (OFFLINE-QUEUE.md 4.3): the pause names the screen
    {"id": "paused_for_login", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 4], ["settled", None, None, "pause_auth"]],
     "expect": ["account_problem", "amber", "account_problem"]},
    {"id": "paused_for_certificate", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 5], ["settled", None, None, "pause_cert"]],
     "expect": ["certificate_problem", "amber", "certificate_problem"]},
    {"id": "paused_for_clock", "mode": "verify",
     "events": [["scan", PACK], ["recorded", 6], ["settled", None, None, "pause_clock"]],
     "expect": ["recorded_offline", "amber", "waiting_for_time"]},
    {"id": "paused_for_software", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 8], ["settled", None, None, "pause_software"]],
     "expect": ["recorded_offline", "amber", "recorded_offline"]},
    # issue 11, item 5: a late result never replaces the verdict in hand; a late alert is its own red
    # notice once that verdict's hold time (15 s) has ended
    {"id": "late_green_is_not_drawn", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 3], ["settled", None, None], ["resolved", 3, "done", OK_SUPPLIED],
                ["tick", 20000]],
     "expect": ["pending", "amber", "recorded_awaiting"]},
    {"id": "late_alert_waits_for_the_hold", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 3], ["settled", None, None],
                ["resolved", 3, "needs_attention", {"http_status": 200, "operation_code": "NMVS_NC_PC_02",
                                                    "alert_id": "X", "alert_code": "A3"}]],
     "expect": ["pending", "amber", "recorded_awaiting"]},
    {"id": "late_alert_after_the_hold", "mode": "dispense",
     "events": [["scan", PACK], ["recorded", 3], ["settled", None, None],
                ["resolved", 3, "needs_attention", {"http_status": 200, "operation_code": "NMVS_NC_PC_02",
                                                    "alert_id": "X", "alert_code": "A3"}], ["tick", 20000]],
     "expect": ["alert", "red", "late_alert"]},
]


def _step(flow, event, now):
    name = event[0]
    if name == "scan":
        return flow.scan(event[1], now, TODAY)
    if name == "recorded":
        return flow.recorded(event[1], None, now)
    if name == "refused":
        return flow.recorded(None, event[1], now)
    if name == "record_failed":
        return flow.record_failed(now)
    if name == "tick":
        return flow.tick(now)
    if name == "resolved":
        return flow.resolved(event[1], "dispense", event[2], ServiceAnswer(**event[3]), now)
    answer = ServiceAnswer(**event[2]) if event[2] is not None else None
    if len(event) > 3:  # no answer, the queue paused for event[3]: the op never left the outbox
        return flow.settled(event[1], answer, now, offline=True, paused=event[3])
    return flow.settled(event[1], answer, now)


def check(case):
    flow = F.Flow(mode=case["mode"])
    shown = None
    now = 0
    for event in case["events"]:
        now += event[1] if event[0] == "tick" else 100
        for effect in _step(flow, event, now):
            if effect.kind in (F.SHOW, F.ALERT):  # what the screen shows with a light
                shown = effect.payload
    if shown is None:
        return "no verdict was shown"
    got = [shown.outcome, shown.light, shown.message_id]
    if got != case["expect"]:
        return "expected {}, got {}".format(case["expect"], got)
    return None
