"""``make run`` (python -m fmd_terminal.demo): replays a file and exits; SIGTERM stops both processes."""

import json
import os
import signal
import socket
import subprocess
import sys
from urllib.parse import urlsplit

from fmd_core.calibration import C1
from fmd_terminal.demo import escaped


def demo(*args, stdin=None, **kw):
    return subprocess.run([sys.executable, "-m", "fmd_terminal.demo", *args], input=stdin, capture_output=True,
                          text=True, timeout=90, **kw)


def test_make_run_replays_the_demo_scans_and_exits(tmp_path):
    printed = demo("--print-scans")
    assert printed.returncode == 0, printed.stderr
    scans = printed.stdout.splitlines()
    assert len(scans) == 8 and all("\\x1d" in scan for scan in scans[:6])
    # issue 8: the calibration code C1 first, as a scanner with the AIM prefix on sends it; the linear
    # code with its AIM prefix too, so that the stored profile does not hold it as "settings changed"
    assert scans[0] == escaped(C1) and scans[6].startswith("]E0")
    events_path = tmp_path / "events.jsonl"
    done = demo("--lang", "en", "--events-jsonl", str(events_path), stdin=printed.stdout)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines()]
    assert [(e["outcome"], e["light"]) for e in events] == [
        ("decommissioned", "green"), ("already_done_here", "amber"), ("alert", "red"), ("recalled", "red"),
        ("alert", "red"), ("not_a_pack", "amber"), ("unreadable", "amber")]
    assert (events[2]["service_code"], events[4]["alert_code"]) == ("NMVS_NC_PCK_19", "A3")
    assert "[GREEN] Pack dispensed" in done.stdout and "Scan the Data Matrix" in done.stdout
    # the calibration result: a neutral notice (no light, no fault title) before the first verdict
    assert "[    ] Scanner OK" in done.stdout
    assert done.stdout.index("Scanner OK") < done.stdout.index("Pack dispensed")
    assert "Scanner problem" not in done.stdout and "Scanner settings changed" not in done.stdout


def test_sigterm_stops_the_terminal_and_the_simulator():
    process = subprocess.Popen([sys.executable, "-m", "fmd_terminal.demo"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = process.stderr.readline()
        while line and "simulateur sur http://127.0.0.1:" not in line:  # French by default (issue 12)
            line = process.stderr.readline()
        assert "simulateur sur" in line, "the demo did not start"
        port = urlsplit(line.split()[-1]).port
        assert process.stdout.readline().startswith("+--")  # the idle screen is drawn: the terminal runs
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the simulator still listens"


def test_the_demo_speaks_the_chosen_language():
    """Issue 12: the demo's instructions were English in a French demo."""
    from fmd_terminal.demo import TEXTS, demo_scans

    packs = [{"productCode": f"0340093001234{n}", "batch": f"B{n}", "serial": f"S{n}", "expiry": "270630",
              "raw": f"]d2010340093001234{n}17270630" + "10B" + str(n) + "\x1d21SERIAL" + str(n)} for n in range(3)]
    french = demo_scans(packs, "fr")
    assert [what for what, _ in french][1] == "une boîte neuve : délivrée, vert"
    assert [raw for _, raw in french] == [raw for _, raw in demo_scans(packs, "de")]
    assert set(TEXTS["fr"]) == set(TEXTS["en"]) == set(TEXTS["de"])


def test_make_run_enrol_starts_a_fresh_terminal_that_enrols_by_a_scan(tmp_path):
    """``make run ENROL=1`` (issue 14): the page's enrolment code pasted as the first scan enrols the terminal."""
    scans = demo("--print-scans").stdout.splitlines()
    events_path = tmp_path / "events.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "fmd_terminal.demo", "--enrol", "--events-jsonl",
                                str(events_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        code = None
        for line in process.stderr:
            if line.startswith("FMD-ENROL/1 "):
                code = line.strip()
                break
        assert code is not None
        out, err = process.communicate("\n".join([code, scans[0], scans[1]]) + "\n", timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, err
    assert "Scannez le code d'inscription" in out and "Inscrit : Pharmacie du Marché" in out
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines()]
    assert [(e["outcome"], e["light"]) for e in events] == [("decommissioned", "green")]


def test_make_run_with_a_second_counter_shows_the_site_ledger(tmp_path):
    """``make run COUNTERS=2``: counter 2 (in the background, same site, a real Mosquitto) dispenses a
    pack; scanned at counter 1 it is amber "already dispensed at counter 2 at HH:MM", never sent."""
    printed = demo("--second-counter", "--print-scans")
    assert printed.returncode == 0, printed.stderr
    scans = printed.stdout.splitlines()
    assert len(scans) == 9
    events_path = tmp_path / "events.jsonl"
    done = demo("--second-counter", "--lang", "en", "--events-jsonl", str(events_path),
                stdin="\n".join([scans[0], scans[-1]]) + "\n")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines()]
    assert [(e["outcome"], e["light"]) for e in events] == [("at_site", "amber")]
    assert "Already dispensed at counter 2 at " in done.stdout
