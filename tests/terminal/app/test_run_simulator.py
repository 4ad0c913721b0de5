"""End to end: ``fmd-terminal run`` as a child process against the real simulator, over REST and SOAP.

One scenario suite, two protocols (issue 6, item 3): every test asks for ``protocol`` and runs once
over REST (``https://...``) and once over SOAP (``nmvs-soap+https://...``) against one simulator
serving both facades over mutual TLS (``mtls_sim``, tests/terminal/conftest.py). The configuration
file names the URL, the client certificate, its key and the CA bundle, as a pharmacy's would. The
scanner is a script (``script://``), the indicators are the recording twin, the outbox is SQLite in
tmp_path; the journal (``--events-jsonl``) and, where it matters, the console screen are asserted.
"""

import itertools
import json
import os
import subprocess
import sys

import pytest
from two_protocols import seed, service_config

from fmd_core.modes import MODE_CODES

_seeds = itertools.count(31000)
NO_CERT = (None, None)
# a short "CHECKING" (OFFLINE-QUEUE.md 5.1 step 6) where the service is not expected to answer in time
SHORT_WAIT = "live_deadline_s = 1"


def run_terminal(tmp_path, sim, protocol, items, *flags, cert=None, extra_config="", env_extra=None,
                 screen="recording://?render=0", expect_code=0):
    script = tmp_path / "scans.jsonl"
    script.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    config = tmp_path / "terminal.toml"
    # the breaker is closed at start (OFFLINE-QUEUE.md 6.2): the default settings answer the first scan live
    config.write_text(f"{extra_config}\n{service_config(sim, protocol, cert)}", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    env.update({"FMD_CLIENT_ID": "pharmacy-demo", "FMD_CLIENT_SECRET": "demo-secret"})
    env.update(env_extra or {})
    command = [sys.executable, "-m", "fmd_terminal", "run", "--config", str(config), "--scanner", f"script://{script}",
               "--screen", screen, "--indicators", "recording://", "--outbox", f"sqlite://{tmp_path / 'outbox.db'}",
               "--events-jsonl", str(events), *flags]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == expect_code, done.stderr
    if expect_code:
        return [], done
    return [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()], done


def one_pack(sim):
    (pack,) = seed(sim, 1, next(_seeds))
    return pack


def state_of(sim, pack):
    return sim.history(pack["scheme"], pack["productCode"], pack["serial"])["state"]


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


def test_a_counter_session(tmp_path, mtls_sim, protocol):
    """Dispense, double scan, recall, unknown serial (alert), bad input, verify, then undo by mode barcode."""
    packs = seed(mtls_sim, 40, next(_seeds))  # 40 packs: at least two products
    recalled = packs[1]
    others = [p for p in packs if (p["productCode"], p["batch"]) != (recalled["productCode"], recalled["batch"])]
    fresh, for_verify = others[0], others[-1]
    mtls_sim.admin("POST", f"/admin/batches/GTIN/{recalled['productCode']}/{recalled['batch']}/recall")
    unknown = fresh["raw"][:-3] + "ZZZ"
    items = [{"raw": fresh["raw"]}, {"raw": fresh["raw"]}, {"raw": recalled["raw"]}, {"raw": unknown},
             {"raw": "3400930012345"}, {"raw": "]d2010340093001234"},
             {"mode": "verify"}, {"raw": for_verify["raw"]},
             {"raw": "]C0" + MODE_CODES["undo"]}, {"raw": fresh["raw"]}]
    events, done = run_terminal(tmp_path, mtls_sim, protocol, items, "--lang", "en")
    scans = [e for e in events if e["event"] == "scan"]
    assert [(e["mode"], e["outcome"], e["light"]) for e in scans] == [
        ("dispense", "decommissioned", "green"),
        ("dispense", "already_done_here", "amber"),  # issue 11, item 6: never green twice
        ("dispense", "recalled", "red"),
        ("dispense", "alert", "red"),
        ("dispense", "not_a_pack", "amber"),
        ("dispense", "unreadable", "amber"),
        ("verify", "authentic", "green"),
        ("undo", "undone", "green"),
    ]
    assert scans[0]["service_code"] == "NMVS_SUCCESS" and scans[0]["message"] == "Pack dispensed"
    assert scans[0]["pack"]["serial"] == fresh["serial"] and scans[0]["recorded"]
    assert scans[1]["message"] == "Already dispensed here" and not scans[1]["recorded"]
    assert (scans[2]["service_code"], scans[3]["service_code"], scans[3]["alert_code"]) == (
        "NMVS_FE_LOT_01", "NMVS_NC_PC_02", "A3")
    assert scans[5]["decode_error"] and scans[5]["pack"] is None
    history = mtls_sim.history("GTIN", fresh["productCode"], fresh["serial"])
    assert [(h["operation"], h["result"]) for h in history["history"]] == [
        ("G120", "NMVS_SUCCESS"), ("G121", "NMVS_SUCCESS")]  # one dispense, undone by the same terminal
    assert history["state"] == "Active"
    assert fresh["serial"] not in done.stderr  # serials are never logged whole


def test_an_intermarket_pack_is_dispensed(tmp_path, mtls_sim, protocol):
    (foreign,) = seed(mtls_sim, 1, next(_seeds), market="DE")
    events, _ = run_terminal(tmp_path, mtls_sim, protocol, [{"raw": foreign["raw"]}], "--lang", "en")
    (scan,) = events
    assert (scan["outcome"], scan["light"], scan["service_code"]) == ("decommissioned", "green", "NMVS_SUCCESS")
    assert state_of(mtls_sim, foreign) == "Supplied"


def test_outage_records_offline_and_never_shows_green(tmp_path, mtls_sim, protocol, faults):
    pack = one_pack(mtls_sim)
    faults({"outage": True})
    events, _ = run_terminal(tmp_path, mtls_sim, protocol, [{"raw": pack["raw"]}], extra_config=SHORT_WAIT)
    (scan,) = events
    assert scan["light"] == "amber" and scan["outcome"] in ("recorded_offline", "pending")
    assert state_of(mtls_sim, pack) == "Active"


def test_wrong_credentials_are_amber_account_problem_never_green(tmp_path, mtls_sim, protocol):
    pack = one_pack(mtls_sim)
    events, _ = run_terminal(tmp_path, mtls_sim, protocol, [{"raw": pack["raw"]}],
                             env_extra={"FMD_CLIENT_SECRET": "wrong"}, extra_config=SHORT_WAIT)
    (scan,) = events
    assert (scan["outcome"], scan["light"]) == ("account_problem", "amber")
    assert state_of(mtls_sim, pack) == "Active"


def test_missing_credentials_is_a_configuration_error(tmp_path, mtls_sim, protocol):
    _, done = run_terminal(tmp_path, mtls_sim, protocol, [], env_extra={"FMD_CLIENT_ID": ""}, expect_code=3)
    assert "FMD_CLIENT_ID" in done.stderr and "Traceback" not in done.stderr


def test_hospital_receive_mode_decommissions_at_receipt(tmp_path, mtls_sim, protocol):
    """Reg. 2016/161 Art. 25(2): a hospital pharmacy may decommission at goods receipt. Issue 17: the scan
    is amber "recorded, awaiting answer" at once, goes in a mixed bulk (G195) and becomes final when the
    bulk's results (G196) come; the script's end waits for them."""
    pack = one_pack(mtls_sim)
    events, _ = run_terminal(tmp_path, mtls_sim, protocol, [{"raw": pack["raw"]}], "--mode", "receive", "--lang", "de",
                             env_extra={"FMD_CLIENT_ID": "hospital-demo", "FMD_CLIENT_SECRET": "hospital-secret"})
    scan, resolved = events
    assert (scan["mode"], scan["outcome"], scan["light"]) == ("receive", "pending", "amber")
    assert (resolved["event"], resolved["seq"], resolved["outcome"], resolved["light"], resolved["message"]) == (
        "resolved", scan["seq"], "decommissioned", "green", "Packung ausgebucht")
    history = mtls_sim.history("GTIN", pack["productCode"], pack["serial"])
    assert [(h["requestedState"], h["result"], h["bulkId"] is not None) for h in history["history"]] == [
        ("Supplied", "NMVS_SUCCESS", True)]  # one decommission, in a bulk
    assert state_of(mtls_sim, pack) == "Supplied"


@pytest.mark.parametrize(("protocol", "certificate"), [
    ("rest", "expired"), ("soap", "expired"),
    ("rest", "missing"),  # REST only: a SOAP URL without client_cert is refused at start (test_soap_client)
])
def test_a_client_certificate_problem_says_renew_it_and_never_shows_green(tmp_path, mtls_sim, protocol, certificate):
    """Issue 6 item 3: the queue pauses for the certificate (OFFLINE-QUEUE.md 4.3, pause_cert) and the
    screen says so; the scan stays recorded and nothing reaches the service."""
    pack = one_pack(mtls_sim)
    cert = NO_CERT if certificate == "missing" else mtls_sim.pki.client_files(days=(-60, -1), name="expired")
    events, done = run_terminal(tmp_path, mtls_sim, protocol, [{"raw": pack["raw"]}], "--lang", "en", cert=cert,
                                extra_config=SHORT_WAIT, screen="console://?color=0")
    (scan,) = events
    assert (scan["light"], scan["outcome"], scan["message"], scan["recorded"]) == (
        "amber", "certificate_problem", "Renew certificate", True)
    # the screens as drawn (the console twin of the OLED): the verdict's headline, the badge naming the pause
    shown = screens(done.stdout)
    (verdict,) = [block for block in shown if block[1].startswith("| [AMBER]")]
    assert verdict[1].split("|")[1].strip() == "[AMBER] Renew certificate"
    assert verdict[0].startswith("+-- DISPENSE ") and verdict[0].endswith(" Certificate +")
    assert not any("[GREEN]" in block[1] for block in shown)
    assert state_of(mtls_sim, pack) == "Active"
