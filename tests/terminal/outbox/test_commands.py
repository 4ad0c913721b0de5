"""``fmd-terminal sync``, ``attention`` and ``export`` (issue 5, items 3, 5, 6) on a real outbox file.

``sync`` runs over REST and over SOAP (``protocol``, tests/terminal/conftest.py; issue 6, item 3)."""

import csv
import json

import pytest
from outbox_fakes import pack
from two_protocols import open_client, seed, service_config

from fmd_core.service import PackRef
from fmd_terminal.cli import main
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.sqlite import open_sqlite_outbox


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv("FMD_CLIENT_ID", "pharmacy-demo")
    monkeypatch.setenv("FMD_CLIENT_SECRET", "demo-secret")


def ref_of(p):
    return PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"])


def fill(path, packs, kind="dispense"):
    box = open_sqlite_outbox(str(path), reserve_bytes=0)
    seqs = [box.record(OpRequest(kind, ref_of(p), p["raw"], "ph1", "deferred")).op.seq for p in packs]
    box.close()
    return seqs


def sync_config(tmp_path, sim, protocol):
    config = tmp_path / "terminal.toml"
    config.write_text(service_config(sim, protocol), encoding="utf-8")
    return str(config)


def test_sync_until_drained_writes_resolved_events(tmp_path, creds, capsys, mtls_sim, protocol):
    db = tmp_path / "o.db"
    events = tmp_path / "events.jsonl"
    packs = seed(mtls_sim, 6, 41000 + (protocol == "soap"))
    seqs = fill(db, packs)
    code = main(["sync", "--until-drained", "--timeout", "60", "--start-delay", "0",
                 "--config", sync_config(tmp_path, mtls_sim, protocol),
                 "--outbox", f"sqlite://{db}", "--events-jsonl", str(events)])
    assert code == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert sorted(e["seq"] for e in lines) == seqs
    assert {(e["event"], e["light"], e["service_code"]) for e in lines} == {("resolved", "green", "NMVS_SUCCESS")}
    for p in packs:
        history = mtls_sim.history(p["scheme"], p["productCode"], p["serial"])["history"]
        assert [h["result"] for h in history] == ["NMVS_SUCCESS"]
    serials = {p["serial"] for p in packs}
    assert [a for a in mtls_sim.alerts() if a.get("serial") in serials] == []


def test_sync_journals_a_late_red_result_once(tmp_path, creds, mtls_sim, protocol):
    """A red late result is one ``resolved`` event: its alert notice (for a screen) is not journaled again."""
    db = tmp_path / "o.db"
    events = tmp_path / "events.jsonl"
    (known,) = seed(mtls_sim, 1, 43000 + (protocol == "soap"))
    unknown = dict(known, serial=known["serial"][:-4] + "QQQQ")  # a serial the service does not hold: alert
    (seq,) = fill(db, [unknown])
    assert main(["sync", "--until-drained", "--timeout", "60", "--start-delay", "0",
                 "--config", sync_config(tmp_path, mtls_sim, protocol),
                 "--outbox", f"sqlite://{db}", "--events-jsonl", str(events)]) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["seq"], e["event"], e["light"]) for e in lines] == [(seq, "resolved", "red")]


def test_sync_timeout_reports_what_is_pending(tmp_path, creds, capsys, mtls_sim, protocol, faults):
    db = tmp_path / "o.db"
    fill(db, seed(mtls_sim, 2, 42000 + (protocol == "soap")))
    faults({"outage": True})
    code = main(["sync", "--until-drained", "--timeout", "0.5", "--start-delay", "0",
                 "--config", sync_config(tmp_path, mtls_sim, protocol), "--outbox", f"sqlite://{db}", "--lang", "en"])
    assert code == 1
    err = capsys.readouterr().err
    assert "2 operation(s) still pending" in err and "seq 1 dispense queued" in err


def damage_pack_view(path):
    """Overwrite the head of ``pack_view``'s root page: ``quick_check`` fails, every ``op`` row stays readable."""
    import sqlite3

    con = sqlite3.connect(path)
    (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'pack_view'").fetchone()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with open(path, "r+b") as f:
        f.seek(4096 * (root - 1))
        f.write(b"\xff" * 64)


def test_sync_after_a_salvage_says_why_an_op_is_queued_and_sends_each_once(tmp_path, creds, capsys, mtls_sim,
                                                                           protocol):
    """After a salvage every op is uncertain (#10); a reconciling verify that shows the pack still active
    (#12) leaves the op queued for a resend: its success is not the op's last error (issue: "queued ... last
    error: success"), and the resend decommissions each pack exactly once, every op kept."""
    from fmd_core.op_states import NOT_APPLIED
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

    db = tmp_path / "o.db"
    packs = seed(mtls_sim, 3, 44000 + (protocol == "soap"))
    seqs = fill(db, packs)
    damage_pack_view(str(db))
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    assert box.read_meta("alarm_storage").startswith("red:")  # salvaged
    assert [(r["seq"], r["state"]) for r in box.ops()] == [(s, "uncertain") for s in seqs]
    worker = SyncWorker(box, open_client(mtls_sim, protocol), settings=SyncSettings.unpaced())
    for _ in range(10):  # one reconciling verify
        if box.op(seqs[0])["state"] != "uncertain":
            break
        worker.step()
    row = box.op(seqs[0])
    assert (row["state"], row["last_error_class"]) == ("queued", NOT_APPLIED)
    box.close()
    config = sync_config(tmp_path, mtls_sim, protocol)
    for lang, words in (("fr", "dernière erreur : vérifiée : pas encore reçue par le service, elle sera renvoyée"),
                        ("de", "geprüft: beim Dienst noch nicht angekommen, wird erneut gesendet")):
        assert main(["sync", "--until-drained", "--timeout", "0", "--config", config, "--outbox", f"sqlite://{db}",
                     "--lang", lang]) == 1
        err = capsys.readouterr().err
        line = next(line for line in err.splitlines() if line.strip().startswith(("opération 1 ", "Vorgang 1 ")))
        assert words in line and "succès" not in line and "Erfolg" not in line, line
    assert main(["sync", "--until-drained", "--timeout", "60", "--config", config, "--outbox", f"sqlite://{db}"]) == 0
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    assert [(r["seq"], r["state"]) for r in box.ops()] == [(s, "done") for s in seqs]  # every op kept
    box.close()
    for p in packs:
        history = mtls_sim.history(p["scheme"], p["productCode"], p["serial"])["history"]
        # the reconciling verify (G110), then the dispense sent once (G120)
        assert [(h["operation"], h["result"]) for h in history] == [("G110", "NMVS_SUCCESS"), ("G120", "NMVS_SUCCESS")]


def needs_attention(path):
    """An outbox with a dispense refused after the fact (needs_attention), and a later verify it blocks."""
    from outbox_fakes import ModelService

    from fmd_terminal.outbox.clock import FakeClock
    from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

    clock = FakeClock()
    box = open_sqlite_outbox(str(path), clock, reserve_bytes=0)
    service = ModelService([])  # the serial is unknown: NC_PC_02 with an alert
    first = box.record(OpRequest("dispense", pack(1), "raw1", "ph1", "deferred")).op
    box.record(OpRequest("verify", pack(1), "raw1", "ph1", "deferred"))
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0), __import__("random").Random(1))
    for _ in range(50):
        clock.advance(worker.step())
    assert box.op(first.seq)["state"] == "needs_attention"
    box.close()
    return first.seq


def test_attention_lists_and_resolves_with_who_and_why(tmp_path, capsys):
    db = tmp_path / "a.db"
    seq = needs_attention(db)
    assert main(["attention", "--outbox", f"sqlite://{db}", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"seq {seq}: dispense (recorded offline)" in out and "NMVS_NC_PC_02" in out and "blocks [2]" in out
    assert "alert procedure" in out
    assert main(["attention", "cancel", str(seq), "--outbox", f"sqlite://{db}", "--user", "ph2", "--lang", "en"]) == 3
    assert "a cancel needs --reason, one of" in capsys.readouterr().err
    assert main(["attention", "cancel", str(seq), "--outbox", f"sqlite://{db}", "--user", "ph2", "--lang", "en",
                 "--reason", "other", "--note", "pack broken at the counter"]) == 0
    assert f"seq {seq}: cancelled" in capsys.readouterr().out
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    row = box.op(seq)
    assert (row["state"], row["resolved_by"], row["resolution"], row["resolution_note"]) == (
        "cancelled", "ph2", "cancel:other", "pack broken at the counter")
    person = [a for a in box.attempts(seq) if a["action"] == "person"]
    assert len(person) == 1 and person[0]["user_id"] == "ph2" and person[0]["wall_ns"]
    assert box.attention_count() == 0
    box.close()
    assert main(["attention", "--outbox", f"sqlite://{db}", "--lang", "en"]) == 0
    assert "nothing needs attention" in capsys.readouterr().out


def test_attention_retry_needs_a_matching_rescan(tmp_path, capsys):
    from fmd_terminal.outbox.sqlite import ResolutionRefused

    db = tmp_path / "r.db"
    seq = needs_attention(db)
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    before = box.op(seq)["client_trx_id"]
    with pytest.raises(ResolutionRefused, match="does not match"):
        box.resolve(seq, "retry", "ph2", rescan=pack(2))
    assert box.resolve(seq, "retry", "ph2", rescan=pack(1)) == "queued"
    assert box.op(seq)["client_trx_id"] != before  # a new client_trx_id (#17)
    box.close()


def test_export_csv_and_jsonl(tmp_path, capsys):
    db = tmp_path / "e.db"
    seq = needs_attention(db)
    out_csv, out_jsonl = tmp_path / "ops.csv", tmp_path / "ops.jsonl"
    assert main(["export", "--outbox", f"sqlite://{db}", "--csv", str(out_csv), "--jsonl", str(out_jsonl)]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["seq"] for r in rows] == [str(seq), str(seq + 1)]
    assert rows[0]["serial"] == "SER000001" and rows[0]["return_code"] == "NMVS_NC_PC_02"
    assert rows[0]["time_quality"] == "exact" and rows[0]["wall_time"].endswith("Z")
    records = [json.loads(line) for line in out_jsonl.read_text().splitlines()]
    assert [a["action"] for a in records[0]["history"]] == ["send"]
    assert records[0]["alert_code"] == "A3"
    assert main(["export", "--outbox", f"sqlite://{db}"]) == 3  # nothing asked for: a usage error
