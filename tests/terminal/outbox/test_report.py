"""``fmd-terminal report --quarter`` (issue 14, item 6): the quarter's accepted decommissions, from the outbox.

The ops are settled by the real sync worker against the model service on an injected clock, then the
command reads the file like a pharmacist would, in French, English and German."""

import random
import time

import pytest
from outbox_fakes import ModelService, drain, pack

from fmd_core.timekeeping import SECOND_NS
from fmd_terminal.cli import main
from fmd_terminal.commands.report import quarter_bounds
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.sync import SyncSettings, SyncWorker

# 2026-11-20 10:00 UTC: inside 2026Q4.
T_Q4 = 1_795_168_800


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def settled_outbox(path, clock, plan):
    """Record ``plan`` [(kind, n, days later)], settle everything with the worker, return the path."""
    service = ModelService([pack(n) for n in range(1, 10)], clock=clock)
    box = open_sqlite_outbox(str(path), clock, reserve_bytes=0)
    worker = SyncWorker(box, service, clock, SyncSettings(start_jitter_s=0.0), random.Random(1))
    for kind, n, days in plan:
        clock.advance(days * 86400)
        assert box.record(OpRequest(kind, pack(n), f"raw{n}", "ph1", "deferred")).op is not None
        drain(worker, clock)
    states = [r["state"] for r in box.ops()]
    box.close()
    return states


def test_quarter_counts_accepted_decommissions_minus_undone(tmp_path, utc, capsys):
    db = tmp_path / "o.db"
    clock = FakeClock(wall_ns=(T_Q4 - 60 * 86400) * SECOND_NS)  # 2026-09-21: in Q3
    states = settled_outbox(db, clock, [
        ("dispense", 1, 0),        # Q3: not this quarter
        ("dispense", 2, 50),       # Q4
        ("verify", 3, 1),          # a verify decommissions nothing
        ("dispense", 4, 1),        # Q4, then undone: does not count
        ("undo_dispense", 4, 0),
        ("destroy", 5, 2),         # Q4, the last one
    ])
    assert set(states) == {"done"}
    assert main(["report", "--quarter", "2026Q4", "--outbox", f"sqlite://{db}", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    last = time.strftime("%Y-%m-%d", time.gmtime(clock.wall_ns / SECOND_NS))
    assert "quarter 2026Q4: 2 pack(s) decommissioned" in out and f"last: {last}" in out
    assert main(["report", "--quarter", "2026Q3", "--outbox", f"sqlite://{db}", "--lang", "fr"]) == 0
    assert "trimestre 2026Q3 : 1 boîte(s) désactivée(s)" in capsys.readouterr().out
    assert main(["report", "--quarter", "2027Q1", "--outbox", f"sqlite://{db}", "--lang", "de"]) == 0
    assert "Quartal 2027Q1: 0 Packung(en) ausgebucht und vom Dienst angenommen; letzte: keine" in \
        capsys.readouterr().out


def test_pending_decommissions_are_named_beside_the_figure(tmp_path, utc, capsys):
    db = tmp_path / "p.db"
    box = open_sqlite_outbox(str(db), FakeClock(wall_ns=T_Q4 * SECOND_NS), reserve_bytes=0)
    box.record(OpRequest("dispense", pack(1), "raw1", "ph1", "deferred"))  # never sent: queued
    box.close()
    assert main(["report", "--quarter", "2026Q4", "--outbox", f"sqlite://{db}", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "0 boîte(s)" in out and "1 désactivation(s) de ce trimestre encore en attente" in out


def test_quarter_bounds_and_bad_input(utc, tmp_path, capsys):
    label, start, end = quarter_bounds("2026q1")
    assert label == "2026Q1"
    assert (start, end) == (1_767_225_600 * SECOND_NS, 1_775_001_600 * SECOND_NS)  # 1 Jan .. 1 Apr 2026
    assert quarter_bounds("current", now=T_Q4)[0] == "2026Q4"
    assert quarter_bounds("2026Q4")[2] == 1_798_761_600 * SECOND_NS  # 1 Jan 2027
    assert main(["report", "--quarter", "2026Q5", "--outbox", f"sqlite://{tmp_path}/x.db"]) == 3
    assert "2026Q5" in capsys.readouterr().err
    assert main(["report", "--outbox", f"sqlite://{tmp_path}/x.db", "--lang", "de"]) == 3
    assert "report braucht --quarter" in capsys.readouterr().err


def test_the_screen_shows_the_quarter_on_request(tmp_path, utc, monkeypatch):
    """Item 6, on the terminal: the mode sheet's report code shows the same figure as ``report --quarter``
    (fr/en/de), the mode stays, and the idle screen comes back after the hold."""
    from fmd_core.flow import SCREEN, Flow
    from fmd_core.modes import REPORT_CODE
    from fmd_terminal.i18n import Translator
    from fmd_terminal.presenter import Presenter, quarter_lines

    db = tmp_path / "s.db"
    clock = FakeClock(wall_ns=(T_Q4 - 3 * 86400) * SECOND_NS)
    settled_outbox(db, clock, [("dispense", 1, 0), ("dispense", 2, 1), ("undo_dispense", 2, 0), ("destroy", 3, 1)])
    monkeypatch.setattr(time, "time", lambda: T_Q4)  # "now" is in 2026Q4, like the ops
    flow = Flow(mode="verify", result_hold_ms=3000)
    effects = flow.scan("]C0" + REPORT_CODE + "\r\n", 1000)
    assert [(e.kind, e.payload.message_id) for e in effects] == [(SCREEN, "quarter_report")]
    assert flow.mode == "verify" and flow.tick(2000) == []
    assert [e.payload.message_id for e in flow.tick(4000)] == ["ready"]
    box = open_sqlite_outbox(str(db), clock, reserve_bytes=0)
    try:
        last = time.strftime("%Y-%m-%d", time.gmtime(clock.wall_ns / SECOND_NS))
        expected = {"fr": ("Désactivations", "2026Q4 : 2 boîte(s)", f"Dernière : {last}"),
                    "en": ("Decommissioned", "2026Q4: 2 pack(s)", f"Last: {last}"),
                    "de": ("Ausgebucht", "2026Q4: 2 Stück", f"Letzte: {last}")}
        for lang, (headline, count, when) in expected.items():
            presenter = Presenter(Translator(lang))
            presenter.quarter = lambda lang=lang: quarter_lines(box, Translator(lang))
            model = presenter.notice(effects[0].payload)
            assert model.headline == headline and model.lines[0] == count and model.lines[1] == when
        box.record(OpRequest("dispense", pack(4), "raw4", "ph1", "deferred"))  # not yet accepted: named apart
        assert quarter_lines(box, Translator("en"))[::2] == ["2026Q4: 2 pack(s)", "1 still pending"]
    finally:
        box.close()
