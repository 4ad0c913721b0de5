"""``fmd-terminal export`` for an audit (issue 12): the mode of every scan, outboxes of earlier
releases, and the variant a French spreadsheet opens as it is (``--excel``), read back as one would."""

import csv
import datetime
import sqlite3

from fmd_core.service import PackRef
from fmd_terminal.cli import main
from fmd_terminal.commands.export import COLUMNS
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.sqlite import open_sqlite_outbox

# a serial a spreadsheet would take for a formula, a batch and a serial it would take for numbers
PACKS = [
    ("receive", "dispense", PackRef("GTIN", "03400930012345", "=1+2", "0123", "270630")),
    ("dispense", "dispense", PackRef("GTIN", "03400930054321", "12345E7", "B-é", "270600")),
    ("verify", "verify", PackRef("GTIN", "04150123456782", "SÉRIE;1", "L\"1", "281231")),
]


def filled(path, with_mode=True):
    box = open_sqlite_outbox(str(path), reserve_bytes=0)
    for mode, kind, pack in PACKS:
        box.record(OpRequest(kind, pack, "raw", "ph1", "deferred", mode=mode if with_mode else None))
    box.close()
    return path


def export(db, *flags):
    return main(["export", "--outbox", f"sqlite://{db}", *flags])


def test_the_mode_of_each_scan_is_exported_beside_its_kind(tmp_path):
    out = tmp_path / "ops.csv"
    assert export(filled(tmp_path / "o.db"), "--csv", str(out)) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["mode"], r["kind"]) for r in rows] == [(mode, kind) for mode, kind, _ in PACKS]
    assert list(rows[0]) == COLUMNS and COLUMNS[-1] == "mode"  # added last: earlier positions unchanged


def test_an_outbox_of_an_earlier_release_opens_exports_and_gains_the_column(tmp_path):
    """Schema version 1 without ``op.mode``: the export opens it read-only (mode derived where the
    kind says it, empty for a dispense), and the terminal adds the column at its next start."""
    db = filled(tmp_path / "old.db", with_mode=False)
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE op DROP COLUMN mode")  # as the earlier release wrote it
    out = tmp_path / "ops.csv"
    assert export(db, "--csv", str(out)) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["mode"], r["kind"]) for r in rows] == [("", "dispense"), ("", "dispense"), ("verify", "verify")]
    box = open_sqlite_outbox(str(db), reserve_bytes=0)  # the terminal's start
    box.record(OpRequest("dispense", PackRef("GTIN", "03400930012345", "NEW", "B1", "270630"), "raw", mode="receive"))
    assert [op["mode"] for op in box.ops()] == [None, None, None, "receive"]
    box.close()


def test_the_excel_variant_reads_back_in_a_french_spreadsheets_dialect(tmp_path):
    db = filled(tmp_path / "o.db")
    plain, excel = tmp_path / "ops.csv", tmp_path / "ops-excel.csv"
    assert export(db, "--csv", str(plain)) == 0
    assert export(db, "--csv", str(excel), "--excel") == 0
    data = excel.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # UTF-8 with BOM, CRLF
    assert csv.Sniffer().sniff(data.decode("utf-8-sig").splitlines()[0]).delimiter == ";"
    want = list(csv.DictReader(plain.open(encoding="utf-8", newline="")))
    with excel.open(encoding="utf-8-sig", newline="") as handle:
        got = list(csv.DictReader(handle, delimiter=";"))
    assert len(got) == len(want) == len(PACKS) and list(got[0]) == COLUMNS

    def as_text(cell):  # what the spreadsheet shows for ="..." (a text formula)
        return cell[2:-1].replace('""', '"') if cell.startswith('="') and cell.endswith('"') else cell

    for row, original in zip(got, want, strict=True):
        for name in COLUMNS:
            if name in ("wall_time", "corrected_time", "resolved_at"):
                continue
            assert as_text(row[name]) == original[name], name
        # times: local JJ/MM/AAAA HH:MM:SS, the same instant as the plain file's UTC ISO time
        local = datetime.datetime.strptime(row["wall_time"], "%d/%m/%Y %H:%M:%S")
        utc = datetime.datetime.fromisoformat(original["wall_time"].replace("Z", "+00:00"))
        assert abs(local.astimezone(datetime.UTC) - utc) < datetime.timedelta(seconds=1)
    # codes a spreadsheet would turn into numbers, dates or formulas stay text
    assert [got[0][n] for n in ("product_code", "serial", "batch", "expiry")] == [
        '="03400930012345"', '="=1+2"', '="0123"', '="270630"']
    assert got[1]["serial"] == '="12345E7"' and got[1]["batch"] == "B-é"
    assert got[2]["serial"] == "SÉRIE;1" and got[2]["batch"] == 'L"1'  # the separator and a quote inside


def test_excel_without_csv_is_a_usage_error_naming_the_fix(tmp_path, capsys):
    assert export(filled(tmp_path / "o.db"), "--jsonl", str(tmp_path / "x.jsonl"), "--excel") == 3
    assert "--csv" in capsys.readouterr().err
