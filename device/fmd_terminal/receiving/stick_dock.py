"""The USB stick of delivery notes wired to a running terminal (issue 17): ``fmd-terminal run`` on a device
whose role has receive mode (``reception``, ``pui_dock``) watches ``usb_notes`` (default ``MOUNT_POINT``).

A note the watcher hands over is read (``StickNote.load``) on the watcher's thread and given to
``Terminal.request_receiving``; a problem (the stick pulled out, no note on it, a bad note) goes to
``Terminal.request_note_problem``: the loop's thread draws it, never the watcher's. A scanned
``FMD-NOTE-<reference>`` the notes folder does not hold asks the watcher for it (``Terminal.stick``).
The stick's copies are kept in ``usb-notes/`` beside the outbox (the terminal's state folder).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fmd_core.modes import RECEIVE, modes_of
from fmd_terminal.outbox.commands_support import sqlite_path
from fmd_terminal.receiving.note import NoteError
from fmd_terminal.receiving.usb import StickNote, StickWatcher

SPOOL_FOLDER = "usb-notes"


def spool_of(config: Any, stack: contextlib.ExitStack) -> Path:
    """``usb-notes/`` beside a ``sqlite://`` outbox; a folder removed at the end for a ``memory://`` one."""
    database = sqlite_path(config.outbox)
    if database:
        return Path(database).resolve().parent / SPOOL_FOLDER
    folder = tempfile.mkdtemp(prefix="fmd-usb-notes-")
    stack.callback(shutil.rmtree, folder, True)
    return Path(folder)


def hand_over(terminal: Any, found: StickNote) -> None:
    """On the watcher's thread: the note read from its local copy, to the loop; a bad note is a problem."""
    try:
        note = found.load()
    except NoteError as error:
        terminal.request_note_problem(error, Path(found.on_stick).name)
    else:
        terminal.request_receiving(note)


def watch_sticks(terminal: Any, config: Any, stack: contextlib.ExitStack, **watcher_options: Any) -> StickWatcher | None:
    """Start watching ``config.usb_notes`` for ``terminal`` (stopped when ``stack`` closes); None where the
    role has no receive mode or ``usb_notes`` is empty. ``watcher_options`` go to ``StickWatcher`` (tests)."""
    if not config.usb_notes or not config.role or RECEIVE not in modes_of(config.role):
        return None
    watcher = StickWatcher(lambda found: hand_over(terminal, found), terminal.request_note_problem,
                           spool_of(config, stack), Path(config.usb_notes), **watcher_options)
    terminal.stick = watcher
    watcher.start()
    stack.callback(watcher.stop)
    return watcher
