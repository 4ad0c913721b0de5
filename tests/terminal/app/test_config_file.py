"""Saving keys into the configuration file (issue 15, the console's settings page): comments, order and
other keys kept, the file's mode kept, replaced atomically, read back by ``config.load``."""

import os
import stat

import pytest

from fmd_terminal import config, config_file
from fmd_terminal.errors import ConfigError

TEXT = '''# the counter's terminal
service = "scripted://offline"   # the national system
mode = "dispense"  # the mode at start

[sync]
batch_size = 20

[console]
listen = "127.0.0.1:8470"   # loopback only
'''


def test_saved_keys_are_read_back_and_everything_else_is_kept(tmp_path):
    path = tmp_path / "terminal.toml"
    path.write_text(TEXT, encoding="utf-8")
    path.chmod(0o600)
    inode = path.stat().st_ino
    config_file.save(path, {"mode": "verify", "lang": "de", "scanner": "evdev:///dev/input/by-id/usb-scanner"})
    text = path.read_text(encoding="utf-8")
    assert "# the counter's terminal" in text and "# the national system" in text and "# loopback only" in text
    assert 'mode = "verify"  # the mode at start' in text
    assert text.index('lang = "de"') < text.index("[sync]")  # a top-level key, before the tables
    loaded = config.load(str(path))
    assert (loaded.mode, loaded.lang, loaded.scanner) == ("verify", "de", "evdev:///dev/input/by-id/usb-scanner")
    assert loaded.sync == {"batch_size": 20} and loaded.console == {"listen": "127.0.0.1:8470"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a file that may hold the secret stays private
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["terminal.toml"]  # no temporary file left


def test_a_link_keeps_pointing_at_the_file(tmp_path):
    (tmp_path / "real.toml").write_text(TEXT, encoding="utf-8")
    (tmp_path / "terminal.toml").symlink_to(tmp_path / "real.toml")
    config_file.save(tmp_path / "terminal.toml", {"lang": "en"})
    assert (tmp_path / "terminal.toml").is_symlink() and config.load(str(tmp_path / "terminal.toml")).lang == "en"


def test_a_write_that_fails_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    """The disk fills while the new text is flushed: the old file stays whole, nothing is left behind."""
    path = tmp_path / "terminal.toml"
    path.write_text(TEXT, encoding="utf-8")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ConfigError) as refused:
        config_file.save(path, {"mode": "verify"})
    assert refused.value.text_id == "config_unsaved" and "rien n'a changé" in refused.value.in_language("fr")
    assert "No space left" in str(refused.value)
    assert path.read_text(encoding="utf-8") == TEXT and [p.name for p in tmp_path.iterdir()] == ["terminal.toml"]


def test_a_file_broken_since_the_start_is_refused_and_kept(tmp_path):
    path = tmp_path / "terminal.toml"
    path.write_text(TEXT + "oops = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        config_file.save(path, {"mode": "verify"})
    assert refused.value.text_id == "config_unsaved" and str(path) in str(refused.value)
    assert path.read_text(encoding="utf-8") == TEXT + "oops = \n"
