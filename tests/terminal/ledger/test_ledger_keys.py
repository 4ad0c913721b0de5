"""The site ledger's key files (its MQTT client key, the site's hashing key) must be owner-readable only:
the configuration check refuses them in one line, in French, English and German, with the fix, and
``fmd-terminal run`` stops there before opening anything."""

from __future__ import annotations

import os

import pytest

from fmd_provision.mosquitto import free_port
from fmd_provision.site_broker import write_site
from fmd_terminal import config_rules
from fmd_terminal.cli import main
from fmd_terminal.config import Config
from fmd_terminal.errors import ConfigError
from fmd_terminal.ledger import open_site


@pytest.fixture
def site_dir(tmp_path):
    return write_site(tmp_path / "site", "pharmacy1", ["counter1"], free_port())


def ledger_url(site_dir) -> str:
    devices = site_dir / "devices"
    return (f"mqtts://127.0.0.1:8883?site=pharmacy1&device=counter1&counter=1&ca={site_dir / 'ca.crt'}"
            f"&cert={devices / 'counter1.crt'}&key={devices / 'counter1.key'}&site_key={site_dir / 'site-ledger.key'}")


def test_keys_written_by_provisioning_pass(site_dir):
    assert config_rules.problems(Config(service="https://x", ledger=ledger_url(site_dir))) == []


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_an_mqtt_client_key_readable_by_group_or_others_is_refused(site_dir, mode):
    key = site_dir / "devices" / "counter1.key"
    os.chmod(key, mode)
    (problem,) = config_rules.problems(Config(service="https://x", ledger=ledger_url(site_dir)))
    assert problem.text_id == "config_key_open"
    assert problem.in_language("fr") == (f"configuration : ledger key : le fichier de clé {key} est lisible par le "
                                         f"groupe ou les autres (mode {mode:04o}). Exécuter : chmod 600 {key}")
    assert problem.in_language("en").endswith(f"readable by group or others (mode {mode:04o}). Run: chmod 600 {key}")
    assert f"für Gruppe oder andere lesbar (Modus {mode:04o}). Ausführen: chmod 600 {key}" in problem.in_language("de")
    with pytest.raises(ConfigError) as refused:  # opened without the check (a test, the demo): refused too
        open_site(ledger_url(site_dir))
    assert refused.value.text_id == "config_key_open"


def test_the_site_key_is_checked_alike(site_dir):
    os.chmod(site_dir / "site-ledger.key", 0o644)
    (problem,) = config_rules.problems(Config(service="https://x", ledger=ledger_url(site_dir)))
    assert "ledger site_key" in str(problem) and "chmod 600" in str(problem)


def test_run_stops_with_one_line_before_opening_anything(site_dir, tmp_path, capsys):
    os.chmod(site_dir / "devices" / "counter1.key", 0o644)
    conf = tmp_path / "terminal.toml"
    conf.write_text(f'ledger = "{ledger_url(site_dir)}"\noutbox = "sqlite://{tmp_path / "o.db"}"\n'
                    '[service]\nurl = "https://127.0.0.1:9/"\n')
    os.chmod(conf, 0o600)
    assert main(["run", "--config", str(conf)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lisible par le groupe ou les autres (mode 0644). Exécuter : chmod 600" in err, err
    assert not (tmp_path / "o.db").exists()
