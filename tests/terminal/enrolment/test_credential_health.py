"""Credential health (issue 14, item 5): password age, terms and certificate expiry, shown 30, 7 and 1 days
ahead on the idle screen and in ``doctor``, and renewed from the terminal, against the simulator on a
frozen clock (the terminal's "now" is the simulator's frozen time)."""

import datetime as dt
import stat
import time

import pytest
from enrol_site import LETTERS, subscription_site

from fmd_core.flow import Notice
from fmd_terminal import config as terminal_config
from fmd_terminal.cli import main
from fmd_terminal.commands.doctor import check_account
from fmd_terminal.credential_health import DAY_S, Due, IdleHealth, dues, notices
from fmd_terminal.enrolment import FILES, enrol
from fmd_terminal.i18n import Translator
from fmd_terminal.outbox.texts import Texts
from fmd_terminal.presenter import Presenter
from fmd_terminal.verification.factory import open_service
from fmd_terminal.verification.transport import certificate_validity


@pytest.mark.parametrize(("days", "step"), [(40, None), (31, None), (30, 30), (8, 30), (7, 7), (2, 7), (1, 1),
                                            (0.2, 1), (-0.1, 0)])
def test_steps_are_30_7_and_1_days_then_past(days, step):
    assert Due("password", 1000 * DAY_S + days * DAY_S).step(1000 * DAY_S) == step


def _iso(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


@pytest.fixture(scope="module")
def site(mtls_sim):
    with subscription_site(mtls_sim) as running:
        yield running


@pytest.fixture
def enrolled(tmp_path, mtls_sim, site):
    page = site.subscribe(LETTERS[1])
    enrol(site.code_of(page.text), str(tmp_path / "creds"))
    config = tmp_path / "terminal.toml"
    config.write_text('enrolment_dir = "creds"\n')
    start = mtls_sim.app.enrolment.now()
    mtls_sim.set_clock(now=_iso(start), frozen=True)
    yield str(config), tmp_path / "creds", start
    mtls_sim.set_clock(now=_iso(time.time()), frozen=False)


def _idle(config_path, now):
    config = terminal_config.load(config_path, environ={})
    presenter = Presenter(Translator("fr"))
    presenter.health = IdleHealth(config, Translator("fr"), now=lambda: now)
    return list(presenter.notice(Notice("ready", "dispense")).lines)


def _ping(config_path):
    config = terminal_config.load(config_path, environ={})
    client = open_service(config.service, client_id=config.client_id, client_secret=config.client_secret,
                          client_cert=config.client_cert, client_key=config.client_key, ca_bundle=config.ca_bundle)
    try:
        return client.ping()
    finally:
        client.close()


def test_password_shown_ahead_then_renewed_from_the_terminal(enrolled, mtls_sim, capsys):
    config_path, creds, start = enrolled
    assert main(["account", "status", "--config", config_path]) == 0
    assert "rien à renouveler dans les 30 jours" in capsys.readouterr().out  # French by default
    assert _idle(config_path, start) == []  # 90 days left: nothing to show
    now = start + 85.5 * DAY_S  # 4.5 days before the 90: "5 j"
    mtls_sim.set_clock(now=_iso(now), frozen=True)
    assert "Mot de passe : 5 j" in _idle(config_path, now)
    (check,) = check_account(terminal_config.load(config_path, environ={}), Texts("en"), now)
    assert (check.status, check.name) == ("WARN", "password") and "5 day(s)" in check.detail
    assert "account password" in check.fix
    old_secret = terminal_config.load(config_path, environ={}).client_secret
    assert main(["account", "password", "--config", config_path, "--lang", "de"]) == 0
    assert "Passwort erneuert" in capsys.readouterr().out
    loaded = terminal_config.load(config_path, environ={})
    assert loaded.client_secret != old_secret and len(loaded.client_secret) >= 16
    assert stat.S_IMODE((creds / FILES["secrets"]).stat().st_mode) == 0o600
    assert _ping(config_path).operation_code == "NMVS_SUCCESS"  # the new password works ...
    stale = open_service(loaded.service, client_id=loaded.client_id, client_secret=old_secret,
                         client_cert=loaded.client_cert, client_key=loaded.client_key, ca_bundle=loaded.ca_bundle)
    try:
        assert stale.ping().operation_code != "NMVS_SUCCESS"  # ... and the old one no longer does
    finally:
        stale.close()
    assert _idle(config_path, now) == [] and check_account(loaded, Texts("en"), now) == []
    past = [c for c in check_account(loaded, Texts("fr"), now + 91 * DAY_S)]
    assert [(c.status, c.name) for c in past] == [("FAIL", "password")]
    assert "mot de passe expiré" in past[0].detail and "account password" in past[0].fix


def test_terms_to_accept_are_shown_then_accepted(enrolled, mtls_sim):
    config_path, creds, start = enrolled
    deadline = start + 6.5 * DAY_S
    mtls_sim.admin("POST", "/admin/terms", {"version": "2027-01", "deadline": _iso(deadline)})
    assert main(["account", "status", "--config", config_path]) == 0
    assert "CGU à accepter : 7 j" in _idle(config_path, start)
    assert "CGU à accepter : 1 j" in _idle(config_path, start + 6 * DAY_S)
    assert "CGU non acceptées" in _idle(config_path, start + 7 * DAY_S)
    assert main(["account", "terms", "--config", config_path]) == 0
    assert _idle(config_path, start + 6 * DAY_S) == []


def test_certificate_expiry_is_shown_and_renewed_with_a_new_key(enrolled, mtls_sim):
    config_path, creds, start = enrolled
    config = terminal_config.load(config_path, environ={})
    _, not_after = certificate_validity(config.client_cert)
    assert 729 * DAY_S < not_after - time.time() <= 730 * DAY_S  # 2 years
    assert "Certificat : 20 j" in _idle(config_path, not_after - 20 * DAY_S)
    assert [(d.kind, step) for d, step, _ in notices(dues(config, creds), not_after + 1)] == [("certificate", 0)]
    old_key, old_cert = (creds / FILES["key"]).read_bytes(), (creds / FILES["cert"]).read_bytes()
    assert main(["account", "certificate", "--config", config_path]) == 0
    assert (creds / FILES["key"]).read_bytes() != old_key and (creds / FILES["cert"]).read_bytes() != old_cert
    assert stat.S_IMODE((creds / FILES["key"]).stat().st_mode) == 0o600
    assert [p.name for p in creds.iterdir() if p.name.endswith(".new")] == []
    assert _ping(config_path).operation_code == "NMVS_SUCCESS"  # over mutual TLS with the new pair


def test_password_renewed_over_soap_with_g445(enrolled, mtls_sim, capsys):
    """The same renewal on the blueprint (SOAP) route: G445, then the old password is refused."""
    config_path, creds, start = enrolled
    with open(config_path, "a") as handle:
        handle.write(f'[service]\nurl = "nmvs-soap+https://127.0.0.1:{mtls_sim.port}/soap"\n')
    before = terminal_config.load(config_path, environ={})
    assert before.service.startswith("nmvs-soap+https://") and _ping(config_path).operation_code == "NMVS_SUCCESS"
    assert main(["account", "password", "--config", config_path]) == 0
    after = terminal_config.load(config_path, environ={})
    assert after.client_secret != before.client_secret
    assert _ping(config_path).operation_code == "NMVS_SUCCESS"
    stale = open_service(before.service, client_id=before.client_id, client_secret=before.client_secret,
                         client_cert=before.client_cert, client_key=before.client_key, ca_bundle=before.ca_bundle)
    try:
        assert stale.ping().operation_code == "NMVS_FE_AU_01"
    finally:
        stale.close()
    (due,) = [d for d in dues(after, creds) if d.kind == "password"]
    assert 89 * DAY_S < due.until - time.time() <= 90 * DAY_S
    assert main(["account", "status", "--config", config_path]) == 3  # the REST-only status: a clear refusal
    assert "REST" in capsys.readouterr().err


def test_the_running_terminal_shows_it_on_its_idle_screen(enrolled, tmp_path):
    """``fmd-terminal run`` itself: the idle screen carries the password's notice (real clock, dates set)."""
    import json
    import os
    import subprocess
    import sys

    config_path, creds, _ = enrolled
    soon = time.time() + 4.5 * DAY_S
    (creds / "account.json").write_text(json.dumps({"passwordExpiresAt": _iso(soon), "terms": {}}))
    script = tmp_path / "empty.jsonl"
    script.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    done = subprocess.run([sys.executable, "-m", "fmd_terminal", "run", "--config", config_path, "--scanner",
                           f"script://{script}", "--screen", "console://", "--outbox", "memory://"],
                          capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, done.stderr
    assert "Mot de passe : 5 j" in done.stdout
