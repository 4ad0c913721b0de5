"""Delivery notes from a USB stick: notice the stick, copy its notes, hand one to the receiving session.

On the appliance a stick is mounted read-only, nosuid, nodev, noexec at ``MOUNT_POINT`` by
``device/system/71-fmd-usb-stick.rules`` and ``fmd-usb-stick@.service`` (docs/receiving.md).
``StickWatcher`` looks at that folder once per ``interval`` (one ``stat``, a thread that sleeps on an
event in between: no busy loop; a scanned note barcode wakes it at once):

- a stick appears: every note on it (``*.csv`` and ``*.xml``, any case, at its root or in
  ``bons-de-livraison/``; hidden files such as macOS's ``._*`` left out) is copied whole into
  ``spool`` (at most ``MAX_NOTE_BYTES`` each, ``MAX_FILES`` files), then one is handed to ``on_note``:
  the one whose reference matches the delivery-note barcode scanned (``want``), else the newest;
- the stick is pulled out in the middle of reading: no copy is kept half-written (a copy is renamed
  into place only once read whole), ``on_problem`` gets one line (``usb_pulled``) and nothing else
  changes; put back, the stick is read again from the start;
- the stick is only ever opened for reading; the session reads the local copy, so pulling the stick
  out after the hand-over loses nothing either.

``on_note`` and ``on_problem`` run on the watcher's thread (``start``) or in the caller's (``check``);
``screen_line`` is the short line the OLED shows for either (the full one-line message, with its fix,
is the error's ``in_language``).
"""

from __future__ import annotations

import datetime
import os
import shutil
import stat
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from fmd_terminal.i18n import Translator
from fmd_terminal.receiving.note import MAX_NOTE_BYTES, DeliveryNote, NoteError
from fmd_terminal.receiving.note_files import NOTE_SUFFIXES, load_note_file

MOUNT_POINT = Path("/media/fmd-usb")
NOTES_FOLDER = "bons-de-livraison"
MAX_FILES = 50  # notes read from one stick; more is not a delivery, it is someone's archive
KEEP_STICKS = 10  # folders of copies kept in the spool (the most recent sticks), for audit
CHUNK = 64 * 1024


@dataclass(frozen=True)
class StickNote:
    """A note from the stick: ``path`` its local copy (readable after the stick is gone), ``origin`` where
    it was on the stick (``usb:bons-de-livraison/BL-2026-118.xml``), for messages and the session's audit."""

    path: Path
    origin: str

    @property
    def on_stick(self) -> str:
        """The file's path on the stick (``bons-de-livraison/BL-2026-118.xml``)."""
        return self.origin.removeprefix("usb:")

    def load(self) -> DeliveryNote:
        """The delivery note, its ``source`` the stick's file. Raises ``NoteError`` as ``load_note_file``."""
        return replace(load_note_file(self.path), source=self.origin)


# the watcher's problems that have a short screen text of their own (gettext ``usb.*``)
SCREEN_TEXTS = {"usb_pulled": "usb.pulled", "usb_no_note": "usb.no_note", "usb_no_match": "usb.no_match"}


def screen_line(event: StickNote | NoteError, t: Translator) -> str | None:
    """What the screen shows for a note handed over or a problem the watcher reported, in ``t``'s
    language; None for a problem of the note itself (a bad CSV line, a refused XML): the session shows
    that error's own message."""
    if isinstance(event, StickNote):
        return t("usb.note_taken", name=Path(event.on_stick).name)
    message_id = SCREEN_TEXTS.get(event.text_id or "")
    return t(message_id, **event.fields) if message_id else None


def note_files(root: Path) -> list[Path]:
    """The notes on a stick mounted at ``root``, newest first: regular files (no links, devices or pipes)
    ending in ``.csv`` or ``.xml``, at the root or in ``bons-de-livraison/`` (any case), not hidden.
    Raises ``OSError`` when the stick cannot be listed (pulled out)."""
    folders = [root] + [entry for entry in root.iterdir()
                        if entry.name.casefold() == NOTES_FOLDER and stat.S_ISDIR(entry.lstat().st_mode)]
    found: list[tuple[int, Path]] = []
    for folder in folders:
        for entry in folder.iterdir():
            if entry.name.startswith(".") or entry.suffix.lower() not in NOTE_SUFFIXES:
                continue
            status = entry.lstat()
            if stat.S_ISREG(status.st_mode):
                found.append((status.st_mtime_ns, entry))
    found.sort(key=lambda pair: (-pair[0], str(pair[1])))
    return [path for _, path in found[:MAX_FILES]]


def _store(data: bytes, mtime_ns: int, target: Path) -> None:
    """``data`` written to ``target`` in one rename (never a half copy), with the stick's file time."""
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.utime(partial, ns=(mtime_ns, mtime_ns))
    os.replace(partial, target)


def _key(reference: str) -> str:
    """A reference as compared: letters and digits only, no case or accents ("BL 2026/118" = "bl2026118")."""
    plain = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in plain.casefold() if c.isalnum())


class StickWatcher:
    """Watches ``mount_point`` for a stick of delivery notes; see the module's documentation.

    ``is_mounted`` says whether a stick is there (``os.path.ismount`` on the appliance; a test passes
    another test for a folder standing for the mount point). ``opener`` opens a stick's file for
    reading (``open`` in binary mode)."""

    def __init__(self, on_note: Callable[[StickNote], None], on_problem: Callable[[NoteError], None],
                 spool: Path, mount_point: Path = MOUNT_POINT, *, interval: float = 1.0,
                 is_mounted: Callable[[Path], bool] = os.path.ismount,
                 opener: Callable[[Path], BinaryIO] = lambda path: path.open("rb")) -> None:
        self.on_note = on_note
        self.on_problem = on_problem
        self.spool = spool
        self.mount_point = mount_point
        self.interval = interval
        self.is_mounted = is_mounted
        self.opener = opener
        self._lock = threading.RLock()  # on_note may call want()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._present = False  # a stick is mounted (read or not)
        self._copies: list[StickNote] | None = None  # this stick's notes, newest first, once read whole
        self._wanted: str | None = None  # the reference of a scanned delivery-note barcode
        self._handed: StickNote | None = None  # the note last given to on_note for this stick
        self._answered: str | None = None  # the reference last answered (note or problem), not to repeat it

    # -- the session's side

    def want(self, reference: str | None) -> None:
        """A delivery-note barcode was scanned: hand over the stick's note of that reference (now if a
        stick is in, else when one comes). ``None`` goes back to handing over the newest note."""
        with self._lock:
            self._wanted = reference
            self._answered = None
        self._wake.set()

    def start(self) -> None:
        """Watch on a thread of its own until ``stop``."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="usb-stick-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping:
            self.check()
            self._wake.wait(self.interval)
            self._wake.clear()

    # -- one look at the mount point

    def check(self) -> None:
        """Look once: a stick that came is read, one that went is forgotten, a wanted note is handed over."""
        with self._lock:
            if not self.is_mounted(self.mount_point):
                self._present, self._copies, self._handed = False, None, None
                return
            if not self._present:
                self._present, self._answered = True, None
                self._copies = self._read_stick()
            if self._copies:
                self._offer(self._copies)

    def _read_stick(self) -> list[StickNote] | None:
        """Copies of every note on the stick, newest first; None (and one problem) if it went mid-read
        or the copies cannot be stored."""
        try:
            files = note_files(self.mount_point)
        except OSError:
            self.on_problem(NoteError.text("usb_pulled", name=str(self.mount_point)))
            return None
        if not files:
            self._answered = self._wanted
            self.on_problem(NoteError.text("usb_no_note"))
            return []
        try:
            folder = self._new_spool_folder()
        except OSError as error:
            self.on_problem(NoteError.text("usb_spool", path=str(self.spool), why=error.strerror or str(error)))
            return None
        copies: list[StickNote] = []
        for number, path in enumerate(files):
            relative = path.relative_to(self.mount_point).as_posix()
            target = folder / f"{number:02d}-{path.name}"
            try:
                data, mtime_ns = self._read(path)
            except NoteError as error:
                self.on_problem(error)
                continue
            except OSError:
                shutil.rmtree(folder, ignore_errors=True)
                self.on_problem(NoteError.text("usb_pulled", name=relative))
                return None
            try:
                _store(data, mtime_ns, target)
            except OSError as error:
                shutil.rmtree(folder, ignore_errors=True)
                self.on_problem(NoteError.text("usb_spool", path=str(folder), why=error.strerror or str(error)))
                return None
            copies.append(StickNote(target, f"usb:{relative}"))
        return copies

    def _read(self, source: Path) -> tuple[bytes, int]:
        """The whole of ``source`` (at most ``MAX_NOTE_BYTES``) and its time; ``OSError`` if the stick goes."""
        mtime_ns = source.stat().st_mtime_ns
        data = bytearray()
        with self.opener(source) as handle:
            while chunk := handle.read(CHUNK):
                data += chunk
                if len(data) > MAX_NOTE_BYTES:
                    raise NoteError.text("note_too_big", path=f"usb:{source.name}",
                                         high=MAX_NOTE_BYTES // (1024 * 1024))
        return bytes(data), mtime_ns

    def _new_spool_folder(self) -> Path:
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.spool / f"stick-{stamp}"
        folder.mkdir(mode=0o700)
        for old in sorted(self.spool.glob("stick-*"))[:-KEEP_STICKS]:
            shutil.rmtree(old, ignore_errors=True)
        return folder

    def _offer(self, copies: list[StickNote]) -> None:
        """Hand over the wanted note (or the newest when none is wanted), once; a wanted reference the
        stick does not hold is one problem, once."""
        wanted = self._wanted
        choice: StickNote | None = copies[0]
        if wanted is not None:
            if self._answered == wanted:
                return
            choice = self._matching(copies, wanted)
            self._answered = wanted
            if choice is None:
                self.on_problem(NoteError.text("usb_no_match", reference=wanted,
                                               found=", ".join(c.on_stick for c in copies)))
                return
        if choice is not None and choice != self._handed:
            self._handed = choice
            self.on_note(choice)

    @staticmethod
    def _matching(copies: list[StickNote], wanted: str) -> StickNote | None:
        """The copy whose file name, else whose note's reference, is ``wanted`` (compared as ``_key``)."""
        key = _key(wanted)
        for copy in copies:
            if _key(Path(copy.on_stick).stem) == key:
                return copy
        for copy in copies:
            try:
                if _key(load_note_file(copy.path).reference) == key:
                    return copy
            except NoteError:
                continue
        return None
