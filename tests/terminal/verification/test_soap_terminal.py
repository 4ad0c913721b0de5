"""The whole terminal over both protocols: ``fmd-terminal run`` as a child process (issue 6, point 3).

The same journal (``--events-jsonl``) is expected over REST and over SOAP, against one simulator
serving both facades over mutual TLS; the configuration file names the URL, the client certificate,
its key and the CA bundle, as a pharmacy's would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fmd_core.modes import MODE_CODES


@pytest.fixture(params=["rest", "soap"])
def protocol(request):
    return request.param


def run_terminal(tmp_path, sim, protocol, items, *, cert=None, extra_config="", screen="recording://?render=0"):
    cert = cert or sim.client_files
    url = f"nmvs-soap+https://127.0.0.1:{sim.port}/soap" if protocol == "soap" else sim.base_url
    script = tmp_path / f"scans-{protocol}.jsonl"
    script.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    events = tmp_path / f"events-{protocol}.jsonl"
    config = tmp_path / f"terminal-{protocol}.toml"
    config.write_text(f"{extra_config}\n[service]\nurl = {json.dumps(url)}\nclient_cert = {json.dumps(cert[0])}\n"
                      f"client_key = {json.dumps(cert[1])}\nca_bundle = {json.dumps(sim.pki.ca_bundle)}\n"
                      "[sync]\nprobe_gap_s = 0.01\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    env.update({"FMD_CLIENT_ID": "pharmacy-demo", "FMD_CLIENT_SECRET": "demo-secret"})
    command = [sys.executable, "-m", "fmd_terminal", "run", "--config", str(config), "--scanner", f"script://{script}",
               "--screen", screen, "--indicators", "recording://",
               "--outbox", f"sqlite://{tmp_path / f'outbox-{protocol}.db'}", "--events-jsonl", str(events),
               "--lang", "en"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()], done


def screens(stdout):
    """The console screen's blocks (``fmd_terminal.screens.console``), each a list of its lines."""
    blocks, current = [], None
    for line in stdout.splitlines():
        if current is None and line.startswith("+--"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.startswith("+"):  # the bottom edge closes the block
                blocks.append(current)
                current = None
    return blocks


def seed(sim, n, seed_number):
    return sim.admin("POST", "/admin/seed", {"packs": n, "seed": seed_number})["packs"]


def test_a_counter_session_is_the_same_over_both_protocols(tmp_path, soap_sim, protocol):
    packs = seed(soap_sim, 40, 31000 + (protocol == "soap"))  # 40 packs: at least two products
    recalled = packs[1]
    others = [p for p in packs if (p["productCode"], p["batch"]) != (recalled["productCode"], recalled["batch"])]
    fresh, for_verify = others[0], others[-1]
    soap_sim.admin("POST", f"/admin/batches/GTIN/{recalled['productCode']}/{recalled['batch']}/recall")
    unknown = fresh["raw"][:-3] + "ZZZ"
    items = [{"raw": fresh["raw"]}, {"raw": fresh["raw"]}, {"raw": recalled["raw"]}, {"raw": unknown},
             {"mode": "verify"}, {"raw": for_verify["raw"]}, {"raw": "]C0" + MODE_CODES["undo"]}, {"raw": fresh["raw"]}]
    events, done = run_terminal(tmp_path, soap_sim, protocol, items)
    scans = [e for e in events if e["event"] == "scan"]
    assert [(e["mode"], e["outcome"], e["light"]) for e in scans] == [
        ("dispense", "decommissioned", "green"),
        ("dispense", "duplicate_scan", "green"),
        ("dispense", "recalled", "red"),
        ("dispense", "alert", "red"),
        ("verify", "authentic", "green"),
        ("undo", "undone", "green"),
    ]
    assert (scans[0]["service_code"], scans[2]["service_code"], scans[3]["service_code"], scans[3]["alert_code"]) == (
        "NMVS_SUCCESS", "NMVS_FE_LOT_01", "NMVS_NC_PC_02", "A3")
    history = soap_sim.history("GTIN", fresh["productCode"], fresh["serial"])["history"]
    assert [(h["operation"], h["result"]) for h in history] == [("G120", "NMVS_SUCCESS"), ("G121", "NMVS_SUCCESS")]
    assert fresh["serial"] not in done.stderr


def test_outage_is_recorded_offline_over_both_protocols(tmp_path, soap_sim, protocol):
    (pack,) = seed(soap_sim, 1, 32000 + (protocol == "soap"))
    soap_sim.set_faults({"outage": True})
    try:
        events, _ = run_terminal(tmp_path, soap_sim, protocol, [{"raw": pack["raw"]}], extra_config="live_deadline_s = 1")
    finally:
        soap_sim.set_faults({})
    (scan,) = events
    assert scan["light"] == "amber" and scan["outcome"] in ("recorded_offline", "pending")
    assert soap_sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Active"


def test_an_expired_client_certificate_says_renew_it_and_never_shows_green(tmp_path, soap_sim, protocol):
    """Issue 6 item 3: the queue pauses for the certificate (OFFLINE-QUEUE.md 4.3, pause_cert) and the
    screen says so, over both protocols; the scan stays recorded and nothing reaches the service."""
    (pack,) = seed(soap_sim, 1, 33000 + (protocol == "soap"))
    expired = soap_sim.pki.client_files(days=(-60, -1), name=f"expired-run-{protocol}")
    events, done = run_terminal(tmp_path, soap_sim, protocol, [{"raw": pack["raw"]}], cert=expired,
                                extra_config="live_deadline_s = 1", screen="console://?color=0")
    (scan,) = events
    assert (scan["light"], scan["outcome"], scan["message"], scan["recorded"]) == (
        "amber", "certificate_problem", "Renew certificate", True)
    # the screens as drawn (the console twin of the OLED): the verdict's headline, the badge naming the pause
    shown = screens(done.stdout)
    (verdict,) = [block for block in shown if block[1].startswith("| [AMBER]")]
    assert verdict[1].split("|")[1].strip() == "[AMBER] Renew certificate"
    assert verdict[0].startswith("+-- DISPENSE ") and verdict[0].endswith(" Certificate +")
    assert not any("[GREEN]" in block[1] for block in shown)
    assert soap_sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Active"
