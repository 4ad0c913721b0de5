"""What an installer meets setting a terminal up or keeping it up comes out in the person's language
(``setup_texts``, ``upkeep_texts``): a configuration file that is not TOML or whose secrets others can read,
a bad scanner, screen or indicators URL, a service URL without credentials, a backup to a directory that
does not exist, a malformed quarter, an update without a bundle. One line, the problem and the fix."""

from __future__ import annotations

import pytest

from fmd_terminal import cli

EXPECTED = {
    "not_toml": {"fr": "n'est pas du TOML valable : Invalid value (at line 1, column 8). Corriger la ligne indiquée",
                 "de": "ist kein gültiges TOML: Invalid value (at line 1, column 8). Die genannte Zeile korrigieren"},
    "secret_readable": {"fr": "contient le secret du service mais d'autres peuvent le lire (mode 0644). "
                              "Exécuter : chmod 600",
                        "de": "enthält das Geheimnis des Dienstes, ist aber für andere lesbar (Modus 0644). "
                              "Ausführen: chmod 600"},
    "scanner": {"fr": "URL du lecteur 'serial://x?gap_ms=0' : gap_ms doit être supérieur à 0, pas '0'",
                "de": "Scanner-URL 'serial://x?gap_ms=0': gap_ms muss größer als 0 sein, nicht '0'"},
    "backup_directory": {"fr": "/nonexistent/b.db : le dossier n'existe pas. Le créer, ou choisir un autre --to",
                         "de": "/nonexistent/b.db: das Verzeichnis existiert nicht. Anlegen oder ein anderes --to "
                               "wählen"},
    "quarter": {"fr": "--quarter '2026Q9' refusé. Attendu un trimestre tel que 2026Q4",
                "de": "--quarter '2026Q9' abgelehnt. Erwartet ein Quartal wie 2026Q4"},
    "credentials": {"fr": "l'URL du service 'https://nmvs.example' demande des identifiants : renseigner "
                          "FMD_CLIENT_ID + FMD_CLIENT_SECRET",
                    "de": "die Dienst-URL 'https://nmvs.example' braucht Zugangsdaten: FMD_CLIENT_ID + "
                          "FMD_CLIENT_SECRET setzen"},
}


@pytest.fixture
def no_credentials(monkeypatch):
    monkeypatch.delenv("FMD_CLIENT_ID", raising=False)
    monkeypatch.delenv("FMD_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("FMD_LANG", raising=False)


def argv_for(case, tmp_path):
    if case == "not_toml":
        (tmp_path / "bad.toml").write_text("mode = \n", encoding="utf-8")
        return ["sync", "--config", str(tmp_path / "bad.toml")]
    if case == "secret_readable":
        secrets = tmp_path / "secrets.toml"
        secrets.write_text('client_secret = "s"\n', encoding="utf-8")
        secrets.chmod(0o644)
        (tmp_path / "t.toml").write_text(f'[service]\nsecrets_file = "{secrets}"\n', encoding="utf-8")
        return ["sync", "--config", str(tmp_path / "t.toml")]
    if case == "backup_directory":
        from fmd_terminal.outbox.sqlite import open_sqlite_outbox

        open_sqlite_outbox(str(tmp_path / "o.db"), reserve_bytes=0).close()
        return ["backup", "--outbox", f"sqlite://{tmp_path / 'o.db'}", "--to", "/nonexistent/b.db"]
    if case == "quarter":
        return ["report", "--quarter", "2026Q9", "--outbox", "memory://"]
    if case == "scanner":
        return ["calibrate", "--scanner", "serial://x?gap_ms=0"]
    return ["sync", "--service", "https://nmvs.example", "--outbox", "memory://"]


@pytest.mark.parametrize("lang", ["fr", "de"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_setup_problem_is_one_line_in_the_persons_language(case, lang, tmp_path, capsys, no_credentials):
    assert cli.main([*argv_for(case, tmp_path), "--lang", lang]) == (4 if case == "backup_directory" else 3)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("fmd-terminal: ")]
    assert len(lines) == 1 and EXPECTED[case][lang] in lines[0], lines


@pytest.mark.parametrize(("lang", "line"), [
    ("fr", "fmd-terminal: update demande un fichier de version (fmd-terminal-VERSION.tar) ou --rollback"),
    ("de", "fmd-terminal: update braucht eine Versionsdatei (fmd-terminal-VERSION.tar) oder --rollback"),
])
def test_update_without_a_bundle_speaks_fmd_lang(lang, line, capsys, monkeypatch):
    """``update`` has no --lang: FMD_LANG, else French."""
    monkeypatch.setenv("FMD_LANG", lang)
    assert cli.main(["update"]) == 3
    assert capsys.readouterr().err == line + "\n"


@pytest.mark.parametrize(("lang", "screen", "pins"), [
    ("fr", "URL de l'écran 'ssd1306://spi/0' : seul le bus I2C est pris en charge (i2c/<port>/<adresse>), pas 'spi'",
     "green='99' n'est pas un numéro de broche BCM (0 à 53)"),
    ("de", "Bildschirm-URL 'ssd1306://spi/0': nur der I2C-Bus wird unterstützt (i2c/<Port>/<Adresse>), nicht 'spi'",
     "green='99' ist keine BCM-Pinnummer (0 bis 53)"),
])
def test_doctor_names_bad_device_urls_in_the_persons_language(lang, screen, pins, capsys, no_credentials):
    assert cli.main(["doctor", "--scanner", "stdin://", "--screen", "ssd1306://spi/0", "--indicators",
                     "gpio://?green=99", "--service", "scripted://success", "--outbox", "memory://",
                     "--lang", lang]) == 1
    out = capsys.readouterr().out
    assert screen in out and pins in out, out
