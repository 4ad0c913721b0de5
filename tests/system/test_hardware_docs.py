"""hardware/README.md and wiring.svg agree with each other and with the terminal's default pins."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from fmd_terminal.indicators.button import DEFAULT_PIN as BUTTON_PIN
from fmd_terminal.indicators.gpio import DEFAULT_PINS

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"
# BCM GPIO -> physical pin on the 40-pin header (the same on Pi Zero 2 W, 4 and 5).
HEADER = {2: 3, 3: 5, 4: 7, 14: 8, 15: 10, 17: 11, 18: 12, 27: 13, 22: 15, 23: 16, 24: 18, 10: 19, 9: 21,
          25: 22, 11: 23, 8: 24, 7: 26, 5: 29, 6: 31, 12: 32, 13: 33, 19: 35, 16: 36, 26: 37, 20: 38, 21: 40}
GROUND = {6, 9, 14, 20, 25, 30, 34, 39}


def pin_table():
    """Rows of the README's pin table as (part, bcm, physical pins text)."""
    text = (HARDWARE / "README.md").read_text()
    section = text[text.index("## 3. Pin table"): text.index("## 4.")]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("GPIO"):
            rows.append((cells[0], int(cells[1][4:]), cells[2]))
    return rows


def test_pin_table_matches_the_terminal_defaults_and_the_header():
    rows = {part: (bcm, physical) for part, bcm, physical in pin_table()}
    expected = {"green LED": DEFAULT_PINS["green"], "amber LED": DEFAULT_PINS["amber"],
                "red LED": DEFAULT_PINS["red"], "buzzer": DEFAULT_PINS["buzzer"],
                "mode button (optional)": BUTTON_PIN, "OLED SDA": 2, "OLED SCL": 3}
    for part, bcm in expected.items():
        assert rows[part][0] == bcm, part
        assert int(rows[part][1]) == HEADER[bcm], part


def test_wiring_svg_shows_every_pin_of_the_table():
    svg = (HARDWARE / "wiring.svg").read_text()
    ET.fromstring(svg)  # well-formed
    texts = re.findall(r">([^<>]+)</text>", svg)
    labelled = {}
    for first, second in zip(texts, texts[1:], strict=False):
        if first.startswith("pin "):
            labelled[int(first[4:])] = second
    for _part, bcm, physical in pin_table():
        assert labelled[int(physical)].startswith(f"GPIO{bcm}")
    assert all(labelled[pin] == "GND" for pin in labelled if pin in GROUND)
    assert labelled[1] == "3V3" and labelled[2] == "5V"


def test_readme_links_the_diagram():
    assert "(wiring.svg)" in (HARDWARE / "README.md").read_text()
