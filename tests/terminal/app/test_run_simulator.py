"""End to end: ``fmd-terminal run`` as a child process against the real simulator on loopback.

The scanner is a script (``script://``), the screen and indicators are the recording twins, the
outbox is SQLite in tmp_path. The journal (``--events-jsonl``) is what is asserted.
"""

import json
import os
import subprocess
import sys

import pytest

from fmd_core.modes import MODE_CODES
from fmd_simulator.testing import running_simulator


@pytest.fixture
def sim():
    with running_simulator(seed_packs=8, seed=5) as simulator:
        yield simulator


def write_script(path, items):
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def run_terminal(tmp_path, sim, items, *flags, env_extra=None, config_text=None):
    script = write_script(tmp_path / "scans.jsonl", items)
    events = tmp_path / "events.jsonl"
    config = tmp_path / "terminal.toml"
    # the breaker is half-open at start (OFFLINE-QUEUE.md 6.2): quick probes so the first scan is live
    config.write_text(config_text or "[sync]\nprobe_gap_s = 0.01\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    env.update({"FMD_CLIENT_ID": "pharmacy-demo", "FMD_CLIENT_SECRET": "demo-secret"})
    env.update(env_extra or {})
    command = [sys.executable, "-m", "fmd_terminal", "run", "--config", str(config),
               "--scanner", f"script://{script}", "--screen", "recording://?render=0",
               "--indicators", "recording://", "--service", sim.base_url,
               "--outbox", f"sqlite://{tmp_path / 'outbox.db'}", "--events-jsonl", str(events), *flags]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()], done


def by_seq(events):
    return {e["seq"]: e for e in events if e["event"] == "resolved"}


def test_a_counter_session(tmp_path, sim):
    packs = sim.seeded_packs()
    recalled = packs[1]
    others = [p for p in packs if (p["productCode"], p["batch"]) != (recalled["productCode"], recalled["batch"])]
    fresh, for_verify = others[0], others[-1]
    sim.admin("POST", f"/admin/batches/GTIN/{recalled['productCode']}/{recalled['batch']}/recall")
    unknown = fresh["raw"][:-3] + "ZZZ"
    items = [{"raw": fresh["raw"]}, {"raw": fresh["raw"]}, {"raw": recalled["raw"]}, {"raw": unknown},
             {"raw": "3400930012345"}, {"raw": "]d2010340093001234"},
             {"mode": "verify"}, {"raw": for_verify["raw"]},
             {"raw": "]C0" + MODE_CODES["undo"]}, {"raw": fresh["raw"]}]
    events, done = run_terminal(tmp_path, sim, items, "--lang", "en")
    scans = [e for e in events if e["event"] == "scan"]
    assert [(e["mode"], e["outcome"], e["light"]) for e in scans] == [
        ("dispense", "decommissioned", "green"),
        ("dispense", "duplicate_scan", "green"),
        ("dispense", "recalled", "red"),
        ("dispense", "alert", "red"),
        ("dispense", "not_a_pack", "amber"),
        ("dispense", "unreadable", "amber"),
        ("verify", "authentic", "green"),
        ("undo", "undone", "green"),
    ]
    assert scans[0]["service_code"] == "NMVS_SUCCESS" and scans[0]["message"] == "Pack dispensed"
    assert scans[0]["pack"]["serial"] == fresh["serial"] and scans[0]["recorded"]
    assert scans[1]["seq"] == scans[0]["seq"]
    assert (scans[2]["service_code"], scans[3]["service_code"], scans[3]["alert_code"]) == (
        "NMVS_FE_LOT_01", "NMVS_NC_PC_02", "A3")
    assert scans[5]["decode_error"] and scans[5]["pack"] is None
    history = sim.history("GTIN", fresh["productCode"], fresh["serial"])
    assert history["state"] == "Active"  # dispensed, then undone by the same terminal
    assert fresh["serial"] not in done.stderr  # serials are never logged whole


def test_outage_records_offline_and_never_shows_green(tmp_path, sim):
    pack = sim.seeded_packs()[-2]
    sim.set_faults({"outage": True})
    try:
        events, _ = run_terminal(tmp_path, sim, [{"raw": pack["raw"]}],
                                 config_text="live_deadline_s = 1\n[sync]\nprobe_gap_s = 0.01\n")
    finally:
        sim.set_faults({"outage": False})
    (scan,) = events
    assert scan["light"] == "amber" and scan["outcome"] in ("recorded_offline", "pending")
    assert sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Active"


def test_wrong_credentials_are_amber_account_problem_never_green(tmp_path, sim):
    pack = sim.seeded_packs()[-3]
    events, _ = run_terminal(tmp_path, sim, [{"raw": pack["raw"]}], env_extra={"FMD_CLIENT_SECRET": "wrong"},
                             config_text="live_deadline_s = 1\n[sync]\nprobe_gap_s = 0.01\n")
    (scan,) = events
    assert (scan["outcome"], scan["light"]) == ("account_problem", "amber")


def test_missing_credentials_is_a_configuration_error(tmp_path, sim):
    script = write_script(tmp_path / "s.jsonl", [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    done = subprocess.run([sys.executable, "-m", "fmd_terminal", "run", "--scanner", f"script://{script}",
                           "--screen", "recording://", "--service", sim.base_url], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 3 and "FMD_CLIENT_ID" in done.stderr and "Traceback" not in done.stderr


def test_hospital_receive_mode_decommissions_at_receipt(tmp_path, sim):
    """Reg. 2016/161 Art. 25(2): a hospital pharmacy may decommission at goods receipt."""
    pack = sim.seeded_packs()[0]
    events, _ = run_terminal(tmp_path, sim, [{"raw": pack["raw"]}], "--mode", "receive", "--lang", "de",
                             env_extra={"FMD_CLIENT_ID": "hospital-demo", "FMD_CLIENT_SECRET": "hospital-secret"})
    (scan,) = events
    assert (scan["mode"], scan["outcome"], scan["light"], scan["message"]) == (
        "receive", "decommissioned", "green", "Packung ausgebucht")
    assert sim.history("GTIN", pack["productCode"], pack["serial"])["state"] == "Supplied"
