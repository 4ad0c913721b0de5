"""Enrolment from the console (issue 15, with issue 14's enrolment): an installer types the enrolment
code's text (the line printed under the subscription page's Data Matrix) instead of scanning it.

The code is not tried in the console's thread: it is handed to the terminal's enrolment screen
(``enrolment_screen.EnrolmentScreen.run``), which tries it between two scans exactly as a scanned code
(the same ``enrolment.enrol``, the same screens on the OLED, one attempt at a time). The page follows
the attempt's steps (``enrolment.STEPS``) and shows its result. The code is forgotten once tried: no
page, log or audit line holds it, nor any credential the enrolment wrote.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

WAITING, WORKING, ENROLLED, REFUSED = "waiting", "working", "enrolled", "refused"


class Job:
    """One code typed in the console, from the hand-over to its result."""

    def __init__(self, code: str, user: str, client: str, on_done: Callable[[Job], None]) -> None:
        self.code = code
        self.user, self.client = user, client
        self.submitted = time.time()
        self.state = WAITING
        self.steps: list[str] = []  # the steps started, the last one the current one while working
        self.enrolled: Any = None  # enrolment.Enrolled
        self.refused: Any = None  # enrolment.EnrolmentFailed
        self._on_done = on_done

    @property
    def running(self) -> bool:
        return self.state in (WAITING, WORKING)

    def progress(self, step: str) -> None:
        self.state = WORKING
        self.steps.append(step)

    def finished(self, enrolled: Any, refused: Any) -> None:
        self.code = ""  # tried: forgotten
        self.enrolled, self.refused = enrolled, refused
        self.state = ENROLLED if enrolled is not None else REFUSED
        self._on_done(self)


class Desk:
    """Where the console hands a code to the enrolment screen: open while the terminal waits for its
    enrolment, one attempt at a time; ``job`` is the latest, for the page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handed: Job | None = None
        self.job: Job | None = None
        self.open = True

    def submit(self, code: str, user: str, client: str, on_done: Callable[[Job], None]) -> Job | None:
        """A new attempt, or None when the terminal no longer waits or another attempt is running."""
        with self._lock:
            if not self.open or (self.job is not None and self.job.running):
                return None
            self.job = self._handed = Job(code, user, client, on_done)
            return self.job

    def take(self) -> Job | None:
        """The code handed over, once (the enrolment screen's loop)."""
        with self._lock:
            job, self._handed = self._handed, None
            return job
