"""A USB stick of delivery notes on a running terminal (issue 17, ``receiving.stick_dock``): a temp folder
stands for the mount point; the terminal is the real one ``app.build`` makes, its loop on a thread of
its own, fed by a queue standing for the scanner. A note on the stick starts the session; a scanned
``FMD-NOTE-<reference>`` fetches that note from the stick; a problem shows its one line, drawn by the
loop's thread; the session's packs are checked against the stick's note."""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
import time
from pathlib import Path

import pytest

from fmd_terminal import app
from fmd_terminal.config import Config
from fmd_terminal.errors import ConfigError
from fmd_terminal.receiving.stick_dock import SPOOL_FOLDER, watch_sticks
from fmd_terminal.receiving.usb import MOUNT_POINT
from fmd_terminal.scanners import END, SCAN, ScanEvent

ADVICE = Path(__file__).parent / "data" / "despatch-advice.xml"
GS = "\x1d"
DOLIPRANE = "]d201" + "03400935955838" + "17280630" + "10D2401" + GS + "21"


class QueueScanner:
    """Scans put from the test's thread, read by the loop's."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()

    def scan(self, text):
        self.events.put(ScanEvent(SCAN, text, received_ms=time.monotonic_ns() // 1_000_000, source="test"))

    def read(self, timeout_s):
        try:
            return self.events.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def close(self):
        self.events.put(ScanEvent(END, ""))


def until(condition, what, within=20.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@contextlib.contextmanager
def dock(tmp_path, role="pui_dock", lang="fr", **settings):
    mount = tmp_path / "mnt"
    mount.mkdir()
    config = Config(screen="recording://?render=0", service="scripted://success", role=role, lang=lang,
                    outbox=f"sqlite://{tmp_path / 'state' / 'outbox.db'}", usb_notes=str(mount), **settings)
    (tmp_path / "state").mkdir()
    scanner = QueueScanner()
    with contextlib.ExitStack() as stack:
        terminal = app.build(config.validate(), stack, scanner=scanner)
        watcher = watch_sticks(terminal, config, stack, interval=0.05,
                               is_mounted=lambda path: (path / ".mounted").exists())
        stopping = threading.Event()
        loop = threading.Thread(target=terminal.run, args=(stopping.is_set,), daemon=True)
        loop.start()
        try:
            yield terminal, watcher, scanner, mount
        finally:
            stopping.set()
            loop.join(10)


def plug(mount, *files):
    for source, name in files:
        shutil.copy(source, mount / name)
    (mount / ".mounted").touch()


def screen_text(terminal):
    last = terminal.screen.last
    return " | ".join([last.headline, *last.lines]) if last is not None else ""


def test_a_stick_with_a_note_starts_the_session_and_packs_are_checked_against_it(tmp_path):
    with dock(tmp_path) as (terminal, watcher, scanner, mount):
        assert watcher is not None and terminal.stick is watcher
        plug(mount, (ADVICE, "BL-2026-118.xml"))
        until(lambda: terminal.session is not None, "the stick's note starts a session")
        assert terminal.session.note.reference == "BL-2026-118"
        assert terminal.session.note.source == "usb:BL-2026-118.xml"
        scanner.scan(DOLIPRANE + "S1")
        until(lambda: sum(terminal.session.receipt.counted) == 1, "the pack is counted on the note")
        shutil.rmtree(mount)  # the stick goes: the session reads its own copy and goes on
        mount.mkdir()
        scanner.scan(DOLIPRANE + "S2")
        until(lambda: sum(terminal.session.receipt.counted) == 2, "the session goes on without the stick")
        scanner.scan("FMD-RECEIVE-END")
        until(lambda: terminal.summaries, "the close code closes the session")
    summary = terminal.summaries[0][0]
    assert summary.reference == "BL-2026-118" and summary.totals["ordered"] == 57
    copies = list((tmp_path / "state" / SPOOL_FOLDER).glob("stick-*/*BL-2026-118.xml"))
    assert len(copies) == 1  # the stick's copy is kept beside the outbox


def test_a_scanned_note_barcode_takes_that_note_from_the_stick(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("N° BL;Code produit;Désignation;Quantité\nBL-7;3400930012345;Doliprane;2\n", encoding="utf-8")
    with dock(tmp_path) as (terminal, watcher, scanner, mount):
        plug(mount, (ADVICE, "BL-2026-118.xml"), (other, "autre.csv"))
        until(lambda: terminal.session is not None, "the newest note is handed over")
        first = terminal.session.note.reference
        wanted = "BL-7" if first == "BL-2026-118" else "BL-2026-118"
        scanner.scan(f"FMD-NOTE-{wanted}")
        until(lambda: terminal.session is not None and terminal.session.note.reference == wanted,
              "the scanned note's barcode fetches that note from the stick")
        scanner.scan("FMD-NOTE-BL-404")
        until(lambda: "BL-404" in screen_text(terminal) and "Clé USB" in screen_text(terminal),
              "a reference the stick does not hold is said on screen")


@pytest.mark.parametrize("lang, words", [("fr", "Bon de livraison refusé"), ("en", "Delivery note refused"),
                                         ("de", "Lieferschein")])
def test_a_bad_note_on_the_stick_is_one_screen_line_and_starts_nothing(tmp_path, lang, words):
    bad = tmp_path / "bad.csv"
    bad.write_text("Code produit;Désignation;Quantité\n3400930012345;Doliprane;x\n", encoding="utf-8")
    with dock(tmp_path, lang=lang) as (terminal, _watcher, _scanner, mount):
        plug(mount, (bad, "BL-9.csv"))
        until(lambda: words in screen_text(terminal), "the bad note is said on screen")
        assert terminal.screen.last.lines[0] == "BL-9.csv"  # the stick's file, not the terminal's copy
        assert terminal.session is None


def test_an_empty_stick_is_said_on_screen(tmp_path):
    with dock(tmp_path, lang="en") as (terminal, _watcher, _scanner, mount):
        plug(mount)
        until(lambda: "No delivery note on | the USB stick" in screen_text(terminal), "an empty stick is said")


def test_a_counter_or_an_empty_mount_point_watches_nothing(tmp_path):
    with dock(tmp_path, role="counter") as (terminal, watcher, _scanner, _mount):
        assert watcher is None and terminal.stick is None
    settings = Config(role="reception", usb_notes="")
    assert watch_sticks(object(), settings, contextlib.ExitStack()) is None
    assert Config().usb_notes == str(MOUNT_POINT)


@pytest.mark.parametrize("lang, words", [("fr", "chemin absolu"), ("en", "absolute path"), ("de", "absoluter Pfad")])
def test_a_relative_mount_point_is_refused_in_the_configuration(lang, words):
    with pytest.raises(ConfigError) as caught:
        Config(usb_notes="media/usb", service="scripted://success").validate()
    text = caught.value.in_language(lang)
    assert "usb_notes" in text and words in text and "/media/fmd-usb" in text
