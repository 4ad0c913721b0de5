"""The console screen: one block per changed model, colours only on a TTY."""

from __future__ import annotations

import io
import logging
import os

import pytest

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError
from fmd_terminal.screens.console import WIDTH, ConsoleScreen, format_block
from fmd_terminal.screens.factory import open_screen

AUTHENTIC = ScreenModel(
    "green", "Boîte authentique", ("CIP/GTIN 03400933112345",), "DÉLIVRER", "3 en attente"
)
ALERT = ScreenModel("red", "Alerte – ne pas délivrer", ("Alerte A24 7Q2K9XM4",), "DÉLIVRER", "")


def test_plain_block_reads_in_a_log():
    stream = io.StringIO()
    screen = open_screen("console://", stream=stream)
    screen.show(AUTHENTIC)
    text = stream.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith("+-- DÉLIVRER ") and lines[0].endswith(" 3 en attente +")
    assert lines[1].startswith("| [GREEN] Boîte authentique")
    assert lines[2].startswith("|   CIP/GTIN 03400933112345")
    assert all(len(line) == WIDTH for line in lines)


def test_only_changes_are_printed():
    stream = io.StringIO()
    screen = ConsoleScreen(stream)
    screen.show(AUTHENTIC)
    screen.show(ScreenModel(*AUTHENTIC.as_dict().values()))
    screen.show(ALERT)
    assert stream.getvalue().count("\n| [") == 2
    assert "[RED] Alerte – ne pas délivrer" in stream.getvalue()


def test_colours_when_forced_and_on_a_tty():
    assert "\x1b[1;7;31m[RED]\x1b[0m" in format_block(ALERT, color=True)
    forced = io.StringIO()
    open_screen("console://?color=1", stream=forced).show(ALERT)
    assert "\x1b[" in forced.getvalue()
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w", encoding="utf-8", closefd=True) as tty:
            screen = ConsoleScreen(tty)
            assert screen.color
            screen.show(AUTHENTIC)
        assert b"\x1b[1;32m[GREEN]" in os.read(master, 4096)
    finally:
        os.close(master)


def test_neutral_and_busy_screens_have_no_colour_tag():
    assert "[....] Vérification…" in format_block(ScreenModel(None, "Vérification…", busy=True), color=True)
    assert format_block(ScreenModel(None, "Prêt")).splitlines()[0] == "+" + "-" * (WIDTH - 2) + "+"


def test_a_broken_stream_is_logged_once_and_does_not_stop_the_terminal(caplog):
    stream = io.StringIO()
    stream.close()
    screen = ConsoleScreen(stream)
    with caplog.at_level(logging.WARNING, logger="fmd_terminal.screens.console"):
        screen.show(AUTHENTIC)
        screen.show(ALERT)
    assert len(caplog.records) == 1 and "cannot write" in caplog.records[0].getMessage()


@pytest.mark.parametrize("url", ["console://tty9", "console://?color=2", "console://?width=80"])
def test_bad_console_urls(url):
    with pytest.raises(ConfigError):
        open_screen(url)
