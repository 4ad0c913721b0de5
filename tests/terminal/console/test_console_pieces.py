"""The installer pages' pieces on their own (issue 15): credential states and their words in three
languages, the logs of the day (every level, bounded per level, secrets masked), the enrolment desk."""

import logging
import time
from types import SimpleNamespace

import pytest

from fmd_terminal.console.enrolling import Desk
from fmd_terminal.console.pages import health_line
from fmd_terminal.console.server import MASK, DayLog
from fmd_terminal.credential_health import DAY_S, LEVELS, states

NOW = 1_800_000_000.0


def _account(directory, **state):
    import json

    directory.mkdir(exist_ok=True)
    (directory / "account.json").write_text(json.dumps(state))


def _iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(seconds))


def test_each_credential_has_a_state_and_the_light_the_screen_gives_it(tmp_path, monkeypatch):
    import fmd_terminal.credential_health as health

    monkeypatch.setattr(health, "certificate_validity", lambda path: (NOW - DAY_S, NOW + 12 * DAY_S))
    _account(tmp_path, passwordExpiresAt=_iso(NOW - 60), terms={"accepted": False, "deadline": _iso(NOW + 45 * DAY_S)})
    got = states(SimpleNamespace(client_cert="cert.pem"), tmp_path, NOW)
    assert got == [("certificate", "due", 12, NOW + 12 * DAY_S), ("password", "expired", -1, NOW - 60),
                   ("terms", "ok", 45, NOW + 45 * DAY_S)]
    assert [LEVELS[state] for _, state, _, _ in got] == ["amber", "red", "green"]
    # nothing known: no certificate configured, no account status yet (unsure: amber, never green)
    assert [s for _, s, _, _ in states(SimpleNamespace(client_cert=""), tmp_path / "none", NOW)] == \
        ["none", "unknown", "unknown"]
    monkeypatch.setattr(health, "certificate_validity", lambda path: None)  # unreadable
    _account(tmp_path, terms={"accepted": True})
    assert [s for _, s, _, _ in states(SimpleNamespace(client_cert="x.pem"), tmp_path, NOW)] == \
        ["unknown", "unknown", "ok"]


@pytest.mark.parametrize(("lang", "due", "expired", "unknown"), [
    ("fr", "expire dans 12 jour(s), le 2027-01-27 — à faire : demander un certificat client renouvelé",
     "expiré depuis le", "demander les dates au service"),
    ("en", "expires in 12 day(s), on 2027-01-27 — to do: ask the national organisation", "expired on",
     "ask the service for the dates"),
    ("de", "läuft in 12 Tag(en) ab, am 2027-01-27 — zu tun: bei der nationalen Organisation", "abgelaufen am",
     "die Daten beim Dienst abfragen")])
def test_a_credential_line_says_the_state_and_what_to_do_in_three_languages(lang, due, expired, unknown):
    assert health_line({"kind": "certificate", "state": "due", "days": 12, "until": "2027-01-27 10:00:00"},
                       lang).startswith(due)
    assert health_line({"kind": "password", "state": "expired", "days": -1, "until": "2027-01-01 00:00:00"},
                       lang).startswith(expired)
    assert unknown in health_line({"kind": "terms", "state": "unknown", "days": None, "until": "", "tracked": True},
                                  lang)
    untracked = health_line({"kind": "password", "state": "unknown", "days": None, "until": "", "tracked": False},
                            lang)
    assert "enrolment_dir" in untracked and unknown not in untracked  # `account` needs the directory
    assert "fmd-terminal account password" in health_line(
        {"kind": "password", "state": "due", "days": 3, "until": "2027-01-01 00:00:00"}, lang)


def _record(level, message, created=None, *args):
    record = logging.LogRecord("fmd_terminal.test", level, __file__, 1, message, args, None)
    if created is not None:
        record.created = created
    return record


def test_the_day_log_keeps_every_level_bounded_per_level_and_only_today():
    day_log = DayLog(size=5)
    day_log.handle(_record(logging.ERROR, "the outbox is full"))
    day_log.handle(_record(logging.INFO, "yesterday", time.time() - 2 * DAY_S))
    for n in range(50):  # a flood of DEBUG lines
        day_log.handle(_record(logging.DEBUG, "probe %s", None, n))
    every = day_log.today()
    assert len(every) == 6 and "ERROR fmd_terminal.test: the outbox is full" in every[0]
    assert [line.rsplit(" ", 1)[1] for line in every[1:]] == ["45", "46", "47", "48", "49"]
    assert day_log.today("WARNING") == every[:1] and day_log.today("INFO") == every[:1]


def test_the_day_log_masks_secrets_before_keeping_a_line():
    day_log = DayLog(secrets=("demo-secret-42", "", "1"))
    day_log.add_secrets("new-enrolled-secret")
    for message in ("login with demo-secret-42 refused", "new-enrolled-secret in a message",
                    "scan FMD-ENROL/1 K7QH2M9XRA 9f2c0e https://127.0.0.1:8443 tried",
                    "Authorization: Bearer eyJhbGciOi.abc-def", 'client_secret = "s3cret" pin=123456 token: abc'):
        day_log.handle(_record(logging.DEBUG, message))
    text = "\n".join(day_log.today())
    for secret in ("demo-secret-42", "new-enrolled-secret", "K7QH2M9XRA", "9f2c0e", "eyJhbGciOi", "s3cret",
                   "123456", "abc"):
        assert secret not in text
    assert text.count(MASK) == 7 and "login with ••• refused" in text and "pin=•••" in text


def test_the_desk_takes_one_code_at_a_time_and_forgets_it_once_tried():
    desk, done = Desk(), []
    assert desk.take() is None
    job = desk.submit("FMD-ENROL/1 CODE", "Hugo", "127.0.0.1", done.append)
    assert desk.submit("another", "Hugo", "127.0.0.1", done.append) is None  # one at a time
    assert desk.take() is job and desk.take() is None
    job.progress("code")
    assert job.running and job.steps == ["code"]
    job.finished(None, SimpleNamespace(reason="garbled"))
    assert done == [job] and job.state == "refused" and job.code == ""
    assert desk.submit("FMD-ENROL/1 NEXT", "Hugo", "127.0.0.1", done.append) is not None
    desk.open = False  # enrolled
    desk.take()
    assert desk.submit("FMD-ENROL/1 LATE", "Hugo", "127.0.0.1", done.append) is None
