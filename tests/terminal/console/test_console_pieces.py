"""The installer pages' pieces on their own (issue 15): credential states and their words in three
languages."""

import time
from types import SimpleNamespace

import pytest

from fmd_terminal.console.pages import health_line
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
    assert unknown in health_line({"kind": "terms", "state": "unknown", "days": None, "until": ""}, lang)
    assert "fmd-terminal account password" in health_line(
        {"kind": "password", "state": "due", "days": 3, "until": "2027-01-01 00:00:00"}, lang)
