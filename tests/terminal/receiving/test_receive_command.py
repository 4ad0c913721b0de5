"""``fmd-terminal receive`` (issue 17) as a person runs it: a bad note is refused line by line with the fix,
in their language, before anything is scanned; a counter cannot receive; a delivery ends with its tally
printed and written; the note's barcode and the close code work from the scanner; a mode barcode
outside the role is refused on screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GS = "\x1d"
CODE = "03400930012345"


def pack(serial, batch="B123", code=CODE, expiry="270630"):
    return "]d201" + code + "17" + expiry + "10" + batch + GS + "21" + serial


def receive(tmp_path, note_text, scans, *flags, settings='role = "pui_dock"\n', lang="fr", name="BL77.csv"):
    note = tmp_path / name
    note.write_text(note_text, encoding="utf-8")
    script = tmp_path / "scans.jsonl"
    script.write_text("".join(json.dumps(item) + "\n" for item in scans), encoding="utf-8")
    config = tmp_path / "terminal.toml"
    config.write_text(settings, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    command = [sys.executable, "-m", "fmd_terminal", "receive", "--config", str(config), "--note", str(note),
               "--scanner", f"script://{script}", "--service", "scripted://success", "--screen", "console://?color=0",
               "--outbox", f"sqlite://{tmp_path / 'outbox.db'}", "--out", str(tmp_path / "out"), "--wait", "5",
               "--lang", lang, *flags]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


NOTE = "Code produit;Désignation;Quantité;Lot\n3400930012345;Doliprane 1000 mg;2;B123\n"


@pytest.mark.parametrize("lang, words", [("fr", "ligne 3"), ("en", "line 3"), ("de", "Zeile 3")])
def test_a_bad_note_is_refused_line_by_line_before_any_scan(tmp_path, lang, words):
    done = receive(tmp_path, NOTE + "3400930012346;Spasfon;2;\n3400930012345;Doliprane;x;\n", [], lang=lang)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and words in lines[1] and "BL77.csv" in lines[0]
    assert not (tmp_path / "outbox.db").exists() or "Réception" not in done.stdout


def test_a_counter_cannot_receive(tmp_path):
    done = receive(tmp_path, NOTE, [], settings='role = "counter"\n')
    assert done.returncode == 3 and "role" in done.stderr and "pui_dock" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_delivery_prints_and_writes_its_tally(tmp_path):
    scans = [{"raw": pack("S1")}, {"raw": pack("S2", batch="ZZ9")}, {"raw": pack("S3")},
             {"raw": "FMD-MODE-DISPENSE"}]
    done = receive(tmp_path, NOTE, scans)
    assert done.returncode == 0, done.stderr
    header, line, total = done.stdout.strip().splitlines()[-3:]
    assert header.startswith("Ligne;Code produit;Désignation")
    # S1 clean, S2 other batch (counted, flagged), S3 beyond the quantity: extra
    assert line.split(";")[:13] == ["1", "3400930012345", "Doliprane 1000 mg", "B123", "", "2", "2", "100,0", "0",
                                    "0", "0", "1", "1"]
    assert total.startswith("Total;")
    assert "Mode non permis ici" in done.stdout and "DÉLIVRER refusé" in done.stdout  # the role's word
    assert "Doliprane 1000… : 1/2" in done.stdout and "Quantité dépassée" in done.stdout
    written = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert written == [".csv", ".pdf"]
    assert b"Poste : quai PUI" in pdf_text(next((tmp_path / "out").glob("*.pdf")).read_bytes())  # not pui_dock


def pdf_text(data: bytes) -> bytes:
    """The PDF's page content streams, inflated (fpdf2 writes core-font text as literal strings)."""
    import re
    import zlib

    streams = re.findall(rb"/FlateDecode.*?stream\r?\n(.*?)\r?\nendstream", data, re.S)
    return b"".join(zlib.decompress(stream) for stream in streams)


def test_a_despatch_advice_is_a_note_too(tmp_path):
    advice = (Path(__file__).parent / "data" / "despatch-advice.xml").read_text(encoding="utf-8")
    doliprane = pack("S1", batch="D2401", code="03400935955838", expiry="280630")
    done = receive(tmp_path, advice, [{"raw": doliprane}], name="BL-2026-118.xml")
    assert done.returncode == 0, done.stderr
    tallies = [line.split(";") for line in done.stdout.splitlines() if line[:2] in ("1;", "2;", "3;")]
    assert [(t[1], t[5], t[6]) for t in tallies] == [("3400935955838", "40", "1"), ("3400930001776", "12", "0"),
                                                    ("3400936158740", "5", "0")]


def test_a_bad_despatch_advice_is_refused_before_any_scan(tmp_path):
    done = receive(tmp_path, "<despatchAdvice>", [], name="BL-2026-118.xml", lang="en")
    assert done.returncode == 3 and "Traceback" not in done.stderr and "BL-2026-118.xml" in done.stderr


def test_the_note_barcode_and_the_close_code_from_the_scanner(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "autre.csv").write_text("N° BL;" + NOTE.replace("\n3400", "\nBL-42;3400"), encoding="utf-8")
    scans = [{"raw": "FMD-NOTE-BL-99"}, {"raw": "FMD-NOTE-BL-42"}, {"raw": pack("S1")}, {"raw": "FMD-RECEIVE-END"},
             {"raw": pack("S9")}]
    done = receive(tmp_path, NOTE, scans, settings=f'role = "reception"\nnotes_dir = "{notes}"\n', lang="en")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Unknown delivery note" in out and "Place BL-99.csv" in out
    assert "Receiving BL-42" in out and "Receipt closed" in out
    tallies = [line for line in out.splitlines() if line.startswith("1;")]
    # BL77 (from --note) was closed by the note barcode of BL-42 with nothing received, BL-42 by the close code
    assert [t.split(";")[6] for t in tallies] == ["0", "1"]
    assert "Verified" not in out  # a reception verifies: "verified only" is a pui_dock's word


def test_export_lists_the_sessions_and_writes_their_files(tmp_path):
    done = receive(tmp_path, NOTE, [{"raw": pack("S1")}])
    assert done.returncode == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    listed = subprocess.run([sys.executable, "-m", "fmd_terminal", "export", "--outbox",
                             f"sqlite://{tmp_path / 'outbox.db'}", "--receipts", "--receipts-dir",
                             str(tmp_path / "again"), "--lang", "en"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.startswith("id;reference;source;role;started;closed;ordered;accepted")
    fields = dict(zip(header.split(";"), row.split(";"), strict=True))
    assert (fields["reference"], fields["role"], fields["ordered"], fields["accepted"], fields["missing"]) == (
        "BL77", "pui_dock", "2", "1", "1")
    assert "1 receipt(s) listed, 2 file(s) written" in listed.stderr
    assert sorted(p.suffix for p in (tmp_path / "again").iterdir()) == [".csv", ".pdf"]


def _receive_command(tmp_path, name, scanner, *flags):
    note = tmp_path / "BL77.csv"
    note.write_text(NOTE, encoding="utf-8")
    config = tmp_path / "terminal.toml"
    # no randomised start: a verification recorded before a kill goes with the backlog, which a terminal
    # holds up to start_jitter_s (60 s) after its start, longer than the test's --wait
    config.write_text('role = "pui_dock"\n[sync]\nstart_jitter_s = 0\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    return [sys.executable, "-m", "fmd_terminal", "receive", "--config", str(config), "--note", str(note),
            "--scanner", scanner, "--service", "scripted://success", "--screen", "console://?color=0",
            "--outbox", f"sqlite://{tmp_path / name}", "--out", str(tmp_path / "out"), "--wait", "40", "--lang", "fr",
            *flags], env  # the wait ends as soon as every answer is in: generous for a loaded machine


def test_a_receive_killed_mid_delivery_goes_on_when_run_again(tmp_path):
    """SIGKILL after two packs; the same ``receive --note`` again resumes the session: the pack scanned
    again is "already scanned" (not "already dispensed here"), and the tally printed is the one of the
    delivery received in one go."""
    import signal
    import sqlite3
    import time

    scans = [pack("S1"), pack("S2", batch="ZZ9"), pack("S1"), pack("S3")]
    straight = tmp_path / "straight.jsonl"
    straight.write_text("".join(json.dumps({"raw": raw}) + "\n" for raw in scans), encoding="utf-8")
    command, env = _receive_command(tmp_path, "straight.db", f"script://{straight}")
    expected = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert expected.returncode == 0, expected.stderr

    command, env = _receive_command(tmp_path, "killed.db", "stdin://")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        process.stdin.write(scans[0] + "\n" + scans[1] + "\n")
        process.stdin.flush()
        deadline, noted = time.monotonic() + 30, 0
        while noted < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            if (tmp_path / "killed.db").exists():
                db = sqlite3.connect(f"file:{tmp_path / 'killed.db'}?mode=ro", uri=True)
                try:
                    noted = db.execute("SELECT COUNT(*) FROM receipt_pack").fetchone()[0]
                except sqlite3.OperationalError:
                    noted = 0  # the tables are not made yet
                finally:
                    db.close()
        assert noted == 2
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    rest = tmp_path / "rest.jsonl"
    rest.write_text("".join(json.dumps({"raw": raw}) + "\n" for raw in scans[2:]), encoding="utf-8")
    command, env = _receive_command(tmp_path, "killed.db", f"script://{rest}")
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-2000:]
    assert "Réception reprise : BL77" in resumed.stdout + resumed.stderr
    assert "Déjà scannée (réception)" in resumed.stdout
    assert "Déjà délivrée ici" not in resumed.stdout and "Déjà désactivée ici" not in resumed.stdout
    tally = [line for line in resumed.stdout.splitlines() if line.count(";") > 10]
    assert tally and tally == [line for line in expected.stdout.splitlines() if line.count(";") > 10]
    db = sqlite3.connect(tmp_path / "killed.db")
    try:
        assert db.execute("SELECT COUNT(*), COUNT(closed_ns), SUM(rescans) FROM receipt").fetchone() == (1, 1, 1)
    finally:
        db.close()
