"""The console's security pieces on their own (issue 15): password file, sessions, login limiter,
the ``[console]`` table's refusals, and the console's texts in three languages."""

import json
import stat

import pytest

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


@pytest.mark.parametrize("table, words", [
    ({"listen": "0.0.0.0:8470"}, "beyond loopback: set certificate and key"),
    ({"listen": "8470"}, "is not host:port"),
    ({"listen": "127.0.0.1:8470", "certificate": "c.pem"}, "certificate and key go together"),
    ({"listen": "127.0.0.1:8470", "password": "x"}, "unknown key 'password'"),
    ({"listen": "127.0.0.1:8470", "session_minutes": 0}, "session_minutes 0"),
])
def test_the_console_table_refuses_what_it_cannot_serve_safely(table, words):
    with pytest.raises(ConfigError, match=words):
        settings_of(table)


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
