"""End to end (issue 17): a delivery with every kind of difference, received through the ``script://``
scanner against the real simulator, over REST and over SOAP, with an outage in the middle; the tally
is checked line by line, in the outbox and in the simulator's own record of each pack.

The terminal is the real one (``app.build`` from a TOML configuration, SQLite outbox, recording screen
and lights); the session starts from the note's barcode (``FMD-NOTE-<reference>``, the note file in
``notes_dir``), as at a dock. The device is a ``pui_dock``: clean packs are decommissioned on receipt,
every other one only verified. The scanner is wrapped only to switch the simulator's ``outage`` fault on
before the fifth pack and off before the seventh.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import itertools
import json
from collections import defaultdict

from two_protocols import seed, service_config

from fmd_core import decode_scan
from fmd_core.receiving import day_number
from fmd_terminal import app, config
from fmd_terminal.outbox import receipts
from fmd_terminal.scanners.factory import open_scanner

_seeds = itertools.count(47000)
REFERENCE = "BL-E2E-17"


class OutageAt:
    """The script's scanner, with the simulator's outage switched on before scan ``on`` and off before
    scan ``off`` (counted from 1, packs and codes alike)."""

    def __init__(self, scanner, sim, on, off):
        self.scanner, self.sim, self.on, self.off, self.n = scanner, sim, on, off, 0
        self.waits_for_verdict = scanner.waits_for_verdict

    def read(self, timeout_s):
        event = self.scanner.read(timeout_s)
        if event is not None and event.kind == "scan":
            self.n += 1
            if self.n == self.on:
                self.sim.set_faults({"outage": True})
            elif self.n == self.off:
                self.sim.set_faults({})
        return event

    def close(self):
        self.scanner.close()


def _iso(pack):
    return decode_scan(pack["raw"]).expiry


def _delivery(packs):
    """Products for each line's part (A clean then extra, B batch, C expiry, D refused, S short-dated,
    E not on the note), the note's CSV text and the threshold of short expiry."""
    by_batch = defaultdict(list)
    for pack in packs:
        by_batch[(pack["productCode"], pack["batch"])].append(pack)
    earliest = min(packs, key=_iso)
    groups = sorted((g for (code, _b), g in by_batch.items() if code != earliest["productCode"]),
                    key=len, reverse=True)
    chosen, used = [], {earliest["productCode"]}
    for group in groups:
        if group[0]["productCode"] not in used:
            chosen.append(group)
            used.add(group[0]["productCode"])
    a, b, c, d, e = chosen[:5]
    assert len(a) >= 4 and min(_iso(p) for g in (a, b, c, d, e) for p in g) > _iso(earliest)
    today = datetime.date.today().isoformat()
    short_days = day_number(_iso(earliest)) - day_number(today) + 1
    a1 = a[0]
    rows = [("Code produit", "Désignation", "Quantité", "Lot", "Péremption", "N° BL"),
            (a1["productCode"][1:], "Produit A", "3", a1["batch"],
             "/".join(reversed(_iso(a1).split("-"))), REFERENCE),
            (b[0]["productCode"], "Produit B", "2", "AUTRELOT", "", ""),
            (c[0]["productCode"], "Produit C", "2", "", "31/12/2099", ""),
            (d[0]["productCode"], "Produit D", "3", "", "", ""),
            (earliest["productCode"], "Produit S", "1", "", "", "")]
    note = "".join(";".join(row) + "\r\n" for row in rows)
    return (a, b, c, d, e, earliest), note, short_days


def test_a_delivery_with_every_difference_over_both_protocols_with_an_outage(tmp_path, mtls_sim, protocol):
    packs = seed(mtls_sim, 160, next(_seeds) + (500 if protocol == "soap" else 0))
    (a, b, c, d, e, s), note, short_days = _delivery(packs)
    unknown = dict(d[0], raw=d[0]["raw"][:-3] + "ZZZ", serial=d[0]["serial"][:-3] + "ZZZ")  # unknown serial: alert
    recalled = d[1]
    mtls_sim.admin("POST", f"/admin/batches/GTIN/{recalled['productCode']}/{recalled['batch']}/recall")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "livraison-du-jour.csv").write_bytes(note.encode("cp1252"))  # what Excel writes in France
    scans = [f"]C0FMD-NOTE-{REFERENCE}", a[0]["raw"], a[0]["raw"], a[1]["raw"],
             a[2]["raw"], b[0]["raw"],  # the outage: recorded, sent once the service is back
             c[0]["raw"], a[3]["raw"], unknown["raw"], recalled["raw"], s["raw"], e[0]["raw"]]
    script = tmp_path / "scans.jsonl"
    script.write_text("".join(json.dumps({"raw": raw}) + "\n" for raw in scans), encoding="utf-8")
    toml = tmp_path / "terminal.toml"
    toml.write_text(
        f'role = "pui_dock"\nshort_expiry_days = {short_days}\nnotes_dir = "{notes}"\n'
        f'receipts_dir = "{tmp_path / "out"}"\nresult_hold_s = 1\n'
        f'outbox = "sqlite://{tmp_path / "outbox.db"}"\nscreen = "recording://?render=0"\nindicators = "recording://"\n'
        '[sync]\nstart_jitter_s = 0\nquiet_s = 0\nbackoff_base_s = 0.2\nbreaker_open_s = 0.5\nprobe_gap_s = 0.3\n'
        + service_config(mtls_sim, protocol), encoding="utf-8")
    settings = config.load(str(toml), environ={"FMD_CLIENT_ID": "hospital-demo",
                                               "FMD_CLIENT_SECRET": "hospital-secret"}).validate()
    with contextlib.ExitStack() as stack:
        scanner = OutageAt(open_scanner(f"script://{script}"), mtls_sim, on=5, off=7)
        stack.callback(scanner.close)
        stack.callback(mtls_sim.set_faults, {})
        terminal = app.build(settings, stack, scanner=scanner)
        terminal.run()
        first, last = {}, {}  # each pack's first verdict, and its last (a late answer's, on a loaded machine)
        for verdict in terminal.shown:
            if verdict.pack and verdict.message_id != "receive_already_scanned":
                first.setdefault(verdict.pack["serial"], verdict)
                last[verdict.pack["serial"]] = verdict
        outage_lights = [first[p["serial"]].outcome for p in (a[2], b[0])]
        assert terminal.settle_receiving(25) == 0  # every pack has its answer once the service is back
        for verdict in terminal.shown:
            if verdict.pack and verdict.message_id != "receive_already_scanned":
                last[verdict.pack["serial"]] = verdict
        summary = terminal.close_receiving()
        box = terminal.outbox
        stored = receipts.receipts(box)
        pack_rows = receipts.packs(box, stored[-1]["id"])

    assert set(outage_lights) <= {"recorded_offline", "pending"}  # never green while the service is down
    lights = {serial: v.light for serial, v in last.items()}
    assert lights[a[0]["serial"]] == "green" and lights[a[1]["serial"]] == "green"
    assert [lights[p["serial"]] for p in (c[0], a[3], s, e[0])] == ["amber"] * 4
    assert lights[unknown["serial"]] == "red" and lights[recalled["serial"]] == "red"
    rescan = [v for v in terminal.shown if v.message_id == "receive_already_scanned"]
    assert len(rescan) == 1 and summary.rescans == 1

    rows = {row["line"]: row for row in summary.rows}
    def counts(row):
        return {k: row[k] for k in ("ordered", "accepted", "pending", "refused", "missing", "extra", "batch_differs",
                                    "expiry_differs", "short_expiry")}
    assert counts(rows[0]) == dict(ordered=3, accepted=3, pending=0, refused=0, missing=0, extra=1, batch_differs=0,
                                   expiry_differs=0, short_expiry=0)
    assert counts(rows[1]) == dict(ordered=2, accepted=1, pending=0, refused=0, missing=1, extra=0, batch_differs=1,
                                   expiry_differs=0, short_expiry=0)
    assert counts(rows[2]) == dict(ordered=2, accepted=1, pending=0, refused=0, missing=1, extra=0, batch_differs=0,
                                   expiry_differs=1, short_expiry=0)
    assert counts(rows[3]) == dict(ordered=3, accepted=0, pending=0, refused=2, missing=1, extra=0, batch_differs=0,
                                   expiry_differs=0, short_expiry=0)
    assert sorted(rows[3]["alerts"]) == ["A3", "NMVS_FE_LOT_01"]
    assert counts(rows[4]) == dict(ordered=1, accepted=1, pending=0, refused=0, missing=0, extra=0, batch_differs=0,
                                   expiry_differs=0, short_expiry=1)
    assert counts(rows[None]) == dict(ordered=0, accepted=0, pending=0, refused=0, missing=0, extra=1,
                                      batch_differs=0, expiry_differs=0, short_expiry=0)
    assert rows[None]["product_code"] == e[0]["productCode"]
    assert summary.totals == dict(ordered=11, accepted=6, pending=0, refused=2, missing=3, extra=2, alerts=2)

    # a pui_dock decommissions clean packs only; the rest can still go back to the wholesaler
    def state(p):
        return mtls_sim.history(p["scheme"], p["productCode"], p["serial"])["state"]
    assert [state(p) for p in (a[0], a[1], a[2])] == ["Supplied"] * 3
    assert [state(p) for p in (a[3], b[0], c[0], s, e[0])] == ["Active"] * 5

    # kept for audit: the session's row with its tally, every pack with its op and final state
    assert stored[-1]["reference"] == REFERENCE and stored[-1]["summary"]["totals"] == summary.totals
    assert stored[-1]["role"] == "pui_dock" and stored[-1]["closed_ns"]
    assert {row["state"] for row in pack_rows} == {"accepted", "refused"} and len(pack_rows) == 10
    (csv_path,) = sorted((tmp_path / "out").glob("*.csv"))
    table = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert table[0][:3] == ["Ligne", "Code produit", "Désignation"] and table[-1][0] == "Total"
    assert table[1][2:3] == ["Produit A"] and table[1][7] == "100,0"  # received share, decimal comma
    assert (tmp_path / "out" / csv_path.name.replace(".csv", ".pdf")).read_bytes().startswith(b"%PDF")
