"""Who may use the console: the admin password, sessions, login rate limiting, CSRF and the audit trail.

- No default password (ETSI EN 303 645, provision 5.1-1): until one is set, the console only offers
  "set the admin password", which needs the one-time setup code the terminal writes beside the
  password file (owner-only, 0600) at its first start; the code is never logged.
- The password is kept as a salted PBKDF2-HMAC-SHA256 hash (RFC 8018; 600 000 iterations, OWASP's
  figure) in a file readable by its owner only (0600). Not scrypt: its 16 MiB work area stayed in
  each handler thread's heap, measured as 16 MB of RSS per login by ``make bench`` (``bench_console``).
- A session is a random token in an ``HttpOnly; SameSite=Strict`` cookie (``Secure`` over HTTPS),
  known to this terminal only (a second terminal's cookie means nothing here), bound to the browser
  that logged in (its User-Agent: the same cookie from another browser ends the session), and ends
  after ``idle_s`` without a request or ``max_s`` in all.
- Every form carries the session's CSRF token; a POST without it, or with another, is refused.
- Failed logins are limited per client address: after ``FREE_FAILURES`` failures, each further try
  waits twice as long as the one before (from ``FIRST_LOCK_S`` up to ``MAX_LOCK_S``).
- Every action is written to the audit trail (JSON lines, 0600) with who, when, from where and what.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fmd_terminal.errors import ConfigError

ITERATIONS = 600_000  # OWASP Password Storage Cheat Sheet (2023) for PBKDF2-HMAC-SHA256
MIN_PASSWORD = 10
FREE_FAILURES = 5
FIRST_LOCK_S = 30.0
MAX_LOCK_S = 900.0
ENDED_KEPT = 1000


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (0600), replacing it whole."""
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> dict[str, Any]:
    salt = salt or secrets.token_bytes(16)
    return {"scheme": "pbkdf2-sha256", "iterations": iterations, "salt": base64.b64encode(salt).decode(),
            "hash": base64.b64encode(_derive(password, salt, iterations)).decode()}


def password_matches(password: str, stored: dict[str, Any]) -> bool:
    if stored.get("scheme") != "pbkdf2-sha256":
        raise ConfigError(f"console: the admin password file holds an unknown scheme {stored.get('scheme')!r}")
    digest = _derive(password, base64.b64decode(stored["salt"]), int(stored["iterations"]))
    return hmac.compare_digest(digest, base64.b64decode(stored["hash"]))


class Credentials:
    """The admin password file and the one-time setup code, both 0600 in ``directory``."""

    def __init__(self, directory: Path, iterations: int = ITERATIONS) -> None:
        self.directory = directory
        self.iterations = iterations  # fewer only in the unit tests
        self.password_file = directory / "admin-password"
        self.setup_file = directory / "setup-code"
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"console: cannot create {str(directory)!r}: {error.strerror}") from error
        if not self.is_set() and not self.setup_file.exists():
            _write_private(self.setup_file, secrets.token_hex(4) + "\n")

    def is_set(self) -> bool:
        return self.password_file.exists()

    def setup_code(self) -> str:
        return self.setup_file.read_text(encoding="utf-8").strip()

    def set_first(self, code: str, password: str) -> bool:
        """Set the password at first use; False when one is set already or the code is wrong."""
        if self.is_set() or not hmac.compare_digest(code.strip().lower(), self.setup_code()):
            return False
        self.set(password)
        self.setup_file.unlink(missing_ok=True)
        return True

    def set(self, password: str) -> None:
        _write_private(self.password_file, json.dumps(hash_password(password, iterations=self.iterations)) + "\n")

    def check(self, password: str) -> bool:
        if not self.is_set():
            return False
        return password_matches(password, json.loads(self.password_file.read_text(encoding="utf-8")))


@dataclass
class Session:
    user: str
    agent: str
    csrf: str
    lang: str
    created: float
    seen: float
    token: str = field(repr=False, default="")


class Sessions:
    """Server-side sessions: token -> ``Session``; ``clock`` is monotonic seconds (tests move it)."""

    def __init__(self, idle_s: float, max_s: float, clock=time.monotonic) -> None:
        self.idle_s, self.max_s, self.clock = idle_s, max_s, clock
        self._sessions: dict[str, Session] = {}
        self._ended: dict[str, str] = {}  # token -> why it ended (the last ENDED_KEPT), to say so once
        self._lock = threading.Lock()

    def _end(self, token: str, why: str) -> None:
        del self._sessions[token]
        self._ended[token] = why
        while len(self._ended) > ENDED_KEPT:
            del self._ended[next(iter(self._ended))]

    def open(self, user: str, agent: str, lang: str) -> Session:
        now = self.clock()
        session = Session(user, agent, secrets.token_urlsafe(24), lang, now, now, secrets.token_urlsafe(32))
        with self._lock:
            self._sessions[session.token] = session
        return session

    def find(self, token: str | None, agent: str, touch: bool = True) -> tuple[Session | None, str | None]:
        """The live session of ``token`` for this browser, else (None, why): ``expired``, ``other_browser``.
        ``touch=False`` (the live stream) does not count as a request: an open status page does not
        keep a session alive."""
        if not token:
            return None, None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None, self._ended.pop(token, None)
            if now - session.seen > self.idle_s or now - session.created > self.max_s:
                self._end(token, "expired")
                return None, "expired"
            if not hmac.compare_digest(session.agent, agent):
                self._end(token, "other_browser")  # a copied cookie: the session ends for both
                return None, "other_browser"
            if touch:
                session.seen = now
            return session, None

    def close(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)


class LoginLimiter:
    """Failed logins per client address; ``wait_s(client)`` > 0 while that client must wait."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        with self._lock:
            count, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count, _until = self._failures.get(client, (0, 0.0))
            count += 1
            lock = 0.0 if count < FREE_FAILURES else min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (count - FREE_FAILURES))
            self._failures[client] = (count, self.clock() + lock)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Audit:
    """The console's audit trail: one JSON line per action (who, when, from where, what), file 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        if not path.exists():
            _write_private(path, "")

    def write(self, user: str, client: str, action: str, **detail: Any) -> dict[str, Any]:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "user": user, "client": client, "action": action,
                 **detail}
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def today(self) -> list[dict[str, Any]]:
        day = time.strftime("%Y-%m-%d")
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [entry for entry in map(json.loads, lines) if entry["time"].startswith(day)]
