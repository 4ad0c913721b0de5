"""fmd-provision sheet: every printed pack decodes to its identifier, every mode barcode to its mode.

The symbols are read back from the PDF itself: each image XObject's Flate stream (PNG-predicted
rows, as fpdf2 embeds PNG data) is wrapped into a PNG again, decoded with zxing-cpp, and the text a
scanner would send (AIM identifier + data) goes through fmd_core.decode_scan.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import zlib

import pytest
import zxingcpp
from PIL import Image

from fmd_core import decode_scan
from fmd_core.calibration import CODES as CALIBRATION_CODES
from fmd_core.calibration import infer_text
from fmd_core.modes import MODE_CODES, is_admin_scan, is_close_scan, is_report_scan, mode_of_scan
from fmd_provision import sheet


def seed(tmp_path, market, packs, seed_value):
    """Packs from the real simulator command, as a pharmacy technician would make them."""
    result = subprocess.run(
        [sys.executable, "-m", "fmd_simulator.cli", "seed", "--packs", str(packs), "--seed", str(seed_value),
         "--market", market],
        capture_output=True, text=True, check=True, timeout=60,
    )
    path = tmp_path / f"{market}.jsonl"
    path.write_text(result.stdout)
    return path


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def pdf_images(pdf_bytes):
    """The grey images embedded in a PDF, rebuilt as PIL images from their Flate/PNG-predictor streams."""
    images = []
    for match in re.finditer(rb"/Subtype /Image", pdf_bytes):
        start = pdf_bytes.rfind(b"obj\n<<", 0, match.start())
        stream = pdf_bytes.find(b">>\nstream\n", match.start())
        header = pdf_bytes[start:stream].decode("latin-1")
        assert "/DeviceGray" in header and "/Predictor 15" in header, header
        width = int(re.search(r"/Width (\d+)", header).group(1))
        height = int(re.search(r"/Height (\d+)", header).group(1))
        length = int(re.search(r"/Length (\d+)", header).group(1))
        data = pdf_bytes[stream + len(b">>\nstream\n"): stream + len(b">>\nstream\n") + length]
        png = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
               + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))
        images.append(Image.open(io.BytesIO(png)).convert("L"))
    return images


def scanned_text(image):
    """What a scanner with AIM identifiers on delivers for the symbol in ``image``."""
    result = zxingcpp.read_barcode(image, text_mode=zxingcpp.TextMode.Plain)
    assert result is not None and result.valid
    return result.symbology_identifier + result.text


def test_every_printed_pack_and_mode_decodes(provision, tmp_path):
    fr = seed(tmp_path, "FR", 24, 11)
    de = seed(tmp_path, "DE", 8, 11)
    packs = tmp_path / "packs.jsonl"
    packs.write_text(fr.read_text() + de.read_text())
    expected = [json.loads(line) for line in packs.read_text().splitlines()]
    out = tmp_path / "sheet.pdf"
    run = provision("sheet", "--packs", packs, "--out", out)
    assert run.code == 0, run.err
    assert "32 packs, 8 mode barcodes, 2 calibration codes" in run.out
    images = pdf_images(out.read_bytes())
    assert len(images) == len(expected) + len(MODE_CODES) + 3 + len(CALIBRATION_CODES)
    for pack, image in zip(expected, images[: len(expected)], strict=True):
        text = scanned_text(image)
        assert text[:3] == pack["raw"][:3]  # ]d2 GS1 Data Matrix, ]d1 IFA
        decoded = decode_scan(text)
        assert decoded.ok, decoded.message
        assert (decoded.product_code, decoded.serial, decoded.batch, decoded.expiry_raw) == (
            pack["productCode"], pack["serial"], pack["batch"], pack["expiry"])
    modes = [mode_of_scan(scanned_text(image)) for image in images[len(expected):len(expected) + len(MODE_CODES)]]
    assert modes == list(MODE_CODES)
    assert is_report_scan(scanned_text(images[len(expected) + len(MODE_CODES)]))  # the quarter's figure on request
    assert is_admin_scan(scanned_text(images[len(expected) + len(MODE_CODES) + 1]))  # the console's address
    assert is_close_scan(scanned_text(images[len(expected) + len(MODE_CODES) + 2]))  # a receipt's closing (issue 17)


def test_pack_symbols_are_square_ecc200():
    image = sheet.pack_symbol("]d201034009523213021728110810Z8182Q9\x1d218otDzbRwmLkJj4")
    assert image.width == image.height


def test_brackets_in_a_serial_survive():
    raw = "]d20103400952321302172811081012AB\x1d21A(B)C"
    text = scanned_text(sheet.pack_symbol(raw))
    decoded = decode_scan(text)
    assert decoded.ok and decoded.serial == "A(B)C"


def test_sheet_without_packs_has_modes_and_the_vendor_notice(provision, tmp_path):
    out = tmp_path / "modes.pdf"
    run = provision("sheet", "--out", out, "--lang", "en")
    assert run.code == 0, run.err
    assert len(pdf_images(out.read_bytes())) == len(MODE_CODES) + 3 + len(CALIBRATION_CODES)


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_the_calibration_codes_are_printed_and_scan_as_c1_and_c2(provision, tmp_path, lang):
    """Decoded back from the PDF's own images, as a scanner with AIM identifiers on delivers them: each is
    exactly the code fmd_core.calibration defines, the calibration recognises it, and it is no pack."""
    out = tmp_path / "setup.pdf"
    run = provision("sheet", "--out", out, "--no-modes", "--lang", lang)
    assert run.code == 0, run.err
    assert "0 mode barcodes, 2 calibration codes" in run.out
    texts = [scanned_text(image) for image in pdf_images(out.read_bytes())]
    assert texts == [CALIBRATION_CODES["C1"], CALIBRATION_CODES["C2"]]
    assert [infer_text(text).code for text in texts] == ["C1", "C2"]
    assert not any(decode_scan(text).ok for text in texts)


def test_no_setup_leaves_the_calibration_codes_out(provision, tmp_path):
    out = tmp_path / "modes.pdf"
    run = provision("sheet", "--out", out, "--no-setup")
    assert run.code == 0, run.err
    assert "0 calibration codes" in run.out
    texts = [scanned_text(image) for image in pdf_images(out.read_bytes())]
    assert [mode_of_scan(text) for text in texts[:-3]] == list(MODE_CODES) and is_report_scan(texts[-3])
    assert is_admin_scan(texts[-2]) and is_close_scan(texts[-1])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON object"),
        ("[1, 2]", "expected a JSON object"),
        ('{"productCode": "03400952321302", "raw": "]d2x"}', "missing or not text: serial, batch, expiry"),
        ('{"productCode": "1", "serial": "2", "batch": "3", "expiry": "4", "raw": "]Q301034"}',
         "is not a Data Matrix scan"),
        ('{"productCode": "03400952321302", "serial": "S", "batch": "B", "expiry": "281108", '
         '"raw": "]d201034009523213031728110810B\\u001d21S"}', "raw does not decode"),
        ('{"productCode": "03400952321302", "serial": "OTHER", "batch": "B", "expiry": "281108", '
         '"raw": "]d201034009523213021728110810B\\u001d21S"}', "but the line says"),
    ],
)
def test_invalid_pack_lines_are_refused_and_nothing_written(provision, tmp_path, line, message):
    good = seed(tmp_path, "FR", 2, 5).read_text()
    packs = tmp_path / "packs.jsonl"
    packs.write_text(good + line + "\n")
    out = tmp_path / "sheet.pdf"
    run = provision("sheet", "--packs", packs, "--out", out)
    assert run.code == 3
    assert run.err.startswith(f"fmd-provision: {packs}:3: ")
    assert message in run.err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FR.jsonl", "packs.jsonl"]


def test_missing_pack_file(provision, tmp_path):
    run = provision("sheet", "--packs", tmp_path / "none.jsonl", "--out", tmp_path / "s.pdf")
    assert run.code == 3
    assert "does not exist" in run.err
