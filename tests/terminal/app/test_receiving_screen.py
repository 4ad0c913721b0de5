"""The dock's screen while a delivery goes in bulks (issue 17): the main loop over the twins.

A receive-mode scan is amber "recorded, awaiting answer" at once; its answer comes from the bulk's
results as a late result, replaces the amber verdict while that pack is still on screen, and is red for
its own pack only. The counter's scans keep their live, single-pack path.
"""

from test_terminal_twins import Rig, pack_code, scans

from fmd_core.service import ANSWERED, ServiceAnswer
from fmd_terminal.verification.scripted import ScriptedVerificationClient, success_answer


def alert_for(serial):
    """A healthy service, except that ``serial`` raises an alert (unknown serial, A3) in a bulk's results."""
    uploads = {}

    def script(call):
        if call.method == "submit_recovery":
            answer, uri = success_answer(call)
            uploads[uri] = call.items
            return answer, uri
        if call.method == "fetch_results":
            items = uploads.pop(call.results_uri)
            return ServiceAnswer(http_status=200), [
                ServiceAnswer(transport=ANSWERED, http_status=409, operation_code="NMVS_NC_PC_02", state="NotFound",
                              alert_id=f"ALERT-{serial}", alert_code="A3", client_trx_id=item.client_trx_id)
                if item.pack.serial == serial else success_answer(type(call)("change_state", pack=item.pack,
                                                                              state=item.requested_state,
                                                                              client_trx_id=item.client_trx_id))
                for item in items]
        return success_answer(call)

    return ScriptedVerificationClient(script)


def test_a_receiving_scan_is_amber_at_once_then_its_bulk_answer_replaces_it_on_screen(tmp_path):
    service = ScriptedVerificationClient(default=success_answer)
    rig = Rig(scans(pack_code("R1")), service, tmp_path, mode="receive")
    journal = rig.run()
    assert [(e["event"], e["outcome"], e["light"]) for e in journal] == [
        ("scan", "pending", "amber"), ("resolved", "decommissioned", "green")]
    assert journal[0]["seq"] == journal[1]["seq"]
    assert [c.method for c in service.calls] == ["submit_recovery", "fetch_results"]  # no single request
    assert rig.screen.models[-1].headline == "Boîte désactivée"  # the pack on screen got its answer
    assert rig.indicators.signals[-1] == "green"


def test_an_alert_in_a_bulk_is_red_for_its_own_pack_only(tmp_path):
    service = alert_for("R2")
    rig = Rig(scans(pack_code("R1"), pack_code("R2"), pack_code("R3")), service, tmp_path, mode="receive")
    journal = rig.run()
    shown = {e["seq"]: e for e in journal if e["event"] == "scan"}
    assert [e["outcome"] for e in shown.values()] == ["pending"] * 3
    late = {e["seq"]: e for e in journal if e["event"] == "resolved"}
    assert set(late) == set(shown)
    by_serial = {shown[seq]["pack"]["serial"]: e for seq, e in late.items()}
    assert (by_serial["R2"]["light"], by_serial["R2"]["service_code"], by_serial["R2"]["alert_code"]) == (
        "red", "NMVS_NC_PC_02", "A3")
    assert by_serial["R1"]["light"] == by_serial["R3"]["light"] == "green"
    assert len(service.calls_to("submit_recovery")) == 1 and len(service.calls_to("submit_recovery")[0].items) == 3


def test_the_counter_keeps_its_live_single_request(tmp_path):
    service = ScriptedVerificationClient(default=success_answer)
    journal = Rig(scans(pack_code("C1")), service, tmp_path, mode="dispense").run()
    assert [(e["event"], e["outcome"], e["light"]) for e in journal] == [("scan", "decommissioned", "green")]
    assert [c.method for c in service.calls] == ["change_state"]
