"""A receiving session survives a restart (issue 17): a power cut or a killed process in the middle of
a delivery at the dock.

The real terminal (``app.build`` from a TOML configuration, SQLite outbox, recording screen) against
the real simulator over REST. Part of the delivery is scanned, the last pack of that part during an
outage (its op, and those waiting for their bulk, stay queued); then the terminal stops without closing the session (the process's objects
closed as a kill leaves them: no ``close_receiving``). A new terminal on the same outbox resumes the
session at start ("Réception reprise"), its late answer is mapped back to the session, a pack scanned
before the restart and scanned again is "already scanned" (not sent, not counted twice), and the
summary at closing equals, line by line, the one of the same delivery scanned without a restart.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3

from test_receiving_e2e import REFERENCE, OutageAt, _delivery
from two_protocols import seed, service_config

from fmd_terminal import app, config
from fmd_terminal.receiving.report import COLUMNS, cells
from fmd_terminal.scanners.factory import open_scanner

_seeds = itertools.count(61000)


def _settings(tmp_path, sim, short_days, name):
    notes = tmp_path / "notes"
    toml = tmp_path / f"{name}.toml"
    toml.write_text(
        f'role = "pui_dock"\nshort_expiry_days = {short_days}\nnotes_dir = "{notes}"\n'
        f'receipts_dir = "{tmp_path / name}"\nresult_hold_s = 1\n'
        f'outbox = "sqlite://{tmp_path / name}.db"\nscreen = "recording://?render=0"\nindicators = "recording://"\n'
        '[sync]\nstart_jitter_s = 0\nquiet_s = 0\nbackoff_base_s = 0.2\nbreaker_open_s = 0.5\nprobe_gap_s = 0.3\n'
        + service_config(sim, "rest"), encoding="utf-8")
    return config.load(str(toml), environ={"FMD_CLIENT_ID": "hospital-demo",
                                           "FMD_CLIENT_SECRET": "hospital-secret"}).validate()


def _prepare(tmp_path, sim):
    """A delivery of freshly seeded packs (every kind of difference) with its note in ``notes``, and the
    scans of the whole delivery: the note's barcode, then packs, with two packs scanned again."""
    packs = seed(sim, 160, next(_seeds))
    (a, b, c, d, e, s), note, short_days = _delivery(packs)
    unknown = dict(d[0], raw=d[0]["raw"][:-3] + "ZZZ")  # an unknown serial: alert
    recalled = d[1]
    sim.admin("POST", f"/admin/batches/GTIN/{recalled['productCode']}/{recalled['batch']}/recall")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / f"{REFERENCE}.csv").write_bytes(note.encode("cp1252"))
    scans = [f"]C0FMD-NOTE-{REFERENCE}", a[0]["raw"], a[0]["raw"], a[1]["raw"], a[2]["raw"], b[0]["raw"],
             a[1]["raw"], c[0]["raw"], a[3]["raw"], unknown["raw"], recalled["raw"], s["raw"], e[0]["raw"]]
    return scans, short_days


def _run(settings, sim, tmp_path, name, scans, *, outage_at=None, close=True, settle=True):
    """The terminal over ``scans``; with ``settle`` the session's answers are awaited; with ``close`` it
    is closed (its summary returned), else the terminal stops as a killed process leaves it."""
    script = tmp_path / f"{name}.jsonl"
    script.write_text("".join(json.dumps({"raw": raw}) + "\n" for raw in scans), encoding="utf-8")
    with contextlib.ExitStack() as stack:
        scanner = open_scanner(f"script://{script}")
        if outage_at is not None:
            scanner = OutageAt(scanner, sim, on=outage_at, off=len(scans) + 1)
        stack.callback(scanner.close)
        stack.callback(sim.set_faults, {})
        terminal = app.build(settings, stack, scanner=scanner)
        terminal.run()
        if settle:
            assert terminal.settle_receiving(25) == 0
        if not close:
            return terminal, None
        return terminal, terminal.close_receiving()


def _sql(path, statement):
    """One statement on the outbox file, the connection closed after (a terminal refuses a file held open)."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        return db.execute(statement).fetchall()


def _lines(summary):
    """The summary's CSV lines without product code, batch and expiry (each delivery is seeded afresh)."""
    return [[cell for name, cell in zip(COLUMNS, row, strict=True) if name not in ("product_code", "batch", "expiry")]
            for row in cells(summary, "fr")]


def test_a_session_killed_mid_delivery_resumes_and_closes_as_if_uninterrupted(tmp_path, mtls_sim, monkeypatch):
    monkeypatch.setattr(app, "END_WAIT_S", 1.0)  # at the first run's end, the queued op is not waited for
    straight_dir, resumed_dir = tmp_path / "straight", tmp_path / "resumed"
    straight_dir.mkdir()
    resumed_dir.mkdir()
    scans, short_days = _prepare(straight_dir, mtls_sim)
    straight = _settings(straight_dir, mtls_sim, short_days, "box")
    _, expected = _run(straight, mtls_sim, straight_dir, "all", scans)

    scans, short_days = _prepare(resumed_dir, mtls_sim)
    settings = _settings(resumed_dir, mtls_sim, short_days, "box")
    first, _ = _run(settings, mtls_sim, resumed_dir, "before", scans[:6], outage_at=6, close=False,
                    settle=False)
    waiting = {p.seq for p in first.session.packs.values() if p.state == "pending"}
    assert waiting  # the outage's pack at least: its answer never came before the kill
    assert _sql(resumed_dir / "box.db", "SELECT COUNT(*) FROM receipt WHERE closed_ns IS NULL") == [(1,)]

    second, summary = _run(settings, mtls_sim, resumed_dir, "after", scans[6:])
    resumed_screen = [m for m in second.screen.models if m.headline == f"Réception reprise : {REFERENCE}"]
    assert resumed_screen and resumed_screen[0].lines[0] == f"{REFERENCE} : 4/11"  # A 3, B 1 before the kill
    assert len(resumed_screen[0].lines) == 3  # and the last op before the restart, as after any restart
    rescans = [v for v in second.shown if v.message_id == "receive_already_scanned"]
    assert len(rescans) == 1 and rescans[0].light == "amber" and not rescans[0].recorded  # not recorded, not sent
    assert not [v for v in second.shown if v.outcome == "already_dispensed_here"]
    late = {v.seq for v in second.shown if v.event == "resolved"}
    assert waiting <= late  # the answers of the ops queued before the kill came after the restart

    assert summary.rescans == expected.rescans == 2
    assert summary.totals == expected.totals == dict(ordered=11, accepted=6, pending=0, refused=2, missing=3,
                                                     extra=2, alerts=2)
    assert _lines(summary) == _lines(expected)
    assert summary.started_ns == first.session.started_ns and not summary.interrupted
    db = resumed_dir / "box.db"
    assert _sql(db, "SELECT COUNT(*), COUNT(closed_ns) FROM receipt") == [(1, 1)]
    assert _sql(db, "SELECT COUNT(*) FROM receipt_pack") == [(10,)]
    (ops,) = _sql(db, "SELECT COUNT(*), COUNT(DISTINCT pack_key) FROM op")
    assert ops[0] == ops[1] == 10  # each pack sent once: the rescans were never recorded


def test_a_session_that_no_longer_reads_is_closed_as_interrupted_keeping_its_packs(tmp_path, mtls_sim, monkeypatch):
    monkeypatch.setattr(app, "END_WAIT_S", 1.0)
    scans, short_days = _prepare(tmp_path, mtls_sim)
    settings = _settings(tmp_path, mtls_sim, short_days, "box")
    _run(settings, mtls_sim, tmp_path, "before", scans[:4], close=False)
    _sql(tmp_path / "box.db", "UPDATE receipt SET note = '[{\"product_code\": '")  # a torn write
    terminal, summary = _run(settings, mtls_sim, tmp_path, "after", [], close=False)
    assert terminal.session is None and summary is None
    headlines = [m.headline for m in terminal.screen.models]
    assert "Réception interrompue" in headlines
    shown = terminal.screen.models[headlines.index("Réception interrompue")]
    assert list(shown.lines) == [REFERENCE, "Illisible : close", "Rescanner le bon"]
    ((closed, stored),) = _sql(tmp_path / "box.db", "SELECT closed_ns, summary FROM receipt")
    ((kept,),) = _sql(tmp_path / "box.db", "SELECT COUNT(*) FROM receipt_pack")
    stored = json.loads(stored)
    assert closed and stored["interrupted"] is True and stored["rows"] == []
    assert kept == 2 and stored["totals"]["accepted"] == 2 and stored["rescans"] == 1  # nothing lost
