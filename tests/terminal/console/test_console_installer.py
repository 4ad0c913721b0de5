"""The console's installer pages in a real browser (issue 15): headless Chromium through the real console
of a real ``fmd-terminal run`` and the real simulator.

- Status: the certificate, password and terms health, each with its days and what to do, in the light the
  idle screen and ``doctor`` give it (amber within 30 days, red once past, green otherwise), following the
  terminal live when an account date changes.
- Enrolment: a terminal with no credentials waits on its enrolment screen; the installer types the code
  of the subscription page in the console, follows the steps and sees the result; a mistyped code and a
  used one are refused with the screen's one line; the code itself is in no page, log or audit line.
- Logs of the day: a DEBUG line of today while the terminal logs at INFO, filtered by level in the page,
  downloaded as text, with secrets masked.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
import requests
from console_browser import SECRET, RunningTerminal, by_id, choose, first_use_and_login, shoot, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "enrolment"))  # the subscription site of the tests
from enrol_site import LETTERS, subscription_site  # noqa: E402

from fmd_terminal.enrolment import FILES, enrol  # noqa: E402


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


@pytest.fixture(scope="module")
def site(mtls_sim):
    with subscription_site(mtls_sim) as running:
        yield running


def _code(site, letter) -> str:
    page = site.subscribe(letter)
    assert page.status_code == 200, page.text
    return site.code_of(page.text)


def _result(browser) -> str:
    """The attempt's result on the enrolment page, "" while it runs (the page reloads itself meanwhile)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return " ".join(e.text for e in browser.find_elements("id", "enrol-result"))
    except StaleElementReferenceException:  # reloaded between the lookup and the read
        return ""


def _type_code(browser, code: str) -> None:
    by_id(browser, "code").send_keys(code)
    by_id(browser, "enrol").click()


def test_an_installer_enrols_the_terminal_from_the_console(browser, tmp_path, mtls_sim, site):
    used = _code(site, LETTERS[5])
    enrol(used, str(tmp_path / "elsewhere"))  # this code enrolled another terminal: used up
    code = _code(site, LETTERS[6])
    token = code.split()[1]
    terminal = RunningTerminal(tmp_path, mtls_sim, enrolment_dir="enrolled", enrolled=False)
    try:
        first_use_and_login(browser, terminal, "Hugo (installateur)")
        assert browser.current_url.endswith("/enrol")  # nothing else to show before the enrolment
        shoot(browser, "enrol")

        mistyped = code.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
        _type_code(browser, mistyped)  # the check letter refuses it: nothing is sent
        assert wait_for(lambda: _result(browser), "the refusal") == "Code mal lu : Scannez-le à nouveau"
        assert "refused" in by_id(browser, "enrol-result").get_attribute("class")

        _type_code(browser, used)
        wait_for(lambda: _result(browser) == "Code déjà utilisé : Demandez un nouveau code",
                 "the service's refusal of a used code")
        steps = [li.get_attribute("class") for li in browser.find_elements("css selector", "#steps li")]
        assert steps == ["green", "green", "red", "", ""]  # the service refused the request
        shoot(browser, "enrol-refused")
        assert not (tmp_path / "enrolled" / FILES["service"]).exists()  # nothing half-written

        _type_code(browser, code)
        result = wait_for(lambda: "Inscrit : " in _result(browser) and _result(browser), "the enrolment's result")
        assert LETTERS[6].name in result and LETTERS[6].finess in result
        assert [li.get_attribute("class") for li in browser.find_elements("css selector", "#steps li")] == ["green"] * 5
        shoot(browser, "enrol-done")
        assert (tmp_path / "enrolled" / FILES["service"]).exists()

        # the terminal now runs on its new credentials: the status page serves it
        browser.get(terminal.base + "/")
        wait_for(lambda: by_id(browser, "link").text == "en ligne", "the enrolled terminal online")
        assert by_id(browser, "health_certificate").get_attribute("class") == "green"  # two years
        browser.get(terminal.base + "/enrol")
        assert "inscrit et en service" in by_id(browser, "enrol-running").text

        audit = terminal.audit()
        enrolment = [(e["action"], e.get("reason")) for e in audit if "enrol" in e["action"]]
        assert enrolment == [("enrol_submitted", None), ("refused_enrol", "garbled"), ("enrol_submitted", None),
                             ("refused_enrol", "used"), ("enrol_submitted", None), ("enrolled", None)]
        assert all(e["user"] == "Hugo (installateur)" and e["time"] for e in audit if "enrol" in e["action"])

        # the one-time code and the new secret are in no page, log or audit line
        browser.get(terminal.base + "/logs")
        shown = browser.page_source
        secret = (tmp_path / "enrolled" / FILES["secrets"]).read_text().split('client_secret = "')[1].split('"')[0]
        for text in (shown, (terminal.state_dir / "audit.jsonl").read_text(), (tmp_path / "terminal.log").read_text()):
            assert token not in text and token[:-1] not in text and secret not in text
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
