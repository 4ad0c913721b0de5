"""Credential health (issue 14, item 5): what will stop the counter, shown 30, 7 and 1 days ahead.

On the direct route the pharmacy's password expires 90 days after it was set, its client certificate
after 2 years, and new terms must be accepted by their deadline (BeMVO's notes on the Arvato system).
Each becomes a ``Due`` with the days left; ``notices`` keeps those due within 30 days, so the idle
screen and ``fmd-terminal doctor`` say it early, with the action (``fmd-terminal account ...``), and
the counter never stops by surprise.

Sources: the client certificate's ``notAfter`` (the file), and the account status the service last
gave (``account.json`` in the enrolment directory: written at enrolment and by every
``fmd-terminal account`` command). Pure computation on an injected ``now``: tests freeze the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fmd_terminal.verification.transport import certificate_validity

STEPS = (30, 7, 1)  # days ahead when a due date is shown; its level rises at each step
STATE_FILE = "account.json"
DAY_S = 86400


class Due:
    """One credential's end date: ``kind`` (password, certificate, terms), ``until`` (POSIX seconds)."""

    __slots__ = ("kind", "until")

    def __init__(self, kind: str, until: float) -> None:
        self.kind = kind
        self.until = until

    def days_left(self, now: float) -> int:
        """Whole days left, rounded up (0 on the last day; negative once past)."""
        return math.ceil((self.until - now) / DAY_S) if self.until > now else -1

    def step(self, now: float) -> int | None:
        """The notice step reached (30, 7 or 1; 0 when past), or None when not yet due within 30 days."""
        left = self.days_left(now)
        if left < 0:
            return 0
        reached = [s for s in STEPS if left <= s]
        return min(reached) if reached else None

    def __repr__(self) -> str:
        return f"Due({self.kind!r}, {self.until})"


def _seconds(iso: Any) -> float | None:
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def read_state(directory: Path | None) -> dict[str, Any]:
    if directory is None:
        return {}
    try:
        data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def dues(config: Any, directory: Path | None) -> list[Due]:
    """Every end date known for ``config``: certificate (file), password and terms (last account status)."""
    found = []
    if config.client_cert:
        validity = certificate_validity(config.client_cert)
        if validity is not None:
            found.append(Due("certificate", validity[1]))
    state = read_state(directory)
    password = _seconds(state.get("passwordExpiresAt"))
    if password is not None:
        found.append(Due("password", password))
    terms = state.get("terms")
    if not isinstance(terms, dict):
        terms = {}
    deadline = _seconds(terms.get("deadline"))
    if deadline is not None and not terms.get("accepted"):
        found.append(Due("terms", deadline))
    return found


def notices(items: list[Due], now: float) -> list[tuple[Due, int, int]]:
    """(due, step, days left) for those within 30 days or past, the most urgent first."""
    shown = [(d, d.step(now), d.days_left(now)) for d in items]
    return sorted(((d, s, left) for d, s, left in shown if s is not None), key=lambda x: x[0].until)


KINDS = ("certificate", "password", "terms")
# a state's light, as the idle screen and ``doctor`` rank it: due within 30 days is a notice (amber,
# doctor WARN), past is a stop (red, doctor FAIL); a date not known is amber (unsure, never green)
LEVELS = {"ok": "green", "due": "amber", "expired": "red", "unknown": "amber", "none": ""}


def states(config: Any, directory: Path | None, now: float) -> list[tuple[str, str, int | None, float | None]]:
    """Every credential's state, for the console's status page: (kind, state, days left, end date) in
    ``KINDS`` order. ``state``: ``ok`` (not due within 30 days, or terms accepted), ``due`` (within 30
    days: the idle screen says it), ``expired``, ``unknown`` (no date: an unreadable certificate, or no
    account status yet) or ``none`` (no client certificate configured)."""
    found = {due.kind: due for due in dues(config, directory)}
    terms_known = isinstance(read_state(directory).get("terms"), dict)  # accepted, or nothing to accept by a date
    out: list[tuple[str, str, int | None, float | None]] = []
    for kind in KINDS:
        due = found.get(kind)
        if due is None:
            state = ("none" if kind == "certificate" and not config.client_cert
                     else "ok" if kind == "terms" and terms_known else "unknown")
            out.append((kind, state, None, None))
            continue
        step = due.step(now)
        state = "ok" if step is None else "expired" if step == 0 else "due"
        out.append((kind, state, due.days_left(now), due.until))
    return out


def idle_lines(config: Any, directory: Path | None, translate: Any, now: float) -> list[str]:
    """The idle screen's lines for what is due (``health.<kind>`` with the days left, or expired)."""
    lines = []
    for due, step, left in notices(dues(config, directory), now):
        key = f"health.{due.kind}.expired" if step == 0 else f"health.{due.kind}"
        lines.append(translate(key, days=max(left, 0)))
    return lines


class IdleHealth:
    """The idle screen's credential lines, read again at most every ``every_s`` seconds (files are cheap,
    but the idle screen is redrawn often)."""

    def __init__(self, config: Any, translate: Any, now: Callable[[], float] = time.time, every_s: float = 60.0):
        from fmd_terminal.config import enrolment_path

        self.config = config
        self.directory = enrolment_path(config)
        self.translate = translate
        self.now = now
        self.every_s = every_s
        self._lines: list[str] = []
        self._read_at: float | None = None

    def forget(self) -> None:
        """Read the lines again on the next call (the language changed)."""
        self._read_at = None

    def __call__(self) -> list[str]:
        now = self.now()
        if self._read_at is None or not 0 <= now - self._read_at < self.every_s:
            self._lines = idle_lines(self.config, self.directory, self.translate, now)
            self._read_at = now
        return self._lines
