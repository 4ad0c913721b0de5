"""The settings saved on the terminal (issue 15, the console's settings page): a file in the state
folder read after the configuration file for mode, language, scanner and indicators only, each checked
by the one validation; a bad one ignored with one line, the configuration file's values kept; flags win."""

import os
import stat

import pytest

from fmd_terminal import config, settings_file
from fmd_terminal.errors import ConfigError

MAIN = '''# the installer's file
service = "scripted://offline"
mode = "dispense"
lang = "fr"
indicators = "none://"
'''


@pytest.fixture
def place(tmp_path):
    main = tmp_path / "etc" / "fmd-terminal.toml"
    main.parent.mkdir()
    main.write_text(MAIN, encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    return main, state


def load(main, state, **overrides):
    return config.load(str(main), environ={"STATE_DIRECTORY": str(state)}, overrides=overrides)


def test_the_settings_file_is_in_the_state_folder_systemd_gives():
    assert settings_file.location({"STATE_DIRECTORY": "/run/a:/run/b"}) == settings_file.Path("/run/a/settings.toml")
    assert str(settings_file.location({})) == "/var/lib/fmd-terminal/settings.toml"


def test_saved_settings_replace_the_files_and_flags_replace_both(place):
    main, state = place
    settings_file.save(state / "settings.toml", {"mode": "verify", "lang": "de"}, str(main))
    loaded = load(main, state)
    assert (loaded.mode, loaded.lang, loaded.indicators) == ("verify", "de", "none://")
    assert loaded.from_settings == {"mode": "dispense", "lang": "fr"} and loaded.settings_problem is None
    assert loaded.settings_file == str(state / "settings.toml")
    flagged = load(main, state, mode="decommission")
    assert (flagged.mode, flagged.lang, flagged.from_settings) == ("decommission", "de", {"lang": "fr"})
    assert load(main, state / "elsewhere").mode == "dispense"  # no settings file: the file's values


def test_saving_is_atomic_owner_only_and_leaves_the_configuration_file_alone(place):
    main, state = place
    path = state / "settings.toml"
    settings_file.save(path, {"scanner": 'evdev:///dev/input/fmd-scanner?name="a b"\\'}, str(main))
    inode = path.stat().st_ino
    settings_file.save(path, {"scanner": "stdin://", "indicators": "recording://"}, str(main))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_ino != inode  # replaced by rename
    assert sorted(p.name for p in state.iterdir()) == ["settings.toml"]  # no temporary file left
    assert str(main) in path.read_text(encoding="utf-8")  # it says which file it overrides
    assert main.read_text(encoding="utf-8") == MAIN
    assert (load(main, state).scanner, load(main, state).indicators) == ("stdin://", "recording://")
    settings_file.save(path, {"scanner": 'serial:///dev/x?a="b"\\c'}, str(main))
    assert load(main, state).scanner == 'serial:///dev/x?a="b"\\c'  # quotes and backslashes read back


def test_a_write_that_fails_leaves_the_settings_as_they_were(place, monkeypatch):
    main, state = place
    path = state / "settings.toml"
    settings_file.save(path, {"mode": "verify"}, str(main))
    text = path.read_text(encoding="utf-8")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ConfigError) as refused:
        settings_file.save(path, {"mode": "decommission"}, str(main))
    assert refused.value.text_id == "config_unsaved" and "No space left" in str(refused.value)
    assert path.read_text(encoding="utf-8") == text and sorted(p.name for p in state.iterdir()) == ["settings.toml"]


@pytest.mark.parametrize(("content", "mode", "why"), [
    ('lang = "xx"\n', 0o600, 'lang = "xx"'),  # the one validation's rule
    ('mode = "verify"\nscanner = "nope://x"\n', 0o600, "nope://x"),  # one bad key: the whole file ignored
    ('service = "https://elsewhere.example"\n', 0o600, "'service'"),  # only the four keys
    ('mode = "verify\n', 0o600, "TOML"),  # damaged: cut by a power cut
    (b'mode = "v\xe9rify"\n', 0o600, "UTF-8"),
    ('mode = "verify"\n', 0o620, "chmod 600"),  # someone else could change what the terminal does
    ('mode = 3\n', 0o600, "mode = 3"),
])
def test_a_bad_settings_file_is_ignored_with_one_line_and_kept(place, content, mode, why):
    main, state = place
    path = state / "settings.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    path.chmod(mode)
    loaded = load(main, state)
    assert (loaded.mode, loaded.lang, loaded.scanner, loaded.indicators) == ("dispense", "fr", "stdin://", "none://")
    assert loaded.from_settings == {} and loaded.validate() == loaded
    problem = loaded.settings_problem
    assert problem.text_id == "settings_ignored" and why in str(problem)
    for lang, words in (("fr", "ignorés"), ("en", "ignored"), ("de", "ignoriert")):
        line = problem.in_language(lang)
        assert words in line and str(path) in line and str(main) in line and "\n" not in line
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())  # nothing lost


def test_run_and_doctor_say_the_settings_file_was_ignored_and_where_values_come_from(place, capsys, monkeypatch):
    from fmd_terminal import cli

    main, state = place
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    script = state / "scans.txt"
    script.write_text("", encoding="utf-8")
    scanner = f"script://{script}"
    (state / "settings.toml").write_text('lang = "de"\nmode = "verify"\n', encoding="utf-8")
    (state / "settings.toml").chmod(0o600)
    cli.main(["doctor", "--config", str(main), "--scanner", scanner, "--lang", "en"])
    out = capsys.readouterr().out
    assert f'mode = "verify": from the settings file {state / "settings.toml"} (instead of "dispense" in {main})' in out
    assert "lang =" not in out  # --lang names the language: the flag wins over both files
    (state / "settings.toml").write_text('lang = "en"\nmode = "verify\n', encoding="utf-8")
    cli.main(["doctor", "--config", str(main), "--scanner", scanner, "--lang", "de"])
    warned = [line for line in capsys.readouterr().out.splitlines() if "settings" in line]
    assert len(warned) == 1 and warned[0].startswith("WARN") and "ignoriert" in warned[0]
    assert cli.main(["run", "--config", str(main), "--scanner", scanner, "--screen", "recording://"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "ignorés" in line] == [err[0]] and str(main) in err[0]  # the file's lang: fr


def test_the_console_settings_page_says_where_it_saves_and_why_a_settings_file_was_ignored(place):
    from fmd_terminal.console import pages

    main, state = place
    (state / "settings.toml").write_text('mode = "verify\n', encoding="utf-8")
    loaded = load(main, state)
    values = {"mode": loaded.mode, "lang": "de", "scanner": loaded.scanner, "indicators": loaded.indicators}
    html = pages.settings("de", values, {}, loaded.settings_file, loaded.source, "token",
                          loaded.settings_problem.in_language("de"))
    assert 'id="settings-ignored"' in html and "ignoriert" in html
    assert f"In {state / 'settings.toml'} gespeichert" in html and str(main) in html
    assert 'id="settings-ignored"' not in pages.settings("fr", values, {}, loaded.settings_file, loaded.source, "t")
