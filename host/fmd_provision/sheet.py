"""``fmd-provision sheet``: a printable PDF of test packs, mode barcodes and the scanner set-up.

- **Test packs** come from a JSON-lines file of ``fmd-simulator seed`` (fields ``productCode``,
  ``serial``, ``batch``, ``expiry``, ``raw``). Each line is checked before anything is drawn:
  ``fmd_core.decode_scan(raw)`` must decode to the line's own pack identifier (Reg. 2016/161 Art. 4).
  ``]d2`` codes become GS1 Data Matrix symbols with FNC1 first (GS1 General Specifications 5.6.3),
  ``]d1`` codes (IFA, ISO/IEC 15434 format 06) plain Data Matrix symbols. Symbols are square ECC 200:
  zxing-cpp picks a rectangular DMRE size (e.g. 8x64) for short data unless told otherwise, and DMRE
  is neither in GS1's healthcare recommendation nor read by every scanner.
- **Mode barcodes** are Code 128 symbols of ``fmd_core.modes.MODE_CODES`` (the terminal ignores the
  ``]C0`` prefix the scanner sends), then the quarter's report code and the admin code (the web
  console's address on the screen), which leave the mode as it is.
- **Calibration codes** ``C1`` and ``C2`` of ``fmd_core.calibration`` (C1 a GS1 Data Matrix with every
  character of set 82 and a GS, C2 an ISO/IEC 15434 envelope with RS and EOT), printed with the
  scanner set-up: scanning them (``fmd-terminal calibrate``, or C1 on the terminal) tells the terminal
  how the scanner sends every character. Made by the same encoder as the packs.
- **Scanner set-up** lists the settings of SCANNERS-AND-HARDWARE.md section 3.1. Vendors' programming
  barcodes are proprietary and differ by model and firmware, so this sheet prints **none**: it says
  which guide to print them from. Nothing here pretends to be a vendor code.

The symbols are made once (``plan``) and the same images are embedded in the PDF (``write_pdf``), so
the tests decode exactly what is printed. The PDF is written to a temporary file and renamed.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path
from typing import Any

from fmd_provision.errors import InputError
from fmd_provision.files import read_input_file, write_atomic

MODULE_MM = 0.5  # X-dimension of the printed symbols: inside GS1's healthcare range 0.254-0.990 mm
PIXELS_PER_MODULE = 8
PAGE_MARGIN_MM = 12.0
COLUMNS = 3

LABELS = {
    "fr": {
        "title": "Terminal FMD : feuille de test",
        "packs": "Boîtes de test (simulateur, jamais de vraies boîtes)",
        "modes": "Codes de mode (scanner pour changer de mode)",
        "setup": "Réglages du scanner",
        "calibration": "Codes de calibration (à scanner après tout réglage du scanner)",
        "C1": "C1 : GS1, 82 caractères + GS",
        "C2": "C2 : ISO/IEC 15434, RS + EOT",
        "serial": "N° série",
        "batch": "Lot",
        "expiry": "Exp.",
        "vendor": (
            "Les codes de programmation des scanners sont propres à chaque fabricant et modèle : "
            "imprimez-les depuis le guide de programmation du scanner (Zebra 123Scan, Honeywell EZConfig, "
            "Datalogic Aladdin, Newland EasySet). Cette feuille n'en contient aucun."
        ),
    },
    "en": {
        "title": "FMD terminal: test sheet",
        "packs": "Test packs (simulator, never real packs)",
        "modes": "Mode barcodes (scan to change mode)",
        "setup": "Scanner settings",
        "calibration": "Calibration codes (scan after any change to the scanner)",
        "C1": "C1: GS1, 82 characters + GS",
        "C2": "C2: ISO/IEC 15434, RS + EOT",
        "serial": "SN",
        "batch": "Batch",
        "expiry": "Exp.",
        "vendor": (
            "Scanner programming barcodes are specific to each maker and model: print them from the "
            "scanner's programming guide (Zebra 123Scan, Honeywell EZConfig, Datalogic Aladdin, "
            "Newland EasySet). This sheet contains none."
        ),
    },
    "de": {
        "title": "FMD-Terminal: Testblatt",
        "packs": "Testpackungen (Simulator, niemals echte Packungen)",
        "modes": "Modus-Codes (scannen, um den Modus zu wechseln)",
        "setup": "Scanner-Einstellungen",
        "calibration": "Kalibriercodes (nach jeder Scanner-Einstellung scannen)",
        "C1": "C1: GS1, 82 Zeichen + GS",
        "C2": "C2: ISO/IEC 15434, RS + EOT",
        "serial": "SN",
        "batch": "Charge",
        "expiry": "Verw.",
        "vendor": (
            "Programmiercodes sind je Hersteller und Modell verschieden: drucken Sie sie aus dem "
            "Programmierhandbuch des Scanners (Zebra 123Scan, Honeywell EZConfig, Datalogic Aladdin, "
            "Newland EasySet). Dieses Blatt enthält keine."
        ),
    },
}

MODE_NAMES = {
    "fr": {"dispense": "Délivrer", "verify": "Vérifier", "undo": "Annuler", "destroy": "Détruire",
           "receive": "Réception", "report": "Trimestre : désactivations",
           "admin": "Adresse de la console web", "close": "Clore la réception"},
    "en": {"dispense": "Dispense", "verify": "Verify", "undo": "Undo", "destroy": "Destroy",
           "receive": "Receive", "report": "Quarter: decommissions",
           "admin": "Web console address", "close": "Close the receipt"},
    "de": {"dispense": "Abgabe", "verify": "Prüfen", "undo": "Rückgängig", "destroy": "Vernichten",
           "receive": "Wareneingang", "report": "Quartal: Ausbuchungen",
           "admin": "Adresse der Web-Konsole", "close": "Wareneingang abschließen"},
}

# SCANNERS-AND-HARDWARE.md section 3.1: (setting, value) per language.
SETTINGS = {
    "fr": [
        ("Interface", "USB-CDC (port série) ; sinon clavier USB HID"),
        ("Préfixe AIM (Code ID)", "activé"),
        ("Suffixe", "CR seul"),
        ("Pays du clavier (mode clavier)", "US"),
        ("Séparateur GS (mode clavier)", "caractère de contrôle en Ctrl+touche"),
        ("Verr. Maj. de l'hôte", "ignoré"),
        ("Délai entre caractères", "minimum"),
    ],
    "en": [
        ("Interface", "USB-CDC (serial port); otherwise USB HID keyboard"),
        ("AIM prefix (Code ID)", "on"),
        ("Suffix", "CR only"),
        ("Keyboard country (wedge)", "US"),
        ("GS transmission (wedge)", "control character as Ctrl+key"),
        ("Host Caps Lock", "ignored (override on)"),
        ("Inter-character delay", "minimum"),
    ],
    "de": [
        ("Schnittstelle", "USB-CDC (seriell); sonst USB-HID-Tastatur"),
        ("AIM-Präfix (Code ID)", "an"),
        ("Suffix", "nur CR"),
        ("Tastaturland (Tastaturmodus)", "US"),
        ("GS-Übertragung (Tastaturmodus)", "Steuerzeichen als Strg+Taste"),
        ("Feststelltaste des Hosts", "ignorieren"),
        ("Verzögerung zwischen Zeichen", "minimal"),
    ],
}


class Symbol:
    """One printed symbol: the image embedded in the PDF and the text lines under it."""

    __slots__ = ("image", "caption", "kind")

    def __init__(self, image: Any, caption: list[str], kind: str) -> None:
        self.image = image
        self.caption = caption
        self.kind = kind


def read_packs(path: Path) -> list[dict[str, str]]:
    """The packs of a seed file; a line that is not a well-formed, self-consistent pack is refused."""
    from fmd_core import decode_scan

    data = read_input_file(path, "pack file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"pack file {str(path)!r} is not UTF-8 text") from None
    packs = []
    year = time.gmtime().tm_year
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            pack = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: not a JSON object ({error.msg})") from None
        if not isinstance(pack, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(pack).__name__}")
        missing = [k for k in ("productCode", "serial", "batch", "expiry", "raw") if not isinstance(pack.get(k), str)]
        if missing:
            raise InputError(f"{where}: missing or not text: {', '.join(missing)}")
        raw = pack["raw"]
        if raw[:3] not in ("]d2", "]d1"):
            raise InputError(f"{where}: raw {raw[:12]!r} is not a Data Matrix scan (expected ]d2 or ]d1)")
        decoded = decode_scan(raw, current_year=year)
        if not decoded.ok:
            raise InputError(f"{where}: raw does not decode: {decoded.message}")
        got = (decoded.product_code, decoded.serial, decoded.batch, decoded.expiry_raw)
        expected = (pack["productCode"], pack["serial"], pack["batch"], pack["expiry"])
        if got != expected:
            raise InputError(f"{where}: raw decodes to {got!r}, but the line says {expected!r}")
        packs.append(pack)
    if not packs:
        raise InputError(f"pack file {str(path)!r} holds no pack")
    return packs


def _escape_hri(value: str) -> str:
    """Brackets inside a value are escaped for zxing-cpp's bracketed GS1 input (set 82 allows them)."""
    return value.replace("(", "\\(").replace(")", "\\)")


def gs1_bracketed(element_string: str) -> str:
    """``]d2`` data (AIs, GS separators) -> ``(01)...(21)...`` for the GS1 encoder (GenSpecs 3.2)."""
    from fmd_core.gs1 import parse_element_string

    elements, _last = parse_element_string(element_string, time.gmtime().tm_year)
    return "".join(f"({ai}){_escape_hri(value)}" for ai, value in elements.items())


def _image(barcode: Any) -> Any:
    from PIL import Image

    bitmap = barcode.to_image(scale=PIXELS_PER_MODULE)
    view = memoryview(bitmap)
    height, width = view.shape or (0, 0)
    return Image.frombytes("L", (width, height), bytes(view))


def pack_symbol(raw: str) -> Any:
    """The Data Matrix image that makes a scanner deliver ``raw`` (AIM prefix included)."""
    import zxingcpp

    fmt = zxingcpp.BarcodeFormat.DataMatrix
    if raw.startswith("]d2"):
        barcode = zxingcpp.create_barcode(gs1_bracketed(raw[3:]), fmt, gs1=True, force_square=True)
    else:
        barcode = zxingcpp.create_barcode(raw[3:], fmt, force_square=True)
    return _image(barcode)


def mode_symbol(text: str) -> Any:
    import zxingcpp

    return _image(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128))


def plan(packs: list[dict[str, str]], lang: str, modes: bool, calibration: bool = True) -> list[Symbol]:
    """Every symbol of the sheet, in print order: packs, mode barcodes, calibration codes."""
    labels = LABELS[lang]
    symbols = []
    for pack in packs:
        caption = [
            pack["productCode"],
            f"{labels['serial']} {pack['serial']}",
            f"{labels['batch']} {pack['batch']}  {labels['expiry']} {pack['expiry']}",
        ]
        symbols.append(Symbol(pack_symbol(pack["raw"]), caption, "pack"))
    if modes:
        from fmd_core.modes import ADMIN_CODE, CLOSE_CODE, MODE_CODES, REPORT_CODE

        # the mode codes, then the codes showing the quarter's figure (issue 14, item 6) and the web
        # console's address as a QR code (issue 15) on the screen, neither changing the mode, then the
        # code closing a receiving session (issue 17)
        for mode, text in (*MODE_CODES.items(), ("report", REPORT_CODE), ("admin", ADMIN_CODE), ("close", CLOSE_CODE)):
            symbols.append(Symbol(mode_symbol(text), [MODE_NAMES[lang][mode], text], "mode"))
    if calibration:
        from fmd_core.calibration import CODES

        for name, code in CODES.items():
            symbols.append(Symbol(pack_symbol(code), [labels[name]], "calibration"))
    return symbols


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: anything else becomes '?' rather than failing the sheet."""
    return text.encode("latin-1", "replace").decode("latin-1")


def write_pdf(symbols: list[Symbol], out: Path, lang: str, setup: bool) -> int:
    """Lay the symbols out on A4 pages and write ``out``; return the number of pages."""
    from fpdf import FPDF

    labels = LABELS[lang]
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creator("fmd-provision")
    pdf.set_title(labels["title"])
    pdf.set_auto_page_break(False)
    pdf.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(labels["title"]), new_x="LMARGIN", new_y="NEXT")
    cell_w = (pdf.w - 2 * PAGE_MARGIN_MM) / COLUMNS
    headings = {"pack": "packs", "mode": "modes", "calibration": "calibration"}
    for kind, heading in headings.items():
        group = [s for s in symbols if s.kind == kind]
        if not group:
            continue
        _heading(pdf, labels[heading])
        column = 0
        row_h = 0.0
        for symbol in group:
            width_mm = symbol.image.width / PIXELS_PER_MODULE * MODULE_MM
            height_mm = symbol.image.height / PIXELS_PER_MODULE * MODULE_MM
            if kind == "mode":  # a Code 128 row needs height to be scanned easily
                height_mm = max(height_mm, 12.0)
            cell_h = height_mm + 3.5 * len(symbol.caption) + 4
            if column == 0 and pdf.get_y() + cell_h > pdf.h - PAGE_MARGIN_MM:
                pdf.add_page()
            x = PAGE_MARGIN_MM + column * cell_w
            y = pdf.get_y()
            buffer = io.BytesIO()
            symbol.image.save(buffer, format="PNG")
            pdf.image(buffer, x=x, y=y, w=min(width_mm, cell_w - 2), h=height_mm)
            pdf.set_font("helvetica", "", 7)
            for index, line in enumerate(symbol.caption):
                pdf.set_xy(x, y + height_mm + 1 + 3.5 * index)
                pdf.cell(cell_w - 2, 3.5, _latin1(line))
            row_h = max(row_h, cell_h)
            column += 1
            if column == COLUMNS:
                column = 0
                pdf.set_xy(PAGE_MARGIN_MM, y + row_h)
                row_h = 0.0
            else:
                pdf.set_xy(PAGE_MARGIN_MM, y)
        if column:
            pdf.set_xy(PAGE_MARGIN_MM, pdf.get_y() + row_h)
    if setup:
        if pdf.get_y() + 70 > pdf.h - PAGE_MARGIN_MM:
            pdf.add_page()
        _heading(pdf, labels["setup"])
        pdf.set_font("helvetica", "", 9)
        for setting, value in SETTINGS[lang]:
            pdf.cell(70, 5, _latin1(setting))
            pdf.cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("helvetica", "B", 9)
        pdf.multi_cell(0, 4.5, _latin1(labels["vendor"]), border=1, padding=2)
    write_atomic(out, bytes(pdf.output()))
    return int(pdf.page_no())


def _heading(pdf: Any, text: str) -> None:
    pdf.set_font("helvetica", "B", 11)
    pdf.ln(3)
    pdf.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="PDF file to write")
    parser.add_argument("--packs", type=Path, help="JSON lines from `fmd-simulator seed` (test packs)")
    parser.add_argument("--no-modes", action="store_true", help="leave out the mode barcodes")
    parser.add_argument("--no-setup", action="store_true",
                        help="leave out the scanner settings and the calibration codes")
    parser.add_argument("--lang", default="fr", choices=sorted(LABELS), help="language of the sheet")


def execute(args: argparse.Namespace) -> int:
    packs = read_packs(args.packs) if args.packs else []
    symbols = plan(packs, args.lang, modes=not args.no_modes, calibration=not args.no_setup)
    if not symbols and args.no_setup:
        raise InputError("nothing to print: give --packs, or leave the modes or the settings in")
    pages = write_pdf(symbols, args.out, args.lang, setup=not args.no_setup)
    counts = {kind: sum(s.kind == kind for s in symbols) for kind in ("pack", "mode", "calibration")}
    print(f"{args.out}: {counts['pack']} packs, {counts['mode']} mode barcodes, {counts['calibration']} calibration "
          f"codes, {pages} pages")
    return 0
