"""End to end: ``fmd-terminal run`` over ``keys://`` against the real simulator (issue 20).

A keyboard-wedge scanner's key events, typed from the keyboard layout tables (``key_recordings``,
real key sequences: Shift, AltGr, GS as Ctrl+] or Alt+029, Caps Lock) and written as a
``calibrate --record`` recording, are replayed by ``fmd-terminal run`` as a child process through
the evdev adapter's own path (framing, keyboard country, the stored profile and its guard) against
a simulator on loopback. The journal (``--events-jsonl``), the simulator's pack states and, where
it matters, the console screen and the log are asserted. Each test seeds its own packs.
"""

import itertools
import json
import os
import subprocess
import sys

import pytest
from key_recordings import SAMPLES_DIR, KeyRecording
from test_run_simulator import screens

from fmd_core.calibration import C1
from fmd_core.keyboard import ALT, CTRL, codes
from fmd_simulator.testing import running_simulator
from fmd_terminal import cli

_seeds = itertools.count(52000)


@pytest.fixture(scope="module")
def sim():
    with running_simulator() as simulator:
        yield simulator


def fresh_packs(sim, n):
    return sim.admin("POST", "/admin/seed", {"packs": n, "seed": next(_seeds), "market": "FR"})["packs"]


def state_of(sim, pack):
    return sim.history(pack["scheme"], pack["productCode"], pack["serial"])["state"]


def dispenses_of(sim, pack):
    history = sim.history(pack["scheme"], pack["productCode"], pack["serial"])["history"]
    return [entry["operation"] for entry in history if entry["operation"] == "G120"]


def calibrated_profile(tmp_path, layout="fr", control=CTRL, recording=None):
    """The scanner profile ``fmd-terminal calibrate --keys`` stores for C1 as this scanner types it."""
    if recording is None:
        recording = KeyRecording().scan(C1, layout, control=control).write(tmp_path / "c1.jsonl")
    profile = tmp_path / "scanner-profile.json"
    assert cli.main(["calibrate", "--keys", str(recording), "--profile", str(profile)]) == 0
    return profile


def run_keys(tmp_path, sim, recording, query, *flags, screen="recording://?render=0"):
    """``fmd-terminal run --scanner keys://RECORDING?QUERY``: the journal's events and the finished process."""
    events = tmp_path / "events.jsonl"
    events.unlink(missing_ok=True)
    config = tmp_path / "terminal.toml"
    # the breaker is half-open at start (OFFLINE-QUEUE.md 6.2): quick probes so the first scan is live
    config.write_text(f'[service]\nurl = "{sim.base_url}"\n[sync]\nprobe_gap_s = 0.01\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    env.update({"FMD_CLIENT_ID": "pharmacy-demo", "FMD_CLIENT_SECRET": "demo-secret"})
    command = [sys.executable, "-m", "fmd_terminal", "run", "--config", str(config),
               "--scanner", f"keys://{recording}?{query}", "--screen", screen, "--indicators", "recording://",
               "--outbox", f"sqlite://{tmp_path / 'outbox.db'}", "--events-jsonl", str(events), *flags]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    journal = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    return [event for event in journal if event["event"] == "scan"], done


def verdicts(scans):
    return [(scan["outcome"], scan["light"], scan["recorded"]) for scan in scans]


def test_a_french_scanner_with_its_french_profile_dispenses_green(tmp_path, sim):
    (pack,) = fresh_packs(sim, 1)
    profile = calibrated_profile(tmp_path, "fr")
    recording = KeyRecording().scan(pack["raw"], "fr", control=CTRL).write(tmp_path / "day.jsonl")
    scans, _ = run_keys(tmp_path, sim, recording, f"layout=fr&profile={profile}&speed=0", "--lang", "en")
    assert verdicts(scans) == [("decommissioned", "green", True)]
    assert (scans[0]["pack"]["serial"], scans[0]["pack"]["batch"]) == (pack["serial"], pack["batch"])
    assert state_of(sim, pack) == "Supplied"


def test_the_same_scanner_reset_to_us_is_held_amber_and_nothing_is_sent(tmp_path, sim):
    (pack,) = fresh_packs(sim, 1)
    profile = calibrated_profile(tmp_path, "fr")
    recording = KeyRecording().scan(pack["raw"], "us", control=CTRL).write(tmp_path / "reset.jsonl")
    scans, done = run_keys(tmp_path, sim, recording, f"layout=fr&profile={profile}&speed=0&lang=en",
                           "--lang", "en", screen="console://?color=0")
    assert verdicts(scans) == [("scanner_settings", "amber", False)]
    assert scans[0]["message"] == "Scanner settings changed" and scans[0]["pack"] is None
    assert "Scanner settings changed: scan the calibration code" in done.stderr  # the log says what to do
    assert any("[AMBER] Scanner settings" in block[1] for block in screens(done.stdout))
    assert state_of(sim, pack) == "Active" and dispenses_of(sim, pack) == []


def test_caps_lock_on_is_held_amber_until_the_scan_comes_right(tmp_path, sim):
    (pack,) = fresh_packs(sim, 1)
    profile = calibrated_profile(tmp_path, "fr")
    recording = KeyRecording()
    recording.scan(pack["raw"], "fr", caps_inverted=True)  # the scanner inverts case: host Caps Lock LED on
    recording.t_ms += 800
    recording.keys([(codes.KEY_CAPSLOCK, 1), (codes.KEY_CAPSLOCK, 0)])  # Caps Lock pressed in the scan
    recording.scan(pack["raw"], "fr", pause_ms=0)
    recording.scan(pack["raw"], "fr")  # Caps Lock override set on the scanner: the scan comes right
    scans, _ = run_keys(tmp_path, sim, recording.write(tmp_path / "caps.jsonl"),
                        f"layout=fr&profile={profile}&speed=0", "--lang", "en")
    assert verdicts(scans) == [("scanner_settings", "amber", False), ("scanner_settings", "amber", False),
                               ("decommissioned", "green", True)]
    assert state_of(sim, pack) == "Supplied" and dispenses_of(sim, pack) == ["G120"]  # sent once, right


@pytest.mark.parametrize("profile_control", [CTRL, ALT])
def test_gs_as_ctrl_bracket_and_as_alt_029_both_read_right(tmp_path, sim, profile_control):
    first, second = fresh_packs(sim, 2)
    profile = calibrated_profile(tmp_path, "fr", control=profile_control)
    recording = KeyRecording().scan(first["raw"], "fr", control=CTRL).scan(second["raw"], "fr", control=ALT)
    scans, _ = run_keys(tmp_path, sim, recording.write(tmp_path / "gs.jsonl"),
                        f"layout=fr&profile={profile}&speed=0", "--lang", "en")
    assert verdicts(scans) == [("decommissioned", "green", True)] * 2
    # the group separator was read where it was typed: batch and serial are the pack's own
    assert [(s["pack"]["batch"], s["pack"]["serial"]) for s in scans] == [
        (first["batch"], first["serial"]), (second["batch"], second["serial"])]
    assert (state_of(sim, first), state_of(sim, second)) == ("Supplied", "Supplied")


def test_two_scans_back_to_back_with_and_without_a_suffix(tmp_path, sim):
    merged_a, merged_b, apart_a, apart_b, enter_a, enter_b = fresh_packs(sim, 6)
    recording = KeyRecording()
    # no suffix, typed back to back (3 ms apart): one run of keys, as a live terminal frames it
    recording.scan(merged_a["raw"], "us", suffix="").scan(merged_b["raw"], "us", pause_ms=0, suffix="")
    # no suffix, 800 ms apart: the gap ends each scan
    recording.scan(apart_a["raw"], "us", suffix="").scan(apart_b["raw"], "us", suffix="")
    # Enter after each, back to back: Enter ends each scan
    recording.scan(enter_a["raw"], "us").scan(enter_b["raw"], "us", pause_ms=0)
    scans, _ = run_keys(tmp_path, sim, recording.write(tmp_path / "burst.jsonl"), "layout=us&speed=0")
    assert [(s["outcome"], s["light"]) for s in scans] == [("unreadable", "amber")] + [("decommissioned", "green")] * 4
    assert scans[0]["raw"] == merged_a["raw"] + merged_b["raw"] and scans[0]["decode_error"]
    assert [s["pack"]["serial"] for s in scans[1:]] == [p["serial"] for p in (apart_a, apart_b, enter_a, enter_b)]
    assert (state_of(sim, merged_a), state_of(sim, merged_b)) == ("Active", "Active")  # neither half was sent


def test_a_recording_with_cut_scans_sends_only_the_whole_one_and_says_where(tmp_path, sim):
    lost, whole, broken, last = fresh_packs(sim, 4)
    profile = calibrated_profile(tmp_path, "fr")
    recording = KeyRecording()
    recording.scan(lost["raw"][:20], "fr", suffix="").syn_dropped().scan(lost["raw"][24:], "fr", pause_ms=0)
    recording.scan(whole["raw"], "fr")
    lines = recording.lines({"synthetic": True, "layout": "fr"})
    recording.events = []
    recording.scan(broken["raw"], "fr")
    broken_lines = recording.lines()
    bad = len(lines) + 40
    broken_lines[39] = broken_lines[39][:12]  # a line cut in the middle (the file was damaged there)
    recording.events = []
    recording.scan(last["raw"][:30], "fr", suffix="")  # the recording stops in the middle of a scan
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join(lines + broken_lines + recording.lines()) + "\n", encoding="utf-8")
    scans, done = run_keys(tmp_path, sim, path, f"layout=fr&profile={profile}&speed=0",
                           "--lang", "fr", screen="console://?color=0")
    assert verdicts(scans) == [("decommissioned", "green", True)]  # the terminal ran to the end of the recording
    assert scans[0]["pack"]["serial"] == whole["serial"]
    assert [state_of(sim, p) for p in (lost, whole, broken, last)] == ["Active", "Supplied", "Active", "Active"]
    assert "keys were lost (SYN_DROPPED)" in done.stderr
    assert f"Ligne {bad} : pas du JSON (enregistrement de touches) – ce scan est écarté, non envoyé" in done.stderr
    total = len(path.read_text().splitlines())
    assert f"Lignes {total - len(recording.events) + 1}-{total} : le dernier scan" in done.stderr
    faults = [block for block in screens(done.stdout) if "Lecteur : problème" in block[1]]
    assert any(f"Ligne {bad} : pas du" in line for block in faults for line in block)


def test_the_sample_recordings_replay_as_the_readme_shows(tmp_path, sim):
    """The README's support section: calibrate from a recording, then replay the day's recordings."""
    sim.admin("POST", "/admin/packs", json.loads((SAMPLES_DIR / "packs.json").read_text()))
    packs = json.loads((SAMPLES_DIR / "packs.json").read_text())["packs"]
    profile = calibrated_profile(tmp_path, recording=SAMPLES_DIR / "fr-ctrl-c1.jsonl")
    query = f"layout=fr&profile={profile}&speed=0"
    day = [run_keys(tmp_path, sim, SAMPLES_DIR / f"{name}.jsonl", query, "--lang", "en")[0]
           for name in ("fr-two-packs", "us-after-reset", "fr-cut-scans")]
    assert [verdicts(scans) for scans in day] == [
        [("decommissioned", "green", True)] * 2,
        [("scanner_settings", "amber", False)],
        [("decommissioned", "green", True)],  # pack 3, read right once the scanner is French again
    ]
    assert [state_of(sim, p) for p in packs] == ["Supplied", "Supplied", "Supplied", "Active", "Active"]


@pytest.mark.parametrize("service", ["https://nmvs.example.fr/api", "nmvs-soap+https://10.0.0.7/soap?user=C1",
                                     "http://192.168.1.20:8080"])
def test_a_recording_is_never_replayed_towards_a_national_system(tmp_path, capsys, service):
    recording = KeyRecording().scan("]d2ABC", "us").write(tmp_path / "k.jsonl")
    status = cli.main(["run", "--scanner", f"keys://{recording}?speed=0", "--service", service,
                       "--outbox", "memory://", "--screen", "recording://", "--indicators", "none://"])
    assert status == 3
    assert "the service must be scripted://success or a simulator on loopback" in capsys.readouterr().err


def test_a_recording_replays_towards_the_scripted_service_as_the_readme_shows(tmp_path, capsys):
    profile = calibrated_profile(tmp_path, recording=SAMPLES_DIR / "fr-ctrl-c1.jsonl")
    url = f"keys://{SAMPLES_DIR / 'us-after-reset.jsonl'}?layout=fr&profile={profile}&lang=en&speed=0"
    status = cli.main(["run", "--scanner", url, "--service", "scripted://success", "--outbox", "memory://",
                       "--indicators", "none://", "--screen", "recording://", "--events-jsonl", "-", "--lang", "en"])
    assert status == 0
    (scan,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"event"')]
    assert (scan["outcome"], scan["light"], scan["recorded"]) == ("scanner_settings", "amber", False)
    assert scan["raw"].startswith("$déà&à")  # what the French table reads from a US scanner's keys
