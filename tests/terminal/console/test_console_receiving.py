"""The console's receiving page in a browser (issue 17): a pharmacist uploads a CSV delivery note, scans
packs on the terminal (its standard input), sees the progress per note line, closes the receipt and
downloads its CSV summary; a bad note lists every bad line, in their language. A real ``fmd-terminal
run`` as a PUI dock, the real simulator over REST, headless Chromium."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from console_browser import RunningTerminal, by_id, first_use_and_login, shoot, wait_for
from two_protocols import seed

from fmd_terminal.commands.export import FrenchSpreadsheet

_seeds = itertools.count(48100)


@pytest.fixture
def dock(tmp_path, mtls_sim):
    running = RunningTerminal(tmp_path, mtls_sim, settings='role = "pui_dock"\nusb_notes = ""\n')
    yield running
    running.stop()


def note_of(packs, reference="BL-CONSOLE-1"):
    """A note ordering one more pack of each product than scanned: the last line's tally shows it missing."""
    codes = sorted({p["productCode"] for p in packs})
    lines = [f"{reference};{code[1:] if code.startswith('03400') else code};Produit {n};"
             f"{sum(p['productCode'] == code for p in packs) + 1}" for n, code in enumerate(codes, 1)]
    return "N° BL;Code produit;Désignation;Quantité\n" + "\n".join(lines) + "\n", codes


def test_a_delivery_received_from_the_console(browser, dock, mtls_sim, tmp_path):
    packs = seed(mtls_sim, 3, next(_seeds))
    text, codes = note_of(packs)
    note = tmp_path / "BL-CONSOLE-1.csv"
    note.write_text(text, encoding="utf-8")
    bad = tmp_path / "mauvais.csv"
    bad.write_text("Code produit;Désignation;Quantité\n3400930012345;Doliprane;x\n12;Spasfon;2\n", encoding="utf-8")

    first_use_and_login(browser, dock, "Marie")
    browser.get(dock.base + "/receiving")
    assert by_id(browser, "open-none")
    by_id(browser, "note").send_keys(str(bad))
    by_id(browser, "start").click()
    problems = [li.text for li in browser.find_elements("css selector", "#problems li")]
    assert len(problems) == 2 and "ligne 2" in problems[0] and "ligne 3" in problems[1]
    assert all("mauvais.csv" in line for line in problems)
    shoot(browser, "receiving-bad-note")

    by_id(browser, "note").send_keys(str(note))
    by_id(browser, "start").click()
    assert "BL-CONSOLE-1" in by_id(browser, "message").text
    for pack in packs:
        dock.scan(pack["raw"])

    def accepted():
        browser.get(dock.base + "/receiving")
        rows = browser.find_elements("css selector", "#progress tr")
        cells = [[td.text for td in row.find_elements("css selector", "td")] for row in rows[1:]]
        return cells if cells and sum(int(row[5] or 0) for row in cells[:-1]) == len(packs) else None

    cells = wait_for(accepted, "every scanned pack accepted on the progress table")
    assert "BL-CONSOLE-1" in by_id(browser, "open-title").text
    assert cells[-1][0] == "Total" and cells[-1][4] == str(len(packs) + len(codes))  # ordered
    shoot(browser, "receiving-progress")

    by_id(browser, "close").click()
    wait_for(lambda: browser.get(dock.base + "/receiving") or browser.find_elements("css selector", "[id^=csv-]"),
             "the closed receipt among the past ones")
    assert by_id(browser, "open-none")
    shoot(browser, "receiving-closed")
    browser.find_element("css selector", "[id^=csv-]").click()
    (download,) = wait_for(lambda: list(browser.downloads.glob("*BL-CONSOLE-1.csv")), "the summary's CSV")
    rows = list(csv.reader(io.StringIO(download.read_bytes().decode("utf-8-sig")), dialect=FrenchSpreadsheet))
    assert rows[0][:3] == ["Ligne", "Code produit", "Désignation"]
    by_line = {row[0]: row for row in rows[1:]}
    assert sorted(by_line) == sorted([str(n) for n in range(1, len(codes) + 1)] + ["Total"])
    total = by_line["Total"]
    assert (total[5], total[6], total[10]) == (str(len(packs) + len(codes)), str(len(packs)), str(len(codes)))
    actions = [entry["action"] for entry in dock.audit()]
    assert ["refused_note", "receive_note", "receive_close", "download"] == [
        a for a in actions if a in ("refused_note", "receive_note", "receive_close", "download")]
