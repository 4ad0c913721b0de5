"""The web console in a real browser (issue 15): headless Chromium through the real console server of
a real ``fmd-terminal run``, its SQLite outbox and the simulator.

A pharmacist's day: first use (setup code, then the admin password), log in, see a scan recorded
while the service is down appear on the status page without reloading, see the late alert when the
service answers, resolve it (who and why recorded in the outbox), download the export and read it
back, change the language. The refusals: wrong password, an expired session, a form without its
CSRF token, another terminal's cookie, a copied cookie from another browser, too many tries.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import sqlite3
import time

import pytest
import requests
from console_browser import RunningTerminal, by_id, choose, first_use_and_login, login, shoot, wait_for
from two_protocols import seed

from fmd_terminal.commands.export import FrenchSpreadsheet

_seeds = itertools.count(47000)
@pytest.fixture
def terminal(tmp_path, mtls_sim):
    running = RunningTerminal(tmp_path, mtls_sim)
    yield running
    running.stop()


def test_a_pharmacists_day_in_the_console(browser, terminal, mtls_sim, faults):
    (pack,) = seed(mtls_sim, 1, next(_seeds))
    unknown = pack["raw"][:-3] + "ZZZ"  # a serial the national system does not know: a late alert
    print("T0", time.monotonic())
    first_use_and_login(browser, terminal, "Marie")
    assert by_id(browser, "pending").text == "0"
    shoot(browser, "status")

    faults({"outage": True, "retryAfterSeconds": 1})  # the service says: back in a second
    terminal.scan(unknown)
    wait_for(lambda: by_id(browser, "pending").text == "1", "the pending op on the status page, without reload")
    assert "opération" in by_id(browser, "oldest").text
    shoot(browser, "status-pending")

    # the counter's answer came: amber, recorded offline (the live wait is over); then the service is back
    wait_for(lambda: "recorded_offline" in (terminal.dir / "terminal.log").read_text(), "the offline verdict")
    assert by_id(browser, "pending").text == "1"
    faults({})
    alert = wait_for(lambda: [li.text for li in browser.find_elements("css selector", "#alerts li")],
                     "the late alert on the status page")
    assert pack["productCode"] in alert[0] and unknown[-8:] in alert[0]
    # the service refused it after the fact: once reconciled, it waits for a person
    wait_for(lambda: "needs_attention" in by_id(browser, "alerts").text and by_id(browser, "attention").text == "1",
             "the op needing a person")
    shoot(browser, "status-late-alert")

    browser.get(terminal.base + "/attention")
    shoot(browser, "attention")
    (section,) = browser.find_elements("css selector", "section[id^=op-]")
    seq = int(section.get_attribute("id").removeprefix("op-"))
    by_id(browser, f"note-{seq}").send_keys("boîte remise en stock")
    choose(browser, f"reason-{seq}", "never_left_pharmacy")
    by_id(browser, f"cancel-{seq}").click()
    assert f"Opération {seq}" in by_id(browser, "message").text
    shoot(browser, "attention-resolved")
    db = sqlite3.connect(terminal.outbox)
    state, who, resolution = db.execute("SELECT state, resolved_by, resolution FROM op WHERE seq = ?", (seq,)).fetchone()
    db.close()
    assert (state, who, resolution) == ("cancelled", "Marie", "cancel:never_left_pharmacy")

    browser.get(terminal.base + "/history?product_code=" + pack["productCode"])
    assert pack["productCode"] in by_id(browser, "ops").text
    shoot(browser, "history")

    browser.get(terminal.base + "/export")
    shoot(browser, "export")
    by_id(browser, "csv").click()
    exported = wait_for(lambda: [p for p in browser.downloads.glob("*export.csv")], "the CSV download")
    text = exported[0].read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), dialect=FrenchSpreadsheet))
    assert [(r["seq"], r["state"], r["resolved_by"]) for r in rows] == [(str(seq), "cancelled", "Marie")]

    for page in ("calibration", "logs"):
        browser.get(terminal.base + "/" + page)
        shoot(browser, page)
    assert "cancel" in by_id(browser, "audit").text and "Marie" in by_id(browser, "audit").text

    browser.get(terminal.base + "/settings")
    choose(browser, "lang", "de")
    choose(browser, "mode", "verify")
    by_id(browser, "save").click()
    assert by_id(browser, "message").text == "Einstellungen gespeichert."
    shoot(browser, "settings-de")
    browser.get(terminal.base + "/")
    assert browser.find_element("css selector", "h1").text == "Status"
    wait_for(lambda: by_id(browser, "mode").text == "verify", "the terminal in verify mode")
    actions = [entry["action"] for entry in terminal.audit()]
    assert actions[:2] == ["password_set", "login"] and "cancel" in actions and "settings" in actions
    assert all(entry["user"] == "Marie" for entry in terminal.audit()[1:])


def test_the_console_refuses(browser, tmp_path, mtls_sim, pki):
    """Wrong password, expired session, missing CSRF token, another terminal's cookie, a copied cookie."""
    cert, key = pki.server_files(name="console")
    os.chmod(key, 0o600)  # the device key, owner only (the console refuses it otherwise)
    (tmp_path / "b").mkdir()
    other = RunningTerminal(tmp_path / "b", mtls_sim, session_minutes=0.05,  # 3 s
                            tls=(cert, key))
    (tmp_path / "a").mkdir()
    this = RunningTerminal(tmp_path / "a", mtls_sim)
    try:
        # the HTTPS console serves the configured certificate
        assert requests.get(other.base + "/login", verify=pki.ca_bundle, timeout=10).status_code == 200
        first_use_and_login(browser, other, "Paul")
        assert browser.find_element("css selector", "h1").text == "État"
        time.sleep(4)  # its sessions end after 3 s without a request
        browser.get(other.base + "/attention")
        assert "/login" in browser.current_url and "Session expirée" in by_id(browser, "message").text
        shoot(browser, "refused-expired")
        login(browser, "Paul", "not the password")
        assert "incorrect" in by_id(browser, "message").text
        shoot(browser, "refused-password")
        browser.delete_all_cookies()

        first_use_and_login(browser, this, "Paul")
        assert browser.find_element("css selector", "h1").text == "État"
        cookie = browser.get_cookie("fmd_console")["value"]
        agent = browser.execute_script("return navigator.userAgent")
        # a second terminal's console does not know this terminal's cookie
        elsewhere = requests.get(other.base + "/", cookies={"fmd_console": cookie}, headers={"User-Agent": agent},
                                 verify=pki.ca_bundle, timeout=10, allow_redirects=False)
        assert elsewhere.status_code == 303 and elsewhere.headers["Location"].startswith("/login")

        # a form without its CSRF token
        browser.get(this.base + "/settings")
        browser.execute_script("document.querySelectorAll('input[name=csrf]').forEach(function(e){e.remove();})")
        by_id(browser, "save").click()
        assert "Formulaire périmé" in browser.find_element("css selector", ".refused").text
        shoot(browser, "refused-csrf")
        assert this.audit()[-1]["action"] == "refused_csrf"
        assert requests.post(this.base + "/settings", data={"mode": "verify", "lang": "fr"}, timeout=10,
                             headers={"User-Agent": agent}, cookies={"fmd_console": cookie},
                             allow_redirects=False).status_code == 403

        # a setting the configuration file would refuse is refused alike (Config.validate)
        browser.get(this.base + "/settings")
        browser.execute_script("document.querySelector('#mode option:checked').value = 'nonsense'")
        by_id(browser, "save").click()
        assert "nonsense" in browser.find_element("css selector", ".refused").text
        assert this.audit()[-1]["action"] == "refused_settings"

        # the same cookie from another browser: refused, and the session ends for both
        copied = requests.get(this.base + "/", cookies={"fmd_console": cookie}, timeout=10,
                              headers={"User-Agent": "another browser"}, allow_redirects=False)
        assert copied.status_code == 303 and "why=other_browser" in copied.headers["Location"]
        browser.get(this.base + "/")
        assert "/login" in browser.current_url

        # too many wrong passwords: wait
        session = requests.Session()
        answers = []
        for _ in range(7):
            session.get(this.base + "/login", timeout=10)
            answers.append(session.post(this.base + "/login", timeout=10, data={
                "csrf": session.cookies["fmd_console_login"], "user": "x", "password": "guess"}).status_code)
        assert answers[:5] == [403] * 5 and answers[5:] == [429, 429]
    finally:
        this.stop()
        other.stop()


def test_settings_are_saved_in_the_settings_file_and_kept_across_a_restart(browser, terminal):
    """Mode and language chosen on the settings page: at once on the terminal's screen, saved in the
    terminal's settings file in its state folder, and still there after the terminal restarts. The
    configuration file is read-only as deployed (0440 in a 0550 folder) and the console never writes it.
    A scanner URL the configuration check refuses is refused with that check's own message."""
    import stat

    from fmd_terminal.i18n import Translator

    original = terminal.config.read_bytes()
    terminal.config.chmod(0o440)
    terminal.config.parent.chmod(0o550)
    before = terminal.config.stat()
    first_use_and_login(browser, terminal, "Marie")
    browser.get(terminal.base + "/settings")
    assert by_id(browser, "scanner").get_attribute("value") == "stdin://"
    saved_in = by_id(browser, "saved-in").text
    assert str(terminal.state / "settings.toml") in saved_in and str(terminal.config) in saved_in

    # a scanner URL no adapter serves: the same line as the configuration check, in the page's language
    by_id(browser, "scanner").clear()
    by_id(browser, "scanner").send_keys("nope://x")
    by_id(browser, "save").click()
    refused = browser.find_element("css selector", ".refused").text
    from fmd_terminal.config_rules import problems

    assert refused == problems(terminal.load(scanner="nope://x"))[0].in_language("fr") and "nope://x" in refused
    assert not (terminal.state / "settings.toml").exists() and terminal.audit()[-1]["action"] == "refused_settings"
    assert by_id(browser, "scanner").get_attribute("value") == "nope://x"  # kept in the form, to correct
    assert not browser.find_elements("id", "scanner-pending")  # nothing saved: nothing pending
    shoot(browser, "settings-refused")

    browser.get(terminal.base + "/settings")
    choose(browser, "mode", "verify")
    choose(browser, "lang", "de")
    by_id(browser, "indicators").clear()
    by_id(browser, "indicators").send_keys("none://")
    by_id(browser, "save").click()
    assert by_id(browser, "message").text == "Einstellungen gespeichert."
    assert "recording://" in by_id(browser, "indicators-pending").text  # in use until the restart
    assert by_id(browser, "mode").get_attribute("value") == "verify"  # the page shows what was saved
    shoot(browser, "settings-saved")
    settings = terminal.state / "settings.toml"
    saved = settings.read_text()
    assert 'lang = "de"' in saved and 'mode = "verify"' in saved and 'indicators = "none://"' in saved
    assert "scanner" not in saved.split("\n\n", 1)[1]  # only what the person changed
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert terminal.config.read_bytes() == original  # the installer's file: untouched
    after = terminal.config.stat()
    assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode)) == (before.st_ino, before.st_mtime_ns, 0o440)
    entry = terminal.audit()[-1]
    assert (entry["user"], entry["action"], entry["mode"], entry["lang"]) == ("Marie", "settings", "verify", "de")
    german = Translator("de")
    wait_for(lambda: german("mode_switched") in terminal.screen.read_text(), "the terminal's screen in German")
    assert german("mode.verify") in terminal.screen.read_text().splitlines()[-3]  # in verify mode

    terminal.restart()
    assert terminal.load().validate().indicators == "none://"
    assert terminal.config.read_bytes() == original
    browser.delete_all_cookies()
    browser.get(terminal.base + "/")
    assert browser.find_element("css selector", "html").get_attribute("lang") == "de"  # the console's default
    login(browser, "Marie")
    wait_for(lambda: by_id(browser, "mode").text == "verify", "the terminal in verify mode after the restart")
    assert browser.find_element("css selector", "h1").text == "Status"
    browser.get(terminal.base + "/settings")
    assert by_id(browser, "lang").get_attribute("value") == "de" and by_id(browser, "mode").get_attribute("value") == "verify"
    assert not browser.find_elements("id", "indicators-pending")  # now in use
    shoot(browser, "settings-after-restart")
    wait_for(lambda: german("ready") in terminal.screen.read_text(), "the German screen after the restart")
    # the mode sheet's admin code: the console's address on the terminal's screen (text and QR code)
    terminal.scan("]C0FMD-MODE-ADMIN")
    wait_for(lambda: terminal.base + "/" in terminal.screen.read_text(), "the console's address on the screen")
    assert "▀" in terminal.screen.read_text().split(terminal.base + "/")[-1]  # its QR code below it
