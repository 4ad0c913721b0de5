"""``fmd-terminal doctor`` (issue 12): each class of the service's answer has its own fix, in the person's
language; the summary counts warnings; a scanner that is not plugged in fails.

The service is the real simulator on loopback (plain HTTP, allowed on loopback only; HTTPS with a
certificate the terminal does not trust for the certificate case).
"""

import socket
from types import SimpleNamespace

import pytest

from fmd_simulator.testing import running_simulator
from fmd_terminal.cli import main
from fmd_terminal.commands import doctor
from fmd_terminal.config import Config
from fmd_terminal.outbox.texts import Texts

EN = Texts("en")


@pytest.fixture(scope="module")
def sim():
    with running_simulator() as running:
        yield running


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_check(url, secret="demo-secret", **extra):
    config = Config(service=url, client_id="pharmacy-demo", client_secret=secret,
                    timeouts={"connect": 2.0, "read": 3.0, "total": 5.0}, **extra)
    return doctor.check_service(config, EN)


def test_a_healthy_service_is_ok(sim):
    check = service_check(sim.base_url)
    assert check.status == "ok" and "answered in" in check.detail


def test_a_wrong_secret_points_to_the_credentials(sim):
    check = service_check(sim.base_url, secret="not-the-secret")
    assert check.status == "FAIL" and check.fix == EN("fix_secret"), (check.detail, check.fix)


def test_a_wrong_base_path_points_to_the_url_path(sim):
    check = service_check(sim.base_url + "/not-the-api")
    assert check.status == "FAIL" and check.fix == EN("fix_path"), (check.detail, check.fix)


def test_no_connection_points_to_the_network():
    check = service_check(f"http://127.0.0.1:{free_port()}")
    assert check.status == "FAIL" and check.fix == EN("fix_network") and "refused" in check.detail


def test_an_untrusted_service_certificate_points_to_ca_bundle_and_clock(pki):
    cert, key = pki.server_files()
    with running_simulator(tls_cert=cert, tls_key=key, tls_ca=pki.ca_bundle) as tls_sim:
        check = service_check(tls_sim.base_url)  # no ca_bundle: the trustme CA is not trusted
    assert check.status == "FAIL" and check.fix == EN("fix_server_cert"), (check.detail, check.fix)


@pytest.mark.parametrize("answer, fix", [
    (SimpleNamespace(transport="answered", http_status=503, operation_code=None, transport_error=None,
                     detail=""), "fix_busy"),
    (SimpleNamespace(transport="not_sent", http_status=None, operation_code=None,
                     transport_error="token_unavailable", detail="token request answered HTTP 404"), "fix_path"),
    (SimpleNamespace(transport="not_sent", http_status=None, operation_code=None,
                     transport_error="tls_client_cert", detail=""), "fix_client_cert"),
    (SimpleNamespace(transport="no_answer", http_status=None, operation_code=None,
                     transport_error="read_timeout", detail=""), "fix_network"),
    (SimpleNamespace(transport="answered", http_status=401, operation_code="NMVS_FE_AU_01",
                     transport_error=None, detail=""), "fix_secret"),
])
def test_every_answer_class_has_its_own_fix(answer, fix):
    assert doctor.service_fix(answer) == fix


def test_fix_lines_are_all_different():
    fixes = ["fix_secret", "fix_path", "fix_network", "fix_client_cert", "fix_server_cert", "fix_busy",
             "fix_service_other"]
    for lang in ("fr", "en", "de"):
        texts = Texts(lang)
        assert len({texts(fix) for fix in fixes}) == len(fixes)


def test_doctor_speaks_french_by_default_and_counts_warnings(capsys, monkeypatch, tmp_path, sim):
    monkeypatch.delenv("FMD_LANG", raising=False)
    monkeypatch.setenv("FMD_CLIENT_ID", "pharmacy-demo")
    monkeypatch.setenv("FMD_CLIENT_SECRET", "demo-secret")
    script = tmp_path / "s.jsonl"
    script.write_text("", encoding="utf-8")
    code = main(["doctor", "--scanner", f"script://{script}", "--screen", "recording://?render=0",
                 "--indicators", "recording://", "--service", sim.base_url, "--outbox", "memory://"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    warnings = sum(1 for line in lines if line.startswith("WARN"))
    assert code == 0 and "a répondu en" in out, out
    assert lines[-1].startswith(Texts("fr")("d_summary", ok=len(lines) - 1 - warnings - sum(
        1 for line in lines if line.startswith(" ")), warn=warnings, fail=0)), out


def test_doctor_lang_flag_and_an_absent_scanner(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FMD_CLIENT_ID", "pharmacy-demo")
    monkeypatch.setenv("FMD_CLIENT_SECRET", "demo-secret")
    code = main(["doctor", "--lang", "de", "--scanner", f"evdev://{tmp_path}/no-scanner", "--screen", "console://",
                 "--service", f"http://127.0.0.1:{free_port()}", "--outbox", "memory://"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  scanner" in out and "Scanner fehlt" in out and Texts("de")("fix_scanner") in out, out
    assert "zu beheben: scanner, service" in out


def test_a_missing_library_is_named_with_its_fix():
    def opener(url):
        raise ImportError("no module", name="luma.oled")

    check = doctor._opened(EN, "screen", "ssd1306://i2c/1/0x3c", opener, "fix_screen")
    assert check.status == "FAIL" and "library missing (luma.oled)" in check.detail and check.fix == EN("fix_library")
