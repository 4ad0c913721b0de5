"""The USB stick watcher (issue 17), against a temporary folder standing for the mount point: the folder
appears when the stick is mounted and goes when it is pulled out. It notices a stick, copies its notes,
hands over the newest or the one a scanned barcode names, never writes to the stick, and a stick pulled
out mid-read costs one line and nothing else."""

from __future__ import annotations

import datetime
import errno
import io
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from fmd_terminal.i18n import Translator
from fmd_terminal.receiving.note import NoteError
from fmd_terminal.receiving.usb import StickNote, StickWatcher, note_files, screen_line

SAMPLE_XML = Path(__file__).parent / "data" / "despatch-advice.xml"
DOLIPRANE = "3400930000007"
CSV = f"Code produit;Désignation;Quantité;Lot;Péremption\n{DOLIPRANE};Doliprane 1000 mg;40;AB12;31/12/2027\n"


class Recorder:
    def __init__(self) -> None:
        self.notes: list[StickNote] = []
        self.problems: list[NoteError] = []
        self.arrived = threading.Event()

    def note(self, note: StickNote) -> None:
        self.notes.append(note)
        self.arrived.set()

    def problem(self, error: NoteError) -> None:
        self.problems.append(error)
        self.arrived.set()


@pytest.fixture
def stick(tmp_path):
    return tmp_path / "media" / "fmd-usb"


@pytest.fixture
def recorder():
    return Recorder()


def watcher(recorder, stick, tmp_path, **options) -> StickWatcher:
    return StickWatcher(recorder.note, recorder.problem, tmp_path / "spool", stick,
                        is_mounted=Path.is_dir, **options)


def plug(stick: Path, files: dict[str, str | bytes], *, ages: dict[str, int] | None = None) -> None:
    """The stick appears with ``files`` (name -> content) at once, as a mount does: written aside, then
    renamed into place; ``ages`` in minutes set their times."""
    staging = stick.with_name(stick.name + ".staging")
    staging.mkdir(parents=True)
    now = time.time()
    for name, content in files.items():
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        age = (ages or {}).get(name, 0)
        os.utime(path, (now - 60 * age, now - 60 * age))
    staging.rename(stick)


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(root.rglob("*"))}


def test_a_stick_with_one_note_is_noticed_copied_and_handed_over(recorder, stick, tmp_path):
    looking = watcher(recorder, stick, tmp_path)
    looking.check()
    assert recorder.notes == [] and recorder.problems == []  # no stick yet
    plug(stick, {"bons-de-livraison/BL-2026-118.xml": SAMPLE_XML.read_bytes(), "photo.jpg": b"\xff\xd8"})
    before = snapshot(stick)
    looking.check()
    [found] = recorder.notes
    assert found.origin == "usb:bons-de-livraison/BL-2026-118.xml"
    assert found.path.read_bytes() == SAMPLE_XML.read_bytes()
    assert not found.path.is_relative_to(stick)
    note = found.load()
    assert note.reference == "BL-2026-118" and note.source == found.origin and len(note.lines) == 3
    looking.check()
    looking.check()
    assert len(recorder.notes) == 1  # once per stick, not at every look
    assert snapshot(stick) == before  # nothing written to the stick
    shutil.rmtree(stick)  # pulled out after the hand-over: the session still reads its copy
    looking.check()
    assert found.load().reference == "BL-2026-118"
    assert recorder.problems == []


def test_of_two_notes_the_newest_is_handed_then_the_one_a_scanned_barcode_names(recorder, stick, tmp_path):
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"BL-2026-117.csv": CSV, "bons-de-livraison/BL-2026-118.xml": SAMPLE_XML.read_bytes()},
         ages={"BL-2026-117.csv": 90, "bons-de-livraison/BL-2026-118.xml": 5})
    looking.check()
    assert [n.origin for n in recorder.notes] == ["usb:bons-de-livraison/BL-2026-118.xml"]
    looking.want("bl 2026-117")  # the note's barcode, as the scanner gives it: matched on letters and digits
    looking.check()
    assert [n.origin for n in recorder.notes][-1] == "usb:BL-2026-117.csv"
    assert recorder.notes[-1].load().lines[0].quantity == 40
    looking.check()
    assert len(recorder.notes) == 2 and recorder.problems == []


def test_a_barcode_is_matched_on_the_note_reference_inside_the_file(recorder, stick, tmp_path):
    looking = watcher(recorder, stick, tmp_path)
    looking.want("BL-2026-118")  # scanned before the stick came
    plug(stick, {"export-du-jour.xml": SAMPLE_XML.read_bytes(), "autre.csv": CSV},
         ages={"export-du-jour.xml": 60})
    looking.check()
    assert [n.origin for n in recorder.notes] == ["usb:export-du-jour.xml"]


def test_a_barcode_the_stick_does_not_hold_is_one_line_naming_what_is_there(recorder, stick, tmp_path):
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"BL-1.csv": CSV, "BL-2.csv": CSV}, ages={"BL-1.csv": 10})
    looking.check()
    looking.want("BL-9")
    looking.check()
    looking.check()
    [problem] = recorder.problems
    assert problem.text_id == "usb_no_match"
    for lang in ("fr", "en", "de"):
        text = problem.in_language(lang)
        assert "BL-9" in text and "BL-1.csv" in text and "BL-2.csv" in text and "\n" not in text


def test_a_stick_without_notes_is_one_line(recorder, stick, tmp_path):
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"photo.jpg": b"x", "._BL-1.csv": b"\x00\x05", "notes.txt": b"x"})
    (stick / "lien.csv").symlink_to("/etc/passwd")  # links are never followed off the stick
    assert note_files(stick) == []
    looking.check()
    looking.check()
    assert recorder.notes == [] and [p.text_id for p in recorder.problems] == ["usb_no_note"]


class PulledOut(io.BytesIO):
    """A stick's file whose device goes away after the first chunk, as the kernel reports it: EIO."""

    def __init__(self, path: Path, stick: Path) -> None:
        super().__init__(path.read_bytes())
        self.stick = stick

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 0:
            shutil.rmtree(self.stick, ignore_errors=True)
            raise OSError(errno.EIO, "Input/output error")
        return super().read(min(size or 1, 100))


def test_a_stick_pulled_out_mid_read_is_one_line_and_read_again_when_back(recorder, stick, tmp_path):
    pulls = {"left": 1}

    def opener(path: Path):
        if pulls["left"]:
            pulls["left"] -= 1
            return PulledOut(path, stick)
        return path.open("rb")

    looking = watcher(recorder, stick, tmp_path, opener=opener)
    files = {"bons-de-livraison/BL-2026-118.xml": SAMPLE_XML.read_bytes()}
    plug(stick, files)
    looking.check()
    assert recorder.notes == []
    [problem] = recorder.problems
    assert problem.text_id == "usb_pulled"
    assert "bons-de-livraison/BL-2026-118.xml" in problem.in_language("fr") and "\n" not in problem.in_language("fr")
    assert not any(p.is_file() for p in (tmp_path / "spool").rglob("*"))  # no half copy left behind
    looking.check()  # gone: nothing more is said
    assert len(recorder.problems) == 1
    plug(stick, files)  # put back
    looking.check()
    [found] = recorder.notes
    assert found.path.read_bytes() == SAMPLE_XML.read_bytes()
    assert len(recorder.problems) == 1


def test_a_note_too_big_is_refused_and_the_others_still_read(recorder, stick, tmp_path, monkeypatch):
    from fmd_terminal.receiving import usb

    monkeypatch.setattr(usb, "MAX_NOTE_BYTES", 1000)
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"big.xml": SAMPLE_XML.read_bytes(), "BL-1.csv": CSV})
    looking.check()
    assert [p.text_id for p in recorder.problems] == ["note_too_big"]
    assert [n.origin for n in recorder.notes] == ["usb:BL-1.csv"]


def test_the_spool_keeps_the_copies_of_the_last_sticks_only(recorder, stick, tmp_path, monkeypatch):
    from fmd_terminal.receiving import usb

    monkeypatch.setattr(usb, "KEEP_STICKS", 2)
    looking = watcher(recorder, stick, tmp_path)
    for _ in range(4):
        plug(stick, {"BL-1.csv": CSV})
        looking.check()
        shutil.rmtree(stick)
        looking.check()
    assert len(recorder.notes) == 4
    assert len(list((tmp_path / "spool").iterdir())) == 2
    assert recorder.notes[-1].path.is_file()
    assert oct((tmp_path / "spool").stat().st_mode & 0o777) == "0o700"


def test_the_watcher_thread_notices_a_stick_and_sleeps_in_between(recorder, stick, tmp_path):
    looks = []

    def is_mounted(path: Path) -> bool:
        looks.append(time.monotonic())
        return path.is_dir()

    looking = StickWatcher(recorder.note, recorder.problem, tmp_path / "spool", stick, interval=0.05,
                           is_mounted=is_mounted)
    looking.start()
    try:
        plug(stick, {"BL-1.csv": CSV})
        assert recorder.arrived.wait(20), "the stick was not noticed"
        assert [n.origin for n in recorder.notes] == ["usb:BL-1.csv"]
        recorder.arrived.clear()
        looking.interval = 3600  # from now on only a scanned barcode wakes it
        started = datetime.datetime.now()
        time.sleep(0.2)
        count = len(looks)
        time.sleep(0.5)
        assert len(looks) <= count + 1  # asleep, not spinning
        looking.want("BL-9")
        assert recorder.arrived.wait(20), "want() did not wake the watcher"
        assert recorder.problems[-1].text_id == "usb_no_match"
        assert (datetime.datetime.now() - started).total_seconds() < 60
    finally:
        looking.stop()
    assert "usb-stick-watcher" not in [thread.name for thread in threading.enumerate()]


@pytest.mark.parametrize("lang, expected", [
    ("fr", ["Clé USB : bon BL-1.csv", "Bon BL-9 absent de la clé USB", "Clé USB retirée en lecture : la remettre",
            "Clé USB sans bon de livraison", None]),
    ("en", ["USB stick: note BL-1.csv", "Note BL-9 not on the USB stick", "USB stick pulled out: put it back",
            "No delivery note on the USB stick", None]),
    ("de", ["USB-Stick: Lieferschein BL-1.csv", "Lieferschein BL-9 nicht auf Stick",
            "USB-Stick beim Lesen gezogen: einstecken", "Kein Lieferschein auf dem USB-Stick", None]),
])
def test_the_screen_line_of_each_event(lang, expected):
    events = [StickNote(Path("/spool/00-BL-1.csv"), "usb:BL-1.csv"),
              NoteError.text("usb_no_match", reference="BL-9", found="BL-1.csv"),
              NoteError.text("usb_pulled", name="BL-1.csv"), NoteError.text("usb_no_note"),
              NoteError.text("note_empty", path="usb:BL-1.csv", line=None)]
    assert [screen_line(event, Translator(lang)) for event in events] == expected


def test_copies_that_cannot_be_stored_are_one_line_and_the_stick_is_untouched(recorder, stick, tmp_path):
    (tmp_path / "spool").write_text("a file where the spool folder should be")
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"BL-1.csv": CSV})
    before = snapshot(stick)
    looking.check()
    [problem] = recorder.problems
    assert problem.text_id == "usb_spool" and recorder.notes == []
    assert str(tmp_path / "spool") in problem.in_language("fr") and "\n" not in problem.in_language("de")
    assert snapshot(stick) == before


def test_a_stick_that_cannot_be_listed_counts_as_pulled_out(recorder, stick, tmp_path, monkeypatch):
    from fmd_terminal.receiving import usb

    def gone(root):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(usb, "note_files", gone)
    looking = watcher(recorder, stick, tmp_path)
    plug(stick, {"BL-1.csv": CSV})
    looking.check()
    assert [p.text_id for p in recorder.problems] == ["usb_pulled"]
