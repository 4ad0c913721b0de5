"""One test (at least) per row of the return-code table, through HTTP (VERIFICATION-SERVICE.md, section 5)."""

from __future__ import annotations

from typing import Any

import pytest
from simulator_helpers import Actor, fresh_packs, new_trx

from fmd_simulator.identifiers import gs1_check_digit, ppn_check
from fmd_simulator.testing import running_simulator


def alerts_for(sim: Any, pack: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in sim.alerts() if a["serial"] == pack["serial"] and a["productCode"] == pack["productCode"]]


def test_success_verify_and_dispense(sim, pharmacy, pack):
    status, body = pharmacy.verify(pack)
    assert (status, body["operationCode"], body["state"], body["reasons"]) == (200, "NMVS_SUCCESS", "Active", [])
    assert body["alertId"] is None and body["clientTrxId"] is None and len(body["nmvsTrxId"]) == 32
    assert body["productName"] == pack["productName"] and body["batchState"] == "Active"
    trx = new_trx()
    status, body = pharmacy.change(pack, "Supplied", trx)
    assert (status, body["operationCode"], body["state"], body["reasons"]) == (200, "NMVS_SUCCESS", "Supplied", ["SUPPLIED"])
    assert body["clientTrxId"] == trx
    assert pharmacy.verify(pack)[1]["state"] == "Supplied"


def test_fe_lot_01_recalled_batch_blocks_decommission_without_alert(sim, pharmacy, pack):
    sim.admin("POST", f"/admin/batches/GTIN/{pack['productCode']}/{pack['batch']}/recall")
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"], body["alertId"]) == (409, "NMVS_FE_LOT_01", None)
    assert body["state"] == "Recalled" and body["batchState"] == "Recalled"
    status, body = pharmacy.verify(pack)
    assert (status, body["operationCode"], body["state"], body["reasons"]) == (200, "NMVS_SUCCESS", "Recalled", ["RECALLED"])
    assert sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Recalled"


def test_fe_lot_03_unknown_batch_and_serial_alerts_a2(sim, pharmacy, pack):
    status, body = pharmacy.verify(pack, serial="NoSuchSerial1", batch="NOBATCH")
    assert (status, body["operationCode"], body["alertCode"], body["state"]) == (200, "NMVS_FE_LOT_03", "A2", "NotFound")
    assert body["alertId"]
    status, body = pharmacy.change(pack, "Supplied", serial="NoSuchSerial2", batch="NOBATCH")
    assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_FE_LOT_03", "A2")
    logged = {a["alertId"] for a in sim.alerts()}
    assert body["alertId"] in logged


@pytest.mark.parametrize("expiry", ["271332", "270230", "2712", "27123A", "270000x", ""])
def test_fe_lot_07_invalid_expiry_is_400_without_alert(sim, pharmacy, pack, expiry):
    before = len(sim.alerts())
    status, body = pharmacy.verify(pack, expiry=expiry)
    assert (status, body["operationCode"]) == (400, "NMVS_FE_LOT_07")
    assert repr(expiry) in body["description"]
    status, body = pharmacy.change(pack, "Supplied", expiry=expiry)
    assert (status, body["operationCode"]) == (400, "NMVS_FE_LOT_07")
    assert len(sim.alerts()) == before and pharmacy.verify(pack)[1]["state"] == "Active"


def test_fe_lot_08_withdrawn_batch_and_product(sim, pharmacy):
    first, second = fresh_packs(sim, 2)
    sim.admin("POST", f"/admin/batches/GTIN/{first['productCode']}/{first['batch']}/withdraw")
    status, body = pharmacy.change(first, "Supplied")
    assert (status, body["operationCode"], body["alertId"], body["state"]) == (409, "NMVS_FE_LOT_08", None, "Withdrawn")
    other = fresh_packs(sim, 1)[0]
    sim.admin("POST", f"/admin/products/GTIN/{other['productCode']}/withdraw")
    status, body = pharmacy.change(other, "Destroyed")
    assert (status, body["operationCode"], body["state"]) == (409, "NMVS_FE_LOT_08", "Withdrawn")


def test_fe_lot_12_expiry_differs_alerts_a52(sim, pharmacy, pack):
    wrong = "991231" if pack["expiry"] != "991231" else "981231"
    status, body = pharmacy.verify(pack, expiry=wrong)
    assert (status, body["operationCode"], body["alertCode"]) == (200, "NMVS_FE_LOT_12", "A52")
    status, body = pharmacy.change(pack, "Supplied", expiry=wrong)
    assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_FE_LOT_12", "A52")
    assert pharmacy.verify(pack)[1]["state"] == "Active"
    assert [a["alertCode"] for a in alerts_for(sim, pack)] == ["A52", "A52"]


def test_fe_lot_13_serial_under_other_batch_alerts_a68(sim, pharmacy, pack):
    status, body = pharmacy.verify(pack, batch=pack["batch"] + "X")
    assert (status, body["operationCode"], body["alertCode"]) == (200, "NMVS_FE_LOT_13", "A68")
    status, body = pharmacy.change(pack, "Supplied", batch=pack["batch"] + "X")
    assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_FE_LOT_13", "A68")


def test_nc_pc_01_unknown_product_without_alert(sim, pharmacy, pack):
    body12 = "034009" + "9999999"
    unknown = {**pack, "productCode": body12 + str(gs1_check_digit(body12))}
    status, body = pharmacy.verify(unknown)
    assert (status, body["operationCode"], body["state"], body["alertId"]) == (200, "NMVS_NC_PC_01", "NotFound", None)
    status, body = pharmacy.change(unknown, "Supplied")
    assert (status, body["operationCode"]) == (409, "NMVS_NC_PC_01")
    # Step 9: an unknown pack's requests go to the request log.
    assert [h["result"] for h in sim.history("GTIN", unknown["productCode"], unknown["serial"])["history"]] == [
        "NMVS_NC_PC_01", "NMVS_NC_PC_01"]


def test_nc_pc_02_unknown_serial_alerts_a3(sim, pharmacy, pack):
    status, body = pharmacy.verify(pack, serial="NoSuchSerial9")
    assert (status, body["operationCode"], body["alertCode"], body["state"]) == (200, "NMVS_NC_PC_02", "A3", "NotFound")
    status, body = pharmacy.change(pack, "Supplied", serial="NoSuchSerial9")
    assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_NC_PC_02", "A3")


def test_nc_pc_06_product_not_held_without_alert(sim, pharmacy, pack):
    sim.admin("POST", "/admin/packs", {"packs": [{**pack, "serial": "HeldNot1", "unavailable": True}]})
    status, body = pharmacy.verify(pack)
    assert (status, body["operationCode"], body["alertId"]) == (200, "NMVS_NC_PC_06", None)
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"], body["alertId"]) == (409, "NMVS_NC_PC_06", None)


@pytest.mark.parametrize("nhrn", ["ABC", "12 34", "1" * 21, ""])
def test_nc_pc_11_invalid_nhrn_is_400(sim, pharmacy, pack, nhrn):
    status, body = pharmacy.verify({**pack, "nhrn": nhrn})
    assert (status, body["operationCode"]) == (400, "NMVS_NC_PC_11")
    assert pharmacy.verify({**pack, "nhrn": "3400930012345"})[0] == 200


def test_nc_pck_02_expired_pack(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_clock(now=f"20{pack['expiry'][:2]}-12-31T12:00:00Z")
    own_sim.advance_days(370)
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"], body["alertId"], body["state"]) == (409, "NMVS_NC_PCK_02", None, "Expired")
    assert pharmacy.verify(pack)[1]["reasons"] == ["EXPIRED"]


def test_nc_pck_06_undo_of_active_pack_without_alert(sim, pharmacy, pack):
    status, body = pharmacy.change(pack, "Active", ref=new_trx())
    assert (status, body["operationCode"], body["alertId"]) == (409, "NMVS_NC_PCK_06", None)


def test_nc_pck_19_same_status_by_another_client_alerts_a7(sim, pharmacy, other, pack):
    assert pharmacy.change(pack, "Supplied")[0] == 200
    status, body = other.change(pack, "Supplied")
    assert (status, body["operationCode"], body["alertCode"], body["state"]) == (409, "NMVS_NC_PCK_19", "A7", "Supplied")
    assert [a["alertCode"] for a in alerts_for(sim, pack)] == ["A7"]


@pytest.mark.parametrize("setting,alert", [("always", "A7"), ("intermarket", None), ("never", None)])
def test_nc_pck_19_alert_switch(setting, alert):
    with running_simulator(seed_packs=1, pck19_alert=setting) as sim:
        pack = sim.seeded_packs()[0]
        assert Actor(sim).change(pack, "Supplied")[0] == 200
        status, body = Actor(sim, "pharmacy-other", "other-secret").change(pack, "Supplied")
        assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_NC_PCK_19", alert)


def test_nc_pck_20_undo_window_exceeded(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    trx = new_trx()
    assert pharmacy.change(pack, "Supplied", trx)[0] == 200
    own_sim.advance_days(11)
    status, body = pharmacy.change(pack, "Active", ref=trx)
    assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_NC_PCK_20", "A24")


def test_nc_pck_21_undo_by_another_client(sim, pharmacy, other, pack):
    trx = new_trx()
    assert pharmacy.change(pack, "Supplied", trx)[0] == 200
    status, body = other.change(pack, "Active", ref=trx)
    assert (status, body["operationCode"], body["alertCode"], body["state"]) == (409, "NMVS_NC_PCK_21", "A24", "Supplied")


def test_nc_pck_22_inactive_for_another_reason(sim, pharmacy, pack):
    assert pharmacy.change(pack, "Supplied")[0] == 200
    status, body = pharmacy.change(pack, "Destroyed")
    assert (status, body["operationCode"], body["alertCode"], body["state"]) == (409, "NMVS_NC_PCK_22", "A24", "Supplied")


def test_nc_pck_23_double_scan_without_alert_by_default(sim, pharmacy, pack):
    assert pharmacy.change(pack, "Supplied")[0] == 200
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"], body["alertId"]) == (409, "NMVS_NC_PCK_23", None)
    assert alerts_for(sim, pack) == []


def test_nc_pck_23_double_scan_alerts_a7_when_switched_on():
    with running_simulator(seed_packs=1, double_scan_alert=True) as sim:
        pharmacy, pack = Actor(sim), sim.seeded_packs()[0]
        assert pharmacy.change(pack, "Supplied")[0] == 200
        status, body = pharmacy.change(pack, "Supplied")
        assert (status, body["operationCode"], body["alertCode"]) == (409, "NMVS_NC_PCK_23", "A7")


def test_nc_pck_27_intermarket_change_refused(sim, pharmacy):
    foreign = fresh_packs(sim, 1, market="DE")[0]
    status, body = pharmacy.change(foreign, "Supplied")
    assert (status, body["operationCode"], body["isIntermarket"]) == (200, "NMVS_SUCCESS", True)
    status, body = pharmacy.change(foreign, "Destroyed")
    assert (status, body["operationCode"], body["alertCode"], body["isIntermarket"]) == (
        409, "NMVS_NC_PCK_27", "A24", True)


def test_fe_tx_01_unknown_reference(sim, pharmacy, pack):
    assert pharmacy.change(pack, "Supplied")[0] == 200
    status, body = pharmacy.change(pack, "Active", ref=new_trx())
    assert (status, body["operationCode"], body["alertId"], body["state"]) == (409, "NMVS_FE_TX_01", None, "Supplied")


def test_fe_tx_02_bulk_result_not_ready_then_ready(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"holdBulk": True})
    item = {k: pack[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")}
    status, _, accepted = own_sim.request("POST", "/product/packs", {"requestedState": "Supplied", "items": [
        {**item, "clientTrxId": new_trx()}]}, pharmacy.headers())
    assert status == 202
    status, _, body = own_sim.request("GET", accepted["resultsUri"], headers=pharmacy.headers())
    assert (status, body["operationCode"]) == (202, "NMVS_FE_TX_02")
    assert pharmacy.verify(pack)[1]["state"] == "Active"


def test_fe_tx_05_reference_superseded(sim, pharmacy, pack):
    first, undo = new_trx(), new_trx()
    assert pharmacy.change(pack, "Supplied", first)[0] == 200
    assert pharmacy.change(pack, "Active", undo, ref=first)[0] == 200
    assert pharmacy.change(pack, "Supplied")[0] == 200
    status, body = pharmacy.change(pack, "Active", ref=first)
    assert (status, body["operationCode"], body["alertId"]) == (409, "NMVS_FE_TX_05", None)


def test_te_tx_01_reused_id_not_executed(sim, pharmacy):
    first, second = fresh_packs(sim, 2)
    trx = new_trx()
    assert pharmacy.change(first, "Supplied", trx)[0] == 200
    status, body = pharmacy.change(second, "Supplied", trx)
    assert (status, body["operationCode"]) == (409, "NMVS_TE_TX_01")
    assert [h["operation"] for h in sim.history("GTIN", second["productCode"], second["serial"])["history"]] == []
    assert pharmacy.verify(second)[1]["state"] == "Active"


def test_te_js_01_malformed_json(sim, pharmacy, pack):
    headers = pharmacy.headers(**{"X-Client-Trx-Id": new_trx(), "Content-Type": "application/json"})
    status, _, body = sim.request("PATCH", Actor.path(pack), body=b'{"batch": ', headers=headers)
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_01")


@pytest.mark.parametrize("field,value", [("serial", "bad serial"), ("serial", "x" * 21), ("serial", "é"),
                                         ("batch", "B#1"), ("batch", "")])
def test_te_js_02_fields_outside_set_82(sim, pharmacy, pack, field, value):
    status, body = pharmacy.verify(pack, **{field: value})
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")
    assert field in body["description"]


def test_te_js_02_missing_field_and_bad_state(sim, pharmacy, pack):
    headers = pharmacy.headers(**{"X-Client-Trx-Id": new_trx()})
    status, _, body = sim.request("PATCH", Actor.path(pack), {"batch": pack["batch"], "state": "Supplied"}, headers)
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02") and "expiry" in body["description"]
    status, body = pharmacy.change(pack, "Sold")
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")
    status, body = pharmacy.change(pack, "Active")  # an undo without refClientTrxId
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")
    status, body = pharmacy.change(pack, "Supplied", trx="not_valid!")
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")
    assert pharmacy.verify(pack)[1]["state"] == "Active"


def timeout_run() -> list[bool]:
    """Dispense 8 seeded packs under ``timeoutRate: 1``; which changes were applied (read back by verify)."""
    with running_simulator(seed_packs=8, seed=3, faults={"timeoutRate": 1.0, "seed": 7}) as sim:
        pharmacy = Actor(sim)
        packs = sim.seeded_packs()
        for pack in packs:
            status, body = pharmacy.change(pack, "Supplied")
            assert (status, body["operationCode"]) == (500, "NMVS_TI_TO_01")
        sim.set_faults({})
        return [pharmacy.verify(pack)[1]["state"] == "Supplied" for pack in packs]


def test_ti_to_01_timeout_outcome_is_seeded():
    first = timeout_run()
    assert 0 < sum(first) < len(first)  # the change is applied or not ...
    assert timeout_run() == first  # ... deterministically under the fault seed


def test_fe_au_01_wrong_credentials_and_bad_token(sim):
    status, _, body = sim.request("POST", "/identity/connect/token",
                                  body=b"grant_type=client_credentials&client_id=pharmacy-demo&client_secret=nope",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body["operationCode"]) == (401, "NMVS_FE_AU_01")
    status, _, body = sim.request("GET", "/product/GTIN/03400930012345/pack/A?batch=B&expiry=270101",
                                  headers={"Authorization": "Bearer forged", "emvs-data-entry-mode": "non-manual"})
    assert (status, body["operationCode"]) == (401, "NMVS_FE_AU_01")


@pytest.mark.parametrize("fault,code", [("passwordExpired", "NMVS_FE_AU_11"), ("termsPending", "NMVS_FE_AU_23"),
                                        ("accountLocked", "NMVS_FE_AU_02"),
                                        ("certificateExpired", "NMVS_FE_PKI_01")])
def test_account_faults_are_401(own_sim, fault, code):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({fault: True})
    status, body = pharmacy.verify(pack)
    assert (status, body["operationCode"]) == (401, code)
    with pytest.raises(Exception, match="401"):
        own_sim.token()
    own_sim.set_faults({})
    assert pharmacy.verify(pack)[0] == 200


def test_fe_br_01_role_not_permitted(sim, pharmacy, pack):
    for state in ("Exported", "FreeSample", "Locked"):
        status, body = pharmacy.change(pack, state)
        assert (status, body["operationCode"]) == (403, "NMVS_FE_BR_01")
    assert pharmacy.verify(pack)[1]["state"] == "Active"


def test_fi_se_cli_01_throttled_with_retry_after(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"throttleRps": 0.001, "retryAfterSeconds": 7})
    assert pharmacy.verify(pack)[0] == 200  # the bucket's one token
    status, headers, body = own_sim.request("GET", Actor.path(pack) + f"?batch={pack['batch']}&expiry={pack['expiry']}",
                                            headers=pharmacy.headers())
    assert (status, body["operationCode"], headers["retry-after"]) == (429, "NMVS_FI_SE_CLI_01", "7")


def test_nmvs_error_injected_and_outage(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_faults({"errorRate": 1.0})
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"]) == (500, "NMVS_ERROR")
    own_sim.set_faults({"outage": True})
    status, headers, body = own_sim.request("GET", "/ping")
    assert (status, body["operationCode"], headers["retry-after"]) == (503, "NMVS_ERROR", "30")
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"]) == (503, "NMVS_ERROR")
    own_sim.set_faults({})
    assert pharmacy.verify(pack)[1]["state"] == "Active"  # nothing applied


def test_outage_windows_follow_the_simulator_clock(own_sim):
    pharmacy = Actor(own_sim)
    pack = fresh_packs(own_sim, 1)[0]
    own_sim.set_clock(now="2030-01-01T19:00:00Z", frozen=True)
    own_sim.set_faults({"outageWindows": [{"from": "2030-01-01T20:00:00Z", "to": "2030-01-02T06:00:00Z"}]})
    assert pharmacy.verify(pack)[0] == 200
    own_sim.set_clock(now="2030-01-01T21:00:00Z")
    assert pharmacy.verify(pack)[0] == 503
    own_sim.set_clock(now="2030-01-02T06:00:00Z")
    assert pharmacy.verify(pack)[0] == 200


def test_fe_gr_01_and_02_bad_product_codes(sim, pharmacy, pack):
    bad_gtin = pack["productCode"][:13] + str((int(pack["productCode"][13]) + 1) % 10)
    for code in (bad_gtin, "0340093001234", "0340093001234A"):
        status, body = pharmacy.verify(pack, productCode=code)
        assert (status, body["operationCode"]) == (400, "NMVS_FE_GR_01"), code
    body10 = "1112345670"  # PZN 12345670: check digit should be 8
    status, body = pharmacy.verify({**pack, "scheme": "PPN", "productCode": body10 + ppn_check(body10)})
    assert (status, body["operationCode"]) == (400, "NMVS_FE_GR_02")
    status, body = pharmacy.verify({**pack, "scheme": "PPN", "productCode": "111234567843"})
    assert (status, body["operationCode"]) == (400, "NMVS_FE_GR_01")
    status, body = pharmacy.verify({**pack, "scheme": "NTIN"})
    assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")
