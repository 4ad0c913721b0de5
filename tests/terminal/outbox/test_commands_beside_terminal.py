"""The outbox commands beside a running terminal (OFFLINE-QUEUE.md 2.1, 2.3, 6.1, 8).

A terminal process owns the outbox: ``attention`` and ``export`` open it attached and never run the
start-up transitions (#9 would make its in-flight op ``uncertain``); ``sync`` refuses (exit 3), since
a second sync worker would break "at most one request per pack in flight". The terminal here is a
real second process holding the outbox open, and the probe asks SQLite itself for the lock.
``backup`` speaks ``--lang`` and takes its outbox from ``--config`` like the others.
"""

import json
import sqlite3
import subprocess
import sys

import pytest
from test_command_texts import needs_attention

from fmd_terminal.cli import main
from fmd_terminal.outbox.sqlite import open_sqlite_outbox

# A terminal: opens the outbox normally, records a dispense and claims it (in flight), then holds
# the outbox open until its standard input closes.
TERMINAL = """
import sys
from fmd_core.service import PackRef
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.sqlite import open_sqlite_outbox

box = open_sqlite_outbox(sys.argv[1], reserve_bytes=0)
seq = box.record(OpRequest("dispense", PackRef("GTIN", "03400930000014", "SERFLY", "B1", "281231"), "raw",
                           "ph1", "live")).op.seq
box.claim(seq)
print(seq, flush=True)
sys.stdin.read()
box.close()
"""

REFUSED = {
    "fr": "un autre processus (le terminal ?) a la file ouverte",
    "en": "another process (the terminal?) has the outbox open",
    "de": "ein anderer Prozess (das Terminal?) hat die Warteschlange geöffnet",
}


def rows(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture
def terminal(tmp_path, request):
    """A terminal process that has the outbox open with an op in flight; with ``attention`` (indirect
    parameter) the outbox first gets an op needing a person."""
    db = str(tmp_path / "o.db")
    attention_seq = needs_attention(db) if getattr(request, "param", "attention") == "attention" else None
    proc = subprocess.Popen([sys.executable, "-c", TERMINAL, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        flying = int(proc.stdout.readline())
        yield db, attention_seq, flying, proc
    finally:
        if not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=30)


def test_attention_and_export_beside_a_running_terminal_leave_its_op_in_flight(terminal, tmp_path, capsys):
    db, seq, flying, _proc = terminal
    boots = rows(db, "SELECT count(*) FROM boot")
    url = f"sqlite://{db}"
    assert main(["attention", "--outbox", url, "--lang", "en"]) == 0
    assert f"seq {seq}: dispense" in capsys.readouterr().out
    assert main(["attention", "cancel", str(seq), "--outbox", url, "--user", "ph2", "--reason",
                 "scanned_by_mistake", "--lang", "en"]) == 0
    out = tmp_path / "ops.jsonl"
    assert main(["export", "--outbox", url, "--jsonl", str(out)]) == 0
    exported = {r["seq"]: r["state"] for r in map(json.loads, out.read_text().splitlines())}
    assert exported[flying] == "in_flight"  # no start-up transition ran beside the terminal
    assert exported[seq] == "cancelled"  # the person's action was recorded
    assert rows(db, f"SELECT state FROM op WHERE seq = {flying}") == [("in_flight",)]
    assert rows(db, "SELECT count(*) FROM boot") == boots  # attached: no boot row either
    assert rows(db, f"SELECT count(*) FROM attempt WHERE seq = {flying} AND outcome = 'interrupted'") == [(0,)]


@pytest.mark.parametrize("terminal", ["empty"], indirect=True)
@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_sync_refuses_while_a_terminal_has_the_outbox_open(terminal, capsys, lang):
    db, _seq, flying, proc = terminal
    for drained in (["--until-drained", "--timeout", "5"], []):
        code = main(["sync", *drained, "--start-delay", "0", "--service", "scripted://success",
                     "--outbox", f"sqlite://{db}", "--lang", lang])
        assert code == 3
        assert REFUSED[lang] in capsys.readouterr().err
    assert rows(db, f"SELECT state FROM op WHERE seq = {flying}") == [("in_flight",)]
    proc.stdin.close()
    proc.wait(timeout=30)  # the terminal stopped: now sync is the only worker, and drains
    assert main(["sync", "--until-drained", "--timeout", "30", "--start-delay", "0", "--unpaced",
                 "--service", "scripted://success", "--outbox", f"sqlite://{db}", "--lang", lang]) == 0
    assert rows(db, f"SELECT state FROM op WHERE seq = {flying}") == [("done",)]


def test_attached_commands_never_create_nor_move_an_outbox(tmp_path, capsys):
    missing = tmp_path / "missing.db"
    assert main(["export", "--outbox", f"sqlite://{missing}", "--csv", "-"]) == 4
    assert main(["attention", "--outbox", f"sqlite://{missing}"]) == 4
    assert not missing.exists()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database " * 512)
    assert main(["export", "--outbox", f"sqlite://{damaged}", "--csv", "-"]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.db"]  # reported, never moved aside


BACKUP_SAID = {"fr": "sauvegarde de 2 opération(s) dans", "en": "backup of 2 operation(s) written to",
               "de": "Sicherung von 2 Vorgang/Vorgängen nach"}
NOTHING_TO_DO = {"fr": "rien à faire", "en": "nothing to do", "de": "nichts zu tun"}


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_backup_speaks_the_language_keeps_its_json_and_reads_the_config(tmp_path, capsys, lang):
    db = str(tmp_path / "o.db")
    needs_attention(db)
    config = tmp_path / "terminal.toml"
    config.write_text(f'outbox = "sqlite://{db}"\n', encoding="utf-8")
    to = str(tmp_path / "b.db")
    assert main(["backup", "--config", str(config), "--to", to, "--lang", lang]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)["backup"]  # the JSON is the same in every language
    assert (printed["ops"], printed["to"]) == (2, to)
    assert BACKUP_SAID[lang] in captured.err
    assert main(["backup", "--config", str(config), "--lang", lang]) == 3
    assert NOTHING_TO_DO[lang] in capsys.readouterr().err
    box = open_sqlite_outbox(db, reserve_bytes=0)
    assert json.loads(box.read_meta("last_backup"))["to"] == to
    box.close()


@pytest.mark.parametrize("lang, refused", [
    ("fr", "un autre processus (un terminal ou fmd-terminal sync) a la file ouverte"),
    ("en", "another process (a terminal or fmd-terminal sync) has the outbox open"),
    ("de", "ein anderer Prozess (ein Terminal oder fmd-terminal sync) hat die Warteschlange"),
])
def test_a_second_run_on_the_same_outbox_is_refused_and_changes_nothing(terminal, tmp_path, capsys, lang, refused):
    """Two senders on one outbox could send the same pack twice (OFFLINE-QUEUE.md 6.1): ``run`` refuses."""
    db, _seq, flying, _proc = terminal
    ops = rows(db, "SELECT count(*) FROM op")
    script = tmp_path / "scans.jsonl"
    script.write_text('{"raw": "]d201034009300000141728123110B1\\u001d21SERFLY"}\n')
    code = main(["run", "--outbox", f"sqlite://{db}", "--scanner", f"script://{script}", "--screen",
                 "recording://", "--indicators", "none://", "--service", "scripted://success", "--lang", lang])
    assert code == 3
    assert refused in capsys.readouterr().err
    assert rows(db, f"SELECT state FROM op WHERE seq = {flying}") == [("in_flight",)]
    assert rows(db, "SELECT count(*) FROM op") == ops  # nothing recorded by the refused run


def test_doctor_beside_a_running_terminal_reads_the_outbox_attached(terminal, capsys):
    """``doctor`` must not run the start-up transitions on a terminal's open outbox (#9)."""
    from fmd_terminal.commands.doctor import check_storage
    from fmd_terminal.outbox.texts import Texts

    db, seq, flying, _proc = terminal
    boots = rows(db, "SELECT count(*) FROM boot")

    class Config:
        outbox = f"sqlite://{db}"

    check = check_storage(Config(), Texts("en"))
    assert check.status == "WARN" and "need attention" in check.detail, check
    assert rows(db, f"SELECT state FROM op WHERE seq = {flying}") == [("in_flight",)]
    assert rows(db, "SELECT count(*) FROM boot") == boots


def test_doctor_does_not_create_a_missing_outbox(tmp_path):
    from fmd_terminal.commands.doctor import check_storage
    from fmd_terminal.outbox.texts import Texts

    class Config:
        outbox = f"sqlite://{tmp_path}/absent.db"

    check = check_storage(Config(), Texts("en"))
    assert check.status == "ok" and "0 pending" in check.detail, check
    assert not (tmp_path / "absent.db").exists()
