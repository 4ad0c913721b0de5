"""The console's security pieces on their own (issue 15): password file, sessions, login limiter,
the ``[console]`` table's refusals, and the console's texts in three languages."""

import json
import stat

import pytest

from fmd_terminal.config import Config
from fmd_terminal.console import settings_of
from fmd_terminal.console.security import FREE_FAILURES, ITERATIONS, Credentials, LoginLimiter, Sessions
from fmd_terminal.console.texts import TEXTS
from fmd_terminal.errors import ConfigError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_no_default_password_a_setup_code_then_a_password_hash_owner_only(tmp_path):
    credentials = Credentials(tmp_path / "console", iterations=1000)  # the terminal's: ITERATIONS
    assert not credentials.is_set() and not credentials.check("")
    assert stat.S_IMODE(credentials.setup_file.stat().st_mode) == 0o600
    assert not credentials.set_first("wrong", "a long password")
    assert credentials.set_first(credentials.setup_code(), "a long password")
    assert not credentials.setup_file.exists()
    assert not credentials.set_first("anything", "another password")  # once only
    stored = json.loads(credentials.password_file.read_text())
    assert stored["scheme"] == "pbkdf2-sha256" and stored["iterations"] == 1000 and ITERATIONS >= 600_000 and "a long password" not in credentials.password_file.read_text()
    assert stat.S_IMODE(credentials.password_file.stat().st_mode) == 0o600
    assert credentials.check("a long password") and not credentials.check("a long passwore")


def test_sessions_expire_and_belong_to_one_browser():
    clock = Clock()
    sessions = Sessions(idle_s=60, max_s=300, clock=clock)
    one = sessions.open("Marie", "browser A", "fr")
    assert sessions.find(one.token, "browser A")[0] is one
    clock.now += 59
    assert sessions.find(one.token, "browser A")[0] is one  # a request keeps it alive
    clock.now += 61
    assert sessions.find(one.token, "browser A") == (None, "expired")
    two = sessions.open("Marie", "browser A", "fr")
    assert sessions.find(two.token, "browser B") == (None, "other_browser")
    assert sessions.find(two.token, "browser A") == (None, "other_browser")  # the copied cookie ended it for both
    assert sessions.find(two.token, "browser A") == (None, None)  # said once
    three = sessions.open("Marie", "browser A", "fr")
    for _ in range(5):
        clock.now += 59
        assert sessions.find(three.token, "browser A")[0] is three
    clock.now += 10
    assert sessions.find(three.token, "browser A") == (None, "expired")  # 8 h (here 300 s) at most
    assert sessions.find("made-up", "browser A") == (None, None)


def test_failed_logins_wait_longer_each_time():
    clock = Clock()
    limiter = LoginLimiter(clock)
    for _ in range(FREE_FAILURES - 1):
        limiter.failed("192.0.2.1")
    assert limiter.wait_s("192.0.2.1") == 0
    limiter.failed("192.0.2.1")
    first = limiter.wait_s("192.0.2.1")
    assert first > 0 and limiter.wait_s("192.0.2.2") == 0
    clock.now += first
    limiter.failed("192.0.2.1")
    assert limiter.wait_s("192.0.2.1") == 2 * first
    limiter.succeeded("192.0.2.1")
    assert limiter.wait_s("192.0.2.1") == 0


BAD_CONSOLE = [  # (table, the key named, words of the English line)
    (3, "console", "expected: a table with the keys listen"),
    ({"listen": "0.0.0.0:8470"}, "console.listen", "is beyond loopback: set console.certificate and console.key"),
    ({"listen": "8470"}, "console.listen", 'expected: an address host:port in quotes'),
    ({"listen": 8470}, "console.listen", 'expected: an address host:port in quotes'),
    ({"listen": "127.0.0.1:99999"}, "console.listen", 'expected: an address host:port in quotes'),
    ({"state_dir": "/tmp/x"}, "console.listen", 'console.listen = "" refused'),
    ({"listen": "127.0.0.1:8470", "certificate": "c.pem"}, "console.certificate", "go together"),
    ({"listen": "127.0.0.1:8470", "key": "k.pem"}, "console.certificate", "go together"),
    ({"listen": "127.0.0.1:8470", "password": "x"}, "console.password", "expected: one of the keys listen"),
    ({"listen": "127.0.0.1:8470", "session_minutes": 0}, "console.session_minutes", "above 0 and up to 480"),
    ({"listen": "127.0.0.1:8470", "session_minutes": 481}, "console.session_minutes", "above 0 and up to 480"),
    ({"listen": "127.0.0.1:8470", "session_minutes": True}, "console.session_minutes", "above 0 and up to 480"),
    ({"listen": "127.0.0.1:8470", "session_minutes": "15"}, "console.session_minutes", "above 0 and up to 480"),
    ({"listen": "127.0.0.1:8470", "state_dir": 5}, "console.state_dir", "expected: a text in quotes"),
    ({"listen": "127.0.0.1:8470", "certificate": 1, "key": 2}, "console.certificate", "a text in quotes"),
]


@pytest.mark.parametrize("table, key, words", BAD_CONSOLE)
def test_the_console_table_refuses_what_it_cannot_serve_safely(table, key, words):
    """The one validation (``config_rules``) refuses it: the same error from ``settings_of`` as from
    ``Config.validate``, with a text id, so it is said in French, English and German."""
    with pytest.raises(ConfigError) as raised:
        settings_of(table)
    error = raised.value
    assert words in str(error) and error.fields["key"] == key
    with pytest.raises(ConfigError) as validated:
        Config(service="scripted://offline", console=table).validate()
    assert str(validated.value) == str(error)
    french, german = error.in_language("fr"), error.in_language("de")
    assert "console" in french and "console" in german and len({french, str(error), german}) == 3


def test_off_without_a_table_and_https_beyond_loopback():
    assert settings_of({}) is None
    lan = settings_of({"listen": "192.168.1.20:8470", "certificate": "c.pem", "key": "k.pem"})
    assert lan.scheme == "https" and not lan.loopback
    assert settings_of({"listen": "127.0.0.1:8470"}).scheme == "http"


def test_every_console_text_exists_in_french_english_and_german():
    for key, (fr, en, de) in TEXTS.items():
        assert fr and en and de, key
        assert fr != en or key in ("mode", "version", "scanner", "link.closed", "link.open"), key


def test_a_taken_address_leaves_the_terminal_running_without_its_console(tmp_path, caplog):
    import contextlib
    import socket
    from types import SimpleNamespace

    from fmd_terminal import console

    with socket.socket() as taken, contextlib.ExitStack() as stack:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = SimpleNamespace(lang="fr", outbox="memory://", client_secret="", client_key_pin="",
                                 console={"listen": f"127.0.0.1:{port}", "state_dir": str(tmp_path / "c")})
        assert console.start(config, terminal=None, stack=stack) is None
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_run_and_doctor_say_the_same_line_of_a_bad_console_table(lang, tmp_path, capsys):
    """``fmd-terminal run`` stops on it (exit 3) and ``doctor`` shows it as a FAIL line: the same words."""
    from fmd_terminal.cli import main

    config = tmp_path / "terminal.toml"
    config.write_text('service = "scripted://offline"\n[console]\nlisten = "0.0.0.0:8470"\n', encoding="utf-8")
    assert main(["run", "--config", str(config), "--lang", lang, "--scanner", "script:///nonexistent"]) == 3
    ran = capsys.readouterr().err.strip().splitlines()[-1]
    expected = ConfigError.text("config_console_tls", key="console.listen", value='"0.0.0.0:8470"').in_language(lang)
    assert ran.endswith(expected), ran
    main(["doctor", "--config", str(config), "--lang", lang, "--scanner", "script:///nonexistent",
          "--outbox", "memory://", "--screen", "console://", "--indicators", "none://"])
    doctor = [line for line in capsys.readouterr().out.splitlines() if "console.listen" in line]
    assert len(doctor) == 1 and doctor[0].startswith("FAIL") and doctor[0].endswith(expected), doctor


def test_the_address_shown_for_a_console_on_all_interfaces_is_one_a_phone_can_reach():
    """``FMD-MODE-ADMIN``'s QR code never says 0.0.0.0: the address of the default route's interface."""
    import ipaddress

    from fmd_terminal.console import reachable_host

    assert reachable_host("127.0.0.1") == "127.0.0.1" and reachable_host("fmd-1.local") == "fmd-1.local"
    assert reachable_host("192.168.1.20") == "192.168.1.20"
    for wildcard in ("0.0.0.0", "::"):
        shown = reachable_host(wildcard)
        try:
            assert not ipaddress.ip_address(shown).is_unspecified, shown
        except ValueError:  # no route here: the host name
            assert shown and shown not in ("0.0.0.0", "::")


def test_a_certificate_that_cannot_be_loaded_is_said_in_the_persons_language(tmp_path):
    from fmd_terminal.console import _tls

    cert, key = tmp_path / "console-cert.pem", tmp_path / "console-key.pem"
    cert.write_text("not a certificate\n")
    key.write_text("not a key\n")
    key.chmod(0o600)
    settings = settings_of({"listen": "192.168.1.20:8470", "certificate": str(cert), "key": str(key)})
    with pytest.raises(ConfigError) as refused:
        _tls(settings)
    assert refused.value.text_id == "console_certificate" and str(cert) in str(refused.value)
    assert "impossible de charger le certificat" in refused.value.in_language("fr")
