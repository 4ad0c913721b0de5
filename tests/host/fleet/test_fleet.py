"""``fmd-fleet``'s levels and page (red rows first, fr/en/de). End to end with a real terminal and a
real Mosquitto: tests/terminal/ledger/test_fleet_health.py."""

from __future__ import annotations

import json

from fmd_fleet.page import render
from fmd_fleet.state import Fleet, level_of


def test_levels():
    now = 1_800_000_000
    assert level_of({"state": "offline"}, now) == ("red", ["offline"])
    assert level_of({"oldest_pending_age_s": 5 * 3600}, now)[0] == "red"
    assert level_of({"oldest_pending_age_s": 20 * 60}, now) == ("amber", ["backlog"])
    assert level_of({"alerts_today": 1}, now) == ("red", ["alerts"])
    assert level_of({"cert_expiry": now + 3 * 86400}, now) == ("red", ["expiring"])
    assert level_of({"cert_expiry": now + 20 * 86400}, now) == ("amber", ["expiring"])
    assert level_of({"alert_rate_30d": 0.001, "alert_rate_target": 0.0005}, now) == ("amber", ["alert_rate"])
    assert level_of({"pending": 0, "attention": 0, "link": {"ledger": "online"}}, now) == ("ok", [])


def test_the_page_puts_red_rows_first_in_three_languages():
    fleet = Fleet(clock=lambda: 1_800_000_000)
    fleet.update("fmd/s1/a/health", json.dumps({"state": "online", "pending": 0}).encode())
    fleet.update("fmd/s1/b/health", json.dumps({"state": "offline"}).encode())
    fleet.update("fmd/s2/c/health", json.dumps({"state": "online", "attention": 2}).encode())
    assert not fleet.update("fmd/s2/c/health", b"not json")
    assert [row[0] for row in fleet.rows()] == ["s1/b", "s2/c", "s1/a"]
    page = render(fleet.rows(), "fr")
    assert page.index("hors ligne") < page.index("à traiter") and "1 rouges, 1 orange, 1 bons" in page
    assert "offline" in render(fleet.rows(), "en") and "zu bearbeiten" in render(fleet.rows(), "de")
