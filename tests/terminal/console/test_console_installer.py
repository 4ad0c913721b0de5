"""The console's installer pages in a real browser (issue 15): headless Chromium through the real console
of a real ``fmd-terminal run`` and the real simulator.

- Status: the certificate, password and terms health, each with its days and what to do, in the light the
  idle screen and ``doctor`` give it (amber within 30 days, red once past, green otherwise), following the
  terminal live when an account date changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from console_browser import RunningTerminal, by_id, first_use_and_login, shoot, wait_for


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
