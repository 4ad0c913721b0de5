"""``fmd-terminal doctor``: one line per check and what to fix; exit 1 when a check fails.

The healthy case runs over REST and over SOAP (``protocol``, tests/terminal/conftest.py; issue 6, item 3)."""

import os
import socket
import time

import pytest
from two_protocols import service_config

from fmd_terminal.cli import main
from fmd_terminal.commands import doctor


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """These tests read the doctor's English lines (the French ones are in test_doctor_lang)."""
    monkeypatch.setenv("FMD_LANG", "en")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_doctor(capsys, monkeypatch, *flags):
    monkeypatch.setenv("FMD_CLIENT_ID", "pharmacy-demo")
    monkeypatch.setenv("FMD_CLIENT_SECRET", "demo-secret")
    code = main(["doctor", "--screen", "recording://?render=0", "--indicators", "recording://", *flags])
    return code, capsys.readouterr().out


def test_everything_healthy(capsys, monkeypatch, tmp_path, mtls_sim, protocol):
    script = tmp_path / "s.jsonl"
    script.write_text("", encoding="utf-8")
    config = tmp_path / "terminal.toml"
    config.write_text(service_config(mtls_sim, protocol), encoding="utf-8")
    os.chmod(config, 0o600)
    code, out = run_doctor(capsys, monkeypatch, "--config", str(config), "--scanner", f"script://{script}",
                           "--outbox", f"sqlite://{tmp_path / 'outbox.db'}")
    lines = {line.split()[1]: line.split()[0] for line in out.splitlines()[:-1] if not line.startswith(" ")}
    assert lines.pop("clock") in ("ok", "WARN")  # the CI machine's clock may not be synchronised
    assert set(lines.values()) == {"ok"}, out
    assert code == 0 and "answered in" in out and "0 pending" in out


def test_problems_are_named_with_their_fix(capsys, monkeypatch, tmp_path):
    code, out = run_doctor(capsys, monkeypatch, "--scanner", "usb://scanner", "--service",
                           f"http://127.0.0.1:{free_port()}", "--outbox", "memory://")
    assert code == 1
    assert "FAIL  scanner" in out and "script://" in out  # the known schemes are listed
    assert 'scanner = "usb://scanner" refused' in out  # by the same validation as run's
    assert "FAIL  service" in out and "refused" in out and "recorded offline" in out
    assert "fix: scanner, service" in out


def test_clock_checks():
    assert doctor.check_clock(now_s=0, synced=True).status == "FAIL"  # 1970: no RTC, no NTP yet
    assert doctor.check_clock(now_s=1_790_000_000, synced=False).status == "WARN"
    assert doctor.check_clock(now_s=1_790_000_000, synced=True).status == "ok"


def test_world_writable_configuration_fails(tmp_path):
    from fmd_terminal.config import load

    path = tmp_path / "t.toml"
    path.write_text('mode = "verify"\n', encoding="utf-8")
    os.chmod(path, 0o666)
    assert doctor.check_permissions(load(str(path), environ={})).status == "FAIL"
    os.chmod(path, 0o644)
    assert doctor.check_permissions(load(str(path), environ={})).status == "ok"


def client_certificate(tmp_path, days_valid):
    """A trustme client certificate valid from yesterday for ``days_valid`` days; its PEM path."""
    import datetime

    import trustme

    now = datetime.datetime.now(datetime.UTC)
    leaf = trustme.CA().issue_cert("pharmacy.example", not_before=now - datetime.timedelta(days=1),
                                   not_after=now + datetime.timedelta(days=days_valid))
    path = tmp_path / "client-cert.pem"
    path.write_bytes(leaf.cert_chain_pems[0].bytes())
    return path


def test_certificate_check_warns_within_30_days_and_fails_when_expired(tmp_path):
    """VERIFICATION-SERVICE.md 8: the terminal warns well before its certificate's end date."""
    from types import SimpleNamespace

    config = SimpleNamespace(client_cert=str(client_certificate(tmp_path, 90)))
    day, now = 86400, time.time()
    assert doctor.check_certificate(config, now).status == "ok"
    assert doctor.check_certificate(config, now + 59 * day).status == "ok"  # 31 days left
    soon = doctor.check_certificate(config, now + 75 * day)
    assert soon.status == "WARN" and "in 14 days" in soon.detail and "renewed client certificate" in soon.fix
    gone = doctor.check_certificate(config, now + 91 * day)
    assert gone.status == "FAIL" and "expired on" in gone.detail
    assert doctor.check_certificate(config, now - 2 * day).status == "FAIL"  # not valid yet: the clock?
    assert doctor.check_certificate(SimpleNamespace(client_cert=""), now).status == "ok"  # none configured
    (tmp_path / "junk.pem").write_text("not a certificate", encoding="utf-8")
    assert doctor.check_certificate(SimpleNamespace(client_cert=str(tmp_path / "junk.pem")), now).status == "FAIL"


def test_doctor_warns_about_a_client_certificate_that_expires_soon(capsys, monkeypatch, tmp_path):
    cert = client_certificate(tmp_path, 10)
    config = tmp_path / "terminal.toml"
    config.write_text(f'[service]\nclient_cert = "{cert}"\n', encoding="utf-8")
    os.chmod(config, 0o600)
    code, out = run_doctor(capsys, monkeypatch, "--config", str(config), "--scanner", "usb://scanner",
                           "--service", f"http://127.0.0.1:{free_port()}", "--outbox", "memory://")
    (line,) = [line for line in out.splitlines() if line.startswith(("ok", "WARN", "FAIL")) and "certificate" in line]
    assert line.startswith("WARN  certificate") and "in 9 days" in line, out
    assert "fix: scanner, service" in out  # a warning does not fail the doctor
