"""Rules of sections 3, 4, 6 and 7 through HTTP: roles, undo (Art. 13), transaction ids, concurrency,
durability, intermarket, headers and bodies."""

from __future__ import annotations

import http.client
import json
import threading
from datetime import datetime, timedelta

import pytest
from simulator_helpers import Actor, fresh_packs, new_trx

from fmd_simulator.engine import BULK_UNDO_CODE
from fmd_simulator.testing import running_simulator

ACTORS = {"pharmacy": ("pharmacy-demo", "demo-secret"), "hospital": ("hospital-demo", "hospital-secret"),
          "wholesaler": ("wholesaler-demo", "wholesaler-secret")}
# Section 4's matrix, written out again by hand so a slip in the engine's table shows.
MATRIX = {
    "Supplied": {"pharmacy", "hospital", "wholesaler"}, "Destroyed": {"pharmacy", "hospital", "wholesaler"},
    "Sample": {"pharmacy", "hospital", "wholesaler"}, "Stolen": {"pharmacy", "hospital", "wholesaler"},
    "Exported": {"wholesaler"}, "FreeSample": {"wholesaler"}, "Locked": {"wholesaler"},
}
UNDOABLE = {"Supplied", "Sample", "Exported", "FreeSample", "Locked"}


@pytest.mark.parametrize("role", sorted(ACTORS))
@pytest.mark.parametrize("state", sorted(MATRIX))
def test_role_matrix_and_undo(sim, role, state):
    actor = Actor(sim, *ACTORS[role])
    pack = fresh_packs(sim, 1)[0]
    trx = new_trx()
    status, body = actor.change(pack, state, trx)
    if role not in MATRIX[state]:
        assert (status, body["operationCode"]) == (403, "NMVS_FE_BR_01")
        assert actor.verify(pack)[1]["state"] == "Active"
        return
    assert (status, body["state"]) == (200, state)
    status, body = actor.change(pack, "Active", ref=trx)
    if state in UNDOABLE:
        assert (status, body["operationCode"], body["state"]) == (200, "NMVS_SUCCESS", "Active")
    else:  # G131 / G181 are off by default: final for end users
        assert (status, body["operationCode"], body["state"]) == (403, "NMVS_FE_BR_01", state)


def test_undo_of_destroyed_allowed_with_g131_permission():
    clients = [{"client_id": "depot", "secret": "s", "location_id": "L1", "role": "pharmacy", "permissions": ["G131"]}]
    with running_simulator(seed_packs=1, clients=clients) as sim:
        actor, pack, trx = Actor(sim, "depot", "s"), sim.seeded_packs()[0], new_trx()
        assert actor.change(pack, "Destroyed", trx)[0] == 200
        assert actor.change(pack, "Active", ref=trx)[1]["operationCode"] == "NMVS_SUCCESS"


def test_manual_entry_is_recorded_as_g122_and_g182(sim, pharmacy):
    supplied, stolen = fresh_packs(sim, 2)
    assert pharmacy.change(supplied, "Supplied", mode="manual")[0] == 200
    assert pharmacy.change(stolen, "Stolen", mode="manual")[0] == 200
    assert sim.history("GTIN", supplied["productCode"], supplied["serial"])["history"][-1]["operation"] == "G122"
    history = sim.history("GTIN", stolen["productCode"], stolen["serial"])["history"]
    assert (history[-1]["operation"], history[-1]["entryMode"]) == ("G182", "manual")


@pytest.mark.parametrize("days,seconds,code", [(10, 0, "NMVS_SUCCESS"), (10, 1, "NMVS_NC_PCK_20"),
                                               (11, 0, "NMVS_NC_PCK_20"), (9, 0, "NMVS_SUCCESS")])
def test_undo_window_edge(own_sim, days, seconds, code):
    own_sim.set_clock(now="2026-03-01T08:00:00Z", frozen=True)
    pharmacy, pack, trx = Actor(own_sim), fresh_packs(own_sim, 1)[0], new_trx()
    assert pharmacy.change(pack, "Supplied", trx)[0] == 200
    own_sim.advance_days(days + seconds / 86400)
    status, body = pharmacy.change(pack, "Active", ref=trx)
    assert body["operationCode"] == code
    assert (body["alertCode"] is not None) == (code != "NMVS_SUCCESS")


def test_lock_undo_has_no_time_limit(own_sim):
    wholesaler, pack, trx = Actor(own_sim, *ACTORS["wholesaler"]), fresh_packs(own_sim, 1)[0], new_trx()
    assert wholesaler.change(pack, "Locked", trx)[0] == 200
    own_sim.advance_days(200)
    assert wholesaler.change(pack, "Active", ref=trx)[1]["operationCode"] == "NMVS_SUCCESS"


def test_lock_undo_window_is_configurable():
    with running_simulator(seed_packs=1, lock_undo_days=3, separate_process=True) as sim:
        wholesaler, pack, trx = Actor(sim, *ACTORS["wholesaler"]), sim.seeded_packs()[0], new_trx()
        assert wholesaler.change(pack, "Locked", trx)[0] == 200
        sim.advance_days(4)
        assert wholesaler.change(pack, "Active", ref=trx)[1]["operationCode"] == "NMVS_NC_PCK_20"


def test_undo_blocked_by_overlay_after_dispense(sim, pharmacy, pack):
    trx = new_trx()
    assert pharmacy.change(pack, "Supplied", trx)[0] == 200
    sim.admin("POST", f"/admin/batches/GTIN/{pack['productCode']}/{pack['batch']}/recall")
    status, body = pharmacy.change(pack, "Active", ref=trx)
    assert (status, body["operationCode"], body["alertId"], body["reasons"]) == (
        409, "NMVS_FE_LOT_01", None, ["SUPPLIED", "RECALLED"])


def test_engine_undo_type_mismatch_alerts_a24():
    """SOAP names the undo's G-code; a mismatch with the present reason is NC_PCK_06 + A24 (section 5, step 8)."""
    from fmd_simulator import seeding
    from fmd_simulator.engine import DEMO_CLIENTS, Engine, PackRequest
    from fmd_simulator.store import Store

    engine = Engine(Store())
    pack = seeding.generate(1)[0]
    seeding.load(engine.store, [pack])
    client = DEMO_CLIENTS[0]
    args = (client, "GTIN", pack["productCode"], pack["serial"], pack["batch"], pack["expiry"])
    assert engine.execute(PackRequest(*args, requested_state="Supplied", client_trx_id="a")).code == "NMVS_SUCCESS"
    result = engine.execute(PackRequest(*args, requested_state="Active", client_trx_id="b", ref_client_trx_id="a",
                                        undo_reason="SAMPLE"))
    assert (result.code, result.alert_code, result.state) == ("NMVS_NC_PCK_06", "A24", "Supplied")


def test_trx_id_left_unused_by_refusals(sim, pharmacy, pack):
    trx = new_trx()
    assert pharmacy.change(pack, "Supplied", trx, expiry="271332")[0] == 400  # syntax
    assert pharmacy.change(pack, "Exported", trx)[0] == 403  # role
    assert pharmacy.change(pack, "Supplied", trx)[0] == 200  # the same id still works
    assert pharmacy.change(pack, "Destroyed", trx)[1]["operationCode"] == "NMVS_TE_TX_01"


def test_trx_ids_are_per_client(sim, pharmacy, other):
    first, second = fresh_packs(sim, 2)
    trx = new_trx()
    assert pharmacy.change(first, "Supplied", trx)[0] == 200
    assert other.change(second, "Supplied", trx)[0] == 200


def test_allow_reused_trx_ids_switch_executes_again():
    with running_simulator(seed_packs=2, allow_reused_trx_ids=True) as sim:
        pharmacy, (first, second), trx = Actor(sim), sim.seeded_packs(), new_trx()
        assert pharmacy.change(first, "Supplied", trx)[0] == 200
        status, body = pharmacy.change(second, "Supplied", trx)
        assert (status, body["operationCode"]) == (200, "NMVS_SUCCESS")


def test_two_clients_dispense_the_same_pack_concurrently_exactly_one_wins(sim):
    packs = fresh_packs(sim, 10)
    actors = [Actor(sim), Actor(sim, "pharmacy-other", "other-secret"), Actor(sim, *ACTORS["hospital"])]
    for pack in packs:
        barrier, results = threading.Barrier(len(actors)), []

        def dispense(actor, pack=pack, barrier=barrier, results=results):
            barrier.wait()
            results.append(actor.change(pack, "Supplied"))

        threads = [threading.Thread(target=dispense, args=(a,)) for a in actors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(body["operationCode"] for _, body in results)
        assert codes == ["NMVS_NC_PCK_19", "NMVS_NC_PCK_19", "NMVS_SUCCESS"]


@pytest.mark.parametrize("separate_process", [False, True])
def test_restart_keeps_everything(tmp_path, separate_process):
    db = tmp_path / "sim.sqlite"
    with running_simulator(db=db, seed_packs=3, separate_process=separate_process) as sim:
        pharmacy, pack, trx = Actor(sim), sim.seeded_packs()[0], new_trx()
        assert pharmacy.change(pack, "Supplied", trx)[0] == 200
        pharmacy.verify(pack, serial="Unknown1")  # an alert
        sim.set_clock(advanceDays=2)
        clock = datetime.fromisoformat(sim.admin("GET", "/admin/clock")["now"].replace("Z", "+00:00"))
        sim.restart()
        pharmacy = Actor(sim)  # tokens do not survive a restart: clients get a new one on 401
        after = datetime.fromisoformat(sim.admin("GET", "/admin/clock")["now"].replace("Z", "+00:00"))
        assert timedelta(0) <= after - clock < timedelta(minutes=10)  # the 2 days' advance kept (not an hour match)
        assert len(sim.seeded_packs()) == 3 and len(sim.alerts()) == 1
        assert pharmacy.change(pack, "Supplied", trx)[1]["operationCode"] == "NMVS_TE_TX_01"
        assert pharmacy.change(pack, "Supplied")[1]["operationCode"] == "NMVS_NC_PCK_23"
        assert pharmacy.change(pack, "Active", ref=trx)[1]["operationCode"] == "NMVS_SUCCESS"


def test_intermarket_single_pack_only(sim, pharmacy):
    foreign = fresh_packs(sim, 1, market="DE")[0]
    assert foreign["scheme"] == "PPN" and foreign["raw"].startswith("]d1[)>\x1e06\x1d9N")
    status, body = pharmacy.verify(foreign)
    assert (status, body["operationCode"], body["isIntermarket"], body["state"]) == (200, "NMVS_SUCCESS", True, "Active")
    item = {k: foreign[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")}
    status, _, accepted = sim.request("POST", "/product/packs", {"requestedState": "Supplied", "items": [
        {**item, "clientTrxId": new_trx()}]}, pharmacy.headers())
    results = poll(sim, pharmacy, accepted["resultsUri"])
    assert (results[0]["operationCode"], results[0]["isIntermarket"]) == ("NMVS_NC_PC_01", False)
    assert pharmacy.verify(foreign)[1]["state"] == "Active"


def poll(sim, actor, uri):
    """Fetch bulk results until ready (the server processes them in the background)."""
    for _ in range(2000):
        status, _, body = sim.request("GET", uri, headers=actor.headers())
        if status == 200:
            return body["items"]
        assert (status, body["operationCode"]) == (202, "NMVS_FE_TX_02")
    raise AssertionError("bulk never finished")


def test_bulk_processes_items_in_order_with_rights_and_ids(sim, pharmacy):
    packs = fresh_packs(sim, 3)
    items = [{**{k: p[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")}, "clientTrxId": new_trx()}
             for p in packs]
    items.append({**items[0], "clientTrxId": new_trx()})  # the same pack twice: double scan
    items.append({"scheme": "GTIN"})  # malformed item
    status, _, accepted = sim.request("POST", "/product/packs", {"requestedState": "Supplied", "items": items},
                                      pharmacy.headers())
    assert status == 202 and accepted["resultsUri"] == f"/product/packs/{accepted['bulkId']}"
    results = poll(sim, pharmacy, accepted["resultsUri"])
    assert [r["operationCode"] for r in results] == ["NMVS_SUCCESS"] * 3 + ["NMVS_NC_PCK_23", "NMVS_TE_JS_02"]
    assert sim.history("GTIN", packs[0]["productCode"], packs[0]["serial"])["history"][0]["operation"] == "G125"
    # bulk undo, and the ids of bulk items share the client's namespace
    undo = [{**items[0], "clientTrxId": new_trx(), "refClientTrxId": items[0]["clientTrxId"]},
            {**items[1], "clientTrxId": items[2]["clientTrxId"], "refClientTrxId": items[1]["clientTrxId"]}]
    _, _, accepted = sim.request("POST", "/product/packs", {"requestedState": "Active", "items": undo},
                                 pharmacy.headers())
    results = poll(sim, pharmacy, accepted["resultsUri"])
    assert [r["operationCode"] for r in results] == ["NMVS_SUCCESS", "NMVS_TE_TX_01"]
    assert sim.history("GTIN", packs[0]["productCode"], packs[0]["serial"])["history"][-1]["operation"] == BULK_UNDO_CODE[
        "SUPPLIED"]
    wholesale = fresh_packs(sim, 1)[0]
    item = {**{k: wholesale[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")}, "clientTrxId": new_trx()}
    _, _, accepted = sim.request("POST", "/product/packs", {"requestedState": "Exported", "items": [item]},
                                 pharmacy.headers())
    assert poll(sim, pharmacy, accepted["resultsUri"])[0]["operationCode"] == "NMVS_FE_BR_01"


def test_recovery_upload_mixed_states_with_undo_in_the_same_upload(sim, pharmacy, other):
    packs = fresh_packs(sim, 3)
    base = [{k: p[k] for k in ("scheme", "productCode", "serial", "batch", "expiry")} for p in packs]
    change = new_trx()
    items = [{**base[0], "requestedState": "Supplied", "clientTrxId": change, "recordedAt": "2026-01-05T10:00:00Z"},
             {**base[1], "requestedState": "Destroyed", "clientTrxId": new_trx(), "recordedAt": "2026-01-05T10:01:00Z"},
             {**base[0], "requestedState": "Active", "clientTrxId": new_trx(), "refClientTrxId": change,
              "recordedAt": "2026-01-05T10:02:00Z"},
             {**base[2], "requestedState": "Sold", "clientTrxId": new_trx()}]
    status, _, accepted = sim.request("POST", "/recovery/packs", {"items": items}, pharmacy.headers())
    assert status == 202 and accepted["resultsUri"].startswith("/recovery/packs/")
    status, _, body = sim.request("GET", accepted["resultsUri"], headers=other.headers())
    assert status == 404  # another client's results are not visible
    results = poll(sim, pharmacy, accepted["resultsUri"])
    assert [r["operationCode"] for r in results] == ["NMVS_SUCCESS", "NMVS_SUCCESS", "NMVS_SUCCESS", "NMVS_TE_JS_02"]
    history = sim.history("GTIN", packs[0]["productCode"], packs[0]["serial"])["history"]
    assert [h["recordedAt"] for h in history] == ["2026-01-05T10:00:00Z", "2026-01-05T10:02:00Z"]
    assert pharmacy.verify(packs[1])[1]["state"] == "Destroyed"


@pytest.mark.parametrize("headers,status", [
    ({"emvs-data-entry-mode": None}, 422), ({"emvs-data-entry-mode": "typed"}, 422),
    ({"X-Client-Trx-Id": None}, 422), ({"Content-Type": "text/plain"}, 415),
    ({"Authorization": None}, 401)])
def test_header_problems(sim, pharmacy, pack, headers, status):
    all_headers = pharmacy.headers(**{"X-Client-Trx-Id": new_trx(), "Content-Type": "application/json"})
    for name, value in headers.items():
        if value is None:
            all_headers.pop(name)
        else:
            all_headers[name] = value
    body = json.dumps({"batch": pack["batch"], "expiry": pack["expiry"], "state": "Supplied"}).encode()
    answer = sim.request("PATCH", Actor.path(pack), body=body, headers=all_headers)
    assert answer[0] == status and answer[2]["operationCode"].startswith("NMVS_")
    assert pharmacy.verify(pack)[1]["state"] == "Active"


def test_body_over_limit_is_413(sim, pharmacy, pack):
    headers = pharmacy.headers(**{"X-Client-Trx-Id": new_trx()})
    huge = {"batch": pack["batch"], "expiry": pack["expiry"], "state": "Supplied", "pad": "x" * 70000}
    status, _, body = sim.request("PATCH", Actor.path(pack), huge, headers)
    assert (status, body["operationCode"]) == (413, "NMVS_TE_JS_01")
    assert pharmacy.verify(pack)[1]["state"] == "Active"


def test_unknown_paths_and_methods(sim, pharmacy):
    assert sim.request("GET", "/nothing/here")[0] == 404
    assert sim.request("DELETE", "/product/GTIN/03400930012345/pack/A", headers=pharmacy.headers())[0] == 405
    assert sim.request("GET", "/product/packs/unknown", headers=pharmacy.headers())[0] == 404
    assert sim.request("GET", "/ping")[2] == {"status": "ok"}
    document = sim.request("GET", "/openapi.json")[2]
    assert "/product/{scheme}/{productCode}/pack/{serial}" in document["paths"]


def test_serial_with_percent_encoded_set82_characters(sim, pharmacy):
    pack = {**fresh_packs(sim, 1)[0], "serial": "A/b?c%d&f+g=;"}
    sim.admin("POST", "/admin/packs", {"packs": [pack]})
    status, body = pharmacy.change(pack, "Supplied")
    assert (status, body["operationCode"]) == (200, "NMVS_SUCCESS")
    assert sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Supplied"


@pytest.mark.parametrize("language,text", [("fr", "Boîte périmée"), ("en", "Pack expired"), ("de", "Packung verfallen")])
def test_descriptions_in_three_languages(own_sim, language, text):
    pharmacy, pack = Actor(own_sim), fresh_packs(own_sim, 1)[0]
    own_sim.advance_days(3650)
    status, _, body = own_sim.request(
        "PATCH", Actor.path(pack), {"batch": pack["batch"], "expiry": pack["expiry"], "state": "Supplied"},
        pharmacy.headers(**{"X-Client-Trx-Id": new_trx(), "Accept-Language": language}))
    assert body["description"].startswith(text)


def test_admin_refused_without_token_when_one_is_set():
    with running_simulator(admin_token="s3cret") as sim:
        assert sim.request("GET", "/admin/alerts")[0] == 401
        assert sim.admin("GET", "/admin/alerts") == {"alerts": []}


def test_bad_fault_settings_are_400(sim):
    for settings in ({"errorRate": 2}, {"nope": 1}, {"latencyMs": {"p50": 10}}, {"outage": "yes"}):
        status, _, body = sim.request("PUT", "/admin/faults", settings)
        assert (status, body["operationCode"]) == (400, "NMVS_TE_JS_02")


def test_keep_alive_connection_serves_many_requests(sim, pharmacy, pack):
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    path = Actor.path(pack) + f"?batch={pack['batch']}&expiry={pack['expiry']}"
    for _ in range(20):
        conn.request("GET", path, headers=pharmacy.headers())
        response = conn.getresponse()
        assert json.loads(response.read())["operationCode"] == "NMVS_SUCCESS"
    conn.close()


@pytest.mark.parametrize("body,content_type,status,code", [
    (b"grant_type=client_credentials&client_id=pharmacy-demo&client_secret=demo-secret", "text/plain", 415,
     "NMVS_TE_JS_01"),
    (b"client_id=pharmacy-demo&client_secret=demo-secret", "application/x-www-form-urlencoded", 400, "NMVS_TE_JS_02"),
    (b"\xff\xfe", "application/x-www-form-urlencoded", 400, "NMVS_TE_JS_01"),
    (b"grant_type=client_credentials&client_id=nobody&client_secret=x", "application/x-www-form-urlencoded", 401,
     "NMVS_FE_AU_01")])
def test_token_bad_input(sim, body, content_type, status, code):
    answer = sim.request("POST", "/identity/connect/token", body=body, headers={"Content-Type": content_type})
    assert (answer[0], answer[2]["operationCode"]) == (status, code)
