"""The console's installer pages in a real browser (issue 15): headless Chromium through the real console
of a real ``fmd-terminal run`` and the real simulator.

- Status: the certificate, password and terms health, each with its days and what to do, in the light the
  idle screen and ``doctor`` give it (amber within 30 days, red once past, green otherwise), following the
  terminal live when an account date changes.
- Logs of the day: a DEBUG line of today while the terminal logs at INFO, filtered by level in the page,
  downloaded as text, with secrets masked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import requests
from console_browser import SECRET, RunningTerminal, by_id, choose, first_use_and_login, shoot, wait_for


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def _account(directory: Path, password_days: float, terms_accepted: bool = True) -> None:
    """``account.json`` as ``fmd-terminal account status`` leaves it: the dates the service last gave."""
    now = dt.datetime.now(dt.UTC)
    directory.mkdir(exist_ok=True)
    (directory / "account.json").write_text(json.dumps({
        "passwordChangedAt": _iso(now - dt.timedelta(days=90 - password_days)),
        "passwordExpiresAt": _iso(now + dt.timedelta(days=password_days)),
        "terms": {"version": "2019-02", "accepted": terms_accepted, "deadline": None}}))


def test_the_status_page_shows_credential_health_and_follows_it_live(browser, tmp_path, mtls_sim):
    cert = mtls_sim.pki.client_files(days=(-700, 12), name="expiring")  # accepted by the service, 12 days left
    _account(tmp_path / "enrolled", password_days=-2)  # the password expired two days ago
    terminal = RunningTerminal(tmp_path, mtls_sim, cert=cert, enrolment_dir="enrolled")
    try:
        first_use_and_login(browser, terminal, "Inès")
        certificate = by_id(browser, "health_certificate")
        assert certificate.get_attribute("class") == "amber"
        assert "expire dans 12 jour(s)" in certificate.text and "certificat client renouvelé" in certificate.text
        password = by_id(browser, "health_password")
        assert password.get_attribute("class") == "red" and "expiré" in password.text
        assert "fmd-terminal account password" in password.text  # what to do
        terms = by_id(browser, "health_terms")
        assert terms.get_attribute("class") == "green" and terms.text == "à jour"
        shoot(browser, "status-credentials")

        _account(tmp_path / "enrolled", password_days=90)  # renewed (fmd-terminal account password)
        wait_for(lambda: by_id(browser, "health_password").get_attribute("class") == "green",
                 "the renewed password on the status page, without reload")
        assert "valable jusqu'au" in by_id(browser, "health_password").text
        assert by_id(browser, "health_certificate").get_attribute("class") == "amber"
    finally:
        terminal.stop()


def test_the_logs_page_shows_every_level_of_the_day_filters_and_downloads(browser, tmp_path, mtls_sim):
    terminal = RunningTerminal(tmp_path, mtls_sim)  # ``-v``: the journal keeps INFO and above
    try:
        first_use_and_login(browser, terminal, "Marie")
        browser.get(terminal.base + "/logs")
        today = dt.date.today().isoformat()
        lines = [li.text for li in browser.find_elements("css selector", "#records li")]
        debug = [line for line in lines if " DEBUG " in line]
        assert debug and all(line.startswith(today) for line in lines)
        assert any("fmd_terminal.console.server" in line and "GET / HTTP/1.1" in line for line in debug)
        journal = (tmp_path / "terminal.log").read_text()
        assert "INFO fmd_terminal" in journal and "DEBUG" not in journal  # the journal's level is unchanged
        assert any(" INFO " in line for line in lines)
        shoot(browser, "logs-every-level")

        choose(browser, "level", "INFO")
        by_id(browser, "filter").click()
        wait_for(lambda: "level=INFO" in browser.current_url, "the filtered page")
        filtered = [li.text for li in browser.find_elements("css selector", "#records li")]
        assert not [line for line in filtered if " DEBUG " in line]
        above = [line for line in lines if " DEBUG " not in line]
        assert above and filtered[:len(above)] == above  # the same lines, and those logged since
        shoot(browser, "logs-info")

        session = requests.Session()
        session.headers["User-Agent"] = browser.execute_script("return navigator.userAgent")
        session.cookies.set("fmd_console", browser.get_cookie("fmd_console")["value"])
        download = session.get(terminal.base + "/logs.txt", timeout=30)
        assert download.status_code == 200 and download.headers["Content-Disposition"].endswith('logs.txt"')
        assert " DEBUG fmd_terminal.console.server" in download.text and "login" in download.text
        assert SECRET not in download.text
        assert terminal.audit()[-1]["action"] == "download"
    finally:
        terminal.stop()
