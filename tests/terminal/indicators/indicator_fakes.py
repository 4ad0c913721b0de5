"""Test doubles for the indicators: a wait that does not sleep."""

from __future__ import annotations

import threading


class InstantWait:
    """Replaces the player's ``stop.wait(seconds)``: records each wait and returns at once.

    ``on_wait`` (optional) runs at each wait, e.g. to look at the pins while an output is on.
    """

    def __init__(self, on_wait=None):
        self.waits: list[float] = []
        self.on_wait = on_wait

    def __call__(self, stop: threading.Event, seconds: float) -> bool:
        self.waits.append(round(seconds, 6))
        if self.on_wait is not None:
            self.on_wait()
        return stop.is_set()
