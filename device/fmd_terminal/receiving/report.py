"""A receiving session's summary as files (issue 17): CSV for a French spreadsheet, and PDF.

One row per note line, then per unexpected product: product code (CIP13 for a French pack), designation,
batch and expiry of the note, ordered, received (the service accepted), pending (no answer yet),
refused, missing, extra, the differences seen (batch, expiry, short expiry) and the alert codes. The CSV
opens as it is in Excel or LibreOffice in France (``commands.export.FrenchSpreadsheet``): UTF-8 with a
BOM, ``;`` between fields, the received share with a decimal comma, codes kept as text. The column
titles are in the person's language (French by default); the PDF is one A4 page or more, in fpdf2's
Latin-1 core font.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from fmd_terminal.commands.export import FrenchSpreadsheet, spreadsheet_text
from fmd_terminal.errors import ConfigError
from fmd_terminal.receiving.session import Summary

COLUMNS = ("line", "product_code", "designation", "batch", "expiry", "ordered", "accepted", "share", "pending",
           "refused", "missing", "extra", "batch_differs", "expiry_differs", "short_expiry", "alerts")

TITLES = {
    "fr": {"line": "Ligne", "product_code": "Code produit", "designation": "Désignation", "batch": "Lot",
           "expiry": "Péremption", "ordered": "Commandées", "accepted": "Reçues", "share": "Reçues %",
           "pending": "En attente", "refused": "Refusées", "missing": "Manquantes", "extra": "En trop",
           "batch_differs": "Lot différent", "expiry_differs": "Péremption différente",
           "short_expiry": "Péremption courte", "alerts": "Alertes", "title": "Réception {reference}",
           "unexpected": "hors bon", "total": "Total", "rescans": "Boîtes scannées deux fois : {n}",
           "started": "Début {start}, clôture {end}", "source": "Bon : {source}", "role": "Poste : {role}"},
    "en": {"line": "Line", "product_code": "Product code", "designation": "Designation", "batch": "Batch",
           "expiry": "Expiry", "ordered": "Ordered", "accepted": "Received", "share": "Received %",
           "pending": "Pending", "refused": "Refused", "missing": "Missing", "extra": "Extra",
           "batch_differs": "Batch differs", "expiry_differs": "Expiry differs", "short_expiry": "Short expiry",
           "alerts": "Alerts", "title": "Receipt {reference}", "unexpected": "not on note", "total": "Total",
           "rescans": "Packs scanned twice: {n}", "started": "Started {start}, closed {end}",
           "source": "Note: {source}", "role": "Device: {role}"},
    "de": {"line": "Zeile", "product_code": "Produktcode", "designation": "Bezeichnung", "batch": "Charge",
           "expiry": "Verfall", "ordered": "Bestellt", "accepted": "Erhalten", "share": "Erhalten %",
           "pending": "Ausstehend", "refused": "Abgelehnt", "missing": "Fehlend", "extra": "Zu viel",
           "batch_differs": "Charge abweichend", "expiry_differs": "Verfall abweichend",
           "short_expiry": "Kurzes Verfallsdatum", "alerts": "Alarme", "title": "Wareneingang {reference}",
           "unexpected": "nicht im Lieferschein", "total": "Summe", "rescans": "Doppelt gescannt: {n}",
           "started": "Beginn {start}, Abschluss {end}", "source": "Lieferschein: {source}",
           "role": "Gerät: {role}"},
}


def _code(product_code: str) -> str:
    """A French pack by its CIP13 (GTIN ``0`` + CIP13), any other by its GTIN."""
    return product_code[1:] if product_code.startswith("03400") else product_code


def _date(iso: str | None) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if iso else ""


def _when(ns: int | None) -> str:
    return time.strftime("%d/%m/%Y %H:%M", time.localtime(ns / 1e9)) if ns else "-"


def cells(summary: Summary, lang: str = "fr") -> list[list[str]]:
    """The table as text, one list per row: note lines, unexpected products, then the totals."""
    titles = TITLES[lang]
    table = []
    for row in summary.rows:
        share = f"{100 * row['accepted'] / row['ordered']:.1f}".replace(".", ",") if row["ordered"] else ""
        values = {**row, "line": titles["unexpected"] if row["line"] is None else str(row["line"] + 1),
                  "product_code": _code(row["product_code"]), "batch": row["batch"] or "",
                  "expiry": _date(row["expiry"]), "share": share, "alerts": " ".join(row["alerts"])}
        table.append([str(values[name]) for name in COLUMNS])
    totals = summary.totals
    last = {name: str(totals.get(name, "")) for name in COLUMNS}
    last.update(line=titles["total"], product_code="", designation="", batch="", expiry="", alerts="",
                batch_differs="", expiry_differs="", short_expiry="",
                share=f"{100 * totals['accepted'] / totals['ordered']:.1f}".replace(".", ",") if totals["ordered"] else "")
    table.append([last[name] for name in COLUMNS])
    return table


def write_csv(summary: Summary, path: Path, lang: str = "fr") -> Path:
    """The summary as a French spreadsheet's CSV (UTF-8 BOM, ``;``, decimal comma, codes as text)."""
    try:
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, dialect=FrenchSpreadsheet)
            writer.writerow([TITLES[lang][name] for name in COLUMNS])
            for row in cells(summary, lang):
                writer.writerow([spreadsheet_text(value) if i in (1, 3) else value for i, value in enumerate(row)])
    except OSError as error:
        raise ConfigError.text("receipt_unwritable", path=str(path), why=error.strerror or str(error)) from error
    return path


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: anything else becomes '?' rather than failing the summary."""
    return text.encode("latin-1", "replace").decode("latin-1")


def write_pdf(summary: Summary, path: Path, lang: str = "fr") -> Path:
    """The summary on A4 landscape pages: heading, then the table (the same cells as the CSV)."""
    from fpdf import FPDF

    titles = TITLES[lang]
    pdf = FPDF(orientation="L", format="A4", unit="mm")
    pdf.set_creator("fmd-terminal")
    pdf.set_title(_latin1(titles["title"].format(reference=summary.reference)))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(titles["title"].format(reference=summary.reference)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    for line in (titles["source"].format(source=summary.source),
                 titles["started"].format(start=_when(summary.started_ns), end=_when(summary.closed_ns)),
                 titles["role"].format(role=_role_word(summary.role, lang)), titles["rescans"].format(n=summary.rescans)):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (11, 26, 52, 16, 19, 15, 13, 13, 14, 14, 15, 12, 13, 15, 13, 16)
    pdf.set_font("helvetica", "", 6.5)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4) as table:
        header = table.row()
        for name in COLUMNS:
            header.cell(_latin1(titles[name]))
        for values in cells(summary, lang):
            row = table.row()
            for value in values:
                row.cell(_latin1(value))
    try:
        pdf.output(str(path))
    except OSError as error:
        raise ConfigError.text("receipt_unwritable", path=str(path), why=error.strerror or str(error)) from error
    return path


def file_stem(summary: Summary) -> str:
    """The note's reference as a file name's start (letters, digits, ``-`` and ``_`` kept)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in summary.reference) or "reception"


def write_files(summary: Summary, directory: Path, lang: str = "fr") -> list[Path]:
    """``<reference>-<closing time>.csv`` and ``.pdf`` in ``directory`` (made if missing); their paths."""
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError.text("receipt_unwritable", path=str(directory), why=error.strerror or str(error)) from error
    stem = file_stem(summary)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime((summary.closed_ns or time.time_ns()) / 1e9))
    base = Path(directory) / f"{stem}-{stamp}"
    return [write_csv(summary, base.with_suffix(".csv"), lang), write_pdf(summary, base.with_suffix(".pdf"), lang)]


def summary_of(record: dict[str, Any]) -> Summary | None:
    """The closing summary of an outbox ``receipt`` record (``outbox.receipts.receipts``), None while open."""
    return Summary.from_dict(record["summary"]) if record.get("summary") else None


def _role_word(role: str | None, lang: str) -> str:
    """The device's role as the screen names it ("quai PUI", not ``pui_dock``); "-" when it has none."""
    from fmd_terminal.i18n import Translator

    return Translator(lang)("role." + role) if role else "-"
