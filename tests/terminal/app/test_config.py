"""fmd_terminal.config: file, then environment, then flags; secrets only in private files."""

import os

import pytest

from fmd_terminal import config
from fmd_terminal.errors import ConfigError


def write(path, text, mode=0o644):
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_defaults_run_on_a_laptop():
    c = config.load(None, environ={})
    assert (c.scanner, c.screen, c.indicators, c.outbox, c.mode, c.lang) == (
        "stdin://", "console://", "none://", "memory://", "dispense", "fr")


def test_file_then_environment_then_flags(tmp_path):
    path = write(tmp_path / "t.toml", 'scanner = "script:///x"\nmode = "verify"\nlang = "de"\n'
                 'duplicate_window_s = 4\n[service]\nurl = "http://127.0.0.1:9"\nclient_id = "from-file"\n'
                 '[service.timeouts]\nconnect = 2\n')
    c = config.load(str(path), environ={"FMD_CLIENT_ID": "from-env", "FMD_CLIENT_SECRET": "s3"},
                    overrides={"mode": "undo", "scanner": None, "lang": None})
    assert (c.scanner, c.mode, c.lang, c.service) == ("script:///x", "undo", "de", "http://127.0.0.1:9")
    assert (c.client_id, c.client_secret, c.duplicate_window_s) == ("from-env", "s3", 4)
    assert dict(c.timeouts) == {"connect": 2}
    assert "s3" not in repr(c)
    assert c.validate() is c


def test_secret_in_a_world_readable_file_is_refused(tmp_path):
    path = write(tmp_path / "t.toml", '[service]\nurl = "https://x"\nclient_secret = "s"\n', 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        config.load(str(path), environ={})
    os.chmod(path, 0o600)
    assert config.load(str(path), environ={}).client_secret == "s"


def test_secrets_file_beside_the_configuration(tmp_path):
    write(tmp_path / "secrets.toml", 'client_id = "pharmacy-demo"\nclient_secret = "demo-secret"\n', 0o640)
    path = write(tmp_path / "t.toml", '[service]\nurl = "https://x"\nsecrets_file = "secrets.toml"\n')
    with pytest.raises(ConfigError, match="group or others"):
        config.load(str(path), environ={})
    os.chmod(tmp_path / "secrets.toml", 0o600)
    c = config.load(str(path), environ={})
    assert (c.client_id, c.client_secret) == ("pharmacy-demo", "demo-secret")


@pytest.mark.parametrize("text, message", [
    ('scaner = "x"\n', "unknown key 'scaner'"),
    ('[service]\nuri = "x"\n', "service.uri"),
    ("mode = \n", "not valid TOML"),
])
def test_bad_files_are_refused_with_what_is_wrong(tmp_path, text, message):
    path = write(tmp_path / "t.toml", text)
    with pytest.raises(ConfigError, match=message):
        config.load(str(path), environ={})


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read configuration"):
        config.load(str(tmp_path / "absent.toml"), environ={})


@pytest.mark.parametrize("overrides, message", [
    ({"service": "https://x", "mode": "sell"}, 'mode = "sell" refused; expected: one of dispense'),
    ({"service": "https://x", "lang": "it"}, 'lang = "it" refused; expected: one of fr, en, de'),
    ({}, "no verification service"),
])
def test_validate(overrides, message):
    with pytest.raises(ConfigError, match=message):
        config.load(None, environ={}, overrides=overrides).validate()


def test_example_configuration_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "device" / "system" / "fmd-terminal.example.toml"
    c = config.load(str(example), environ={}).validate()
    assert c.service.startswith("https://") and c.client_secret == ""
