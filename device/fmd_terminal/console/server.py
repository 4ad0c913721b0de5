"""The console's HTTP server: the standard library's ``ThreadingHTTPServer`` in a daemon thread.

Why not an ASGI app on uvicorn: the terminal's device extras do not carry uvicorn (only the host's
do), and a Pi Zero 2 W has 512 MB; the standard library's server adds no dependency and, measured by
``make bench`` (``benchmarks/bench_console.py``), a few MB of RSS. A page is a few SQLite reads.

Routes: ``/`` status, ``/events`` (server-sent events: the status as JSON when it changes, checked
every ``LIVE_PERIOD_S``), ``/attention``, ``/history``, ``/export`` (+ ``/export.csv``,
``/export.jsonl``, ``/backup.db``), ``/calibration``, ``/settings``, ``/enrol`` (the terminal's
enrolment: ``console.enrolling``), ``/logs`` (+ ``/logs.txt``); ``/login``, ``/setup`` (first use),
``/logout``; ``/receiving`` (a delivery note uploaded to start a receiving session, its progress, its
closing; past sessions' summaries as ``/receipt.csv`` and ``/receipt.pdf``). While the terminal waits for its enrolment, only ``/enrol`` and ``/logs`` are served. Security headers on every answer: a strict Content-Security-Policy (the
console's own script and stylesheet only), no framing, no caching of pages.
"""

from __future__ import annotations

import collections
import email.policy
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import replace
from email.parser import BytesParser
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fmd_terminal import settings_file
from fmd_terminal.console import pages, views
from fmd_terminal.console.enrolling import Desk, Job
from fmd_terminal.console.security import MIN_PASSWORD, Audit, Credentials, LoginLimiter, Session, Sessions
from fmd_terminal.errors import TerminalError
from fmd_terminal.i18n import LANGUAGES
from fmd_terminal.receiving.note_files import NOTE_SUFFIXES

log = logging.getLogger(__name__)

COOKIE = "fmd_console"
PRE_COOKIE = "fmd_console_login"  # the login and setup forms' CSRF token (double submit)
LIVE_PERIOD_S = 0.25
HEALTH_PERIOD_S = 2.0  # the certificate and account files are read again at most this often
MAX_BODY = 16 * 1024
UPLOAD_OVERHEAD = 16 * 1024  # a multipart form's boundaries and other fields, beside the note's bytes
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class DayLog(logging.Handler):
    """Today's log records at every level, whatever level the terminal writes to its journal: the logs
    page's "logs of the day" (issue 15). Bounded: the last ``size`` records of each level, so a flood of
    DEBUG lines never pushes the day's errors out. A record is kept as text, with every secret masked
    (``redact``) before it is stored: no page or download can show one."""

    LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")  # CRITICAL is kept with ERROR

    def __init__(self, size: int = 1000, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(logging.DEBUG)
        self.rings: dict[str, collections.deque[tuple[float, str]]] = {
            level: collections.deque(maxlen=size) for level in self.LEVELS}
        self.secrets: set[str] = set()
        self.add_secrets(*secrets)

    def add_secrets(self, *values: str) -> None:
        """Values masked wherever they appear (the service's secret, a key's PIN); short ones are not
        secrets worth the name (and masking "1" would mangle every line)."""
        self.secrets |= {value for value in values if value and len(value) >= 6}

    def redact(self, line: str) -> str:
        for value in self.secrets:
            line = line.replace(value, MASK)
        for pattern in REDACTIONS:
            line = pattern.sub(r"\1" + MASK, line)
        return line

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        except Exception:  # noqa: BLE001 (a record that cannot be formatted must not break the caller)
            text = str(record.msg)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        level = self.LEVELS[min(max(record.levelno // 10 - 1, 0), 3)]
        self.rings[level].append((record.created, f"{stamp} {level} {record.name}: {self.redact(text)}"))

    def today(self, level: str = "DEBUG") -> list[str]:
        """Today's lines at ``level`` or above, oldest first."""
        shown = self.LEVELS[self.LEVELS.index(level):] if level in self.LEVELS else self.LEVELS
        assert self.lock is not None  # made by logging.Handler's constructor
        with self.lock:  # the rings are appended to by every thread that logs
            kept = [entry for name in shown for entry in self.rings[name]]
        midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
        return [line for created, line in sorted(kept) if created >= midnight]


MASK = "•••"
# What a log line must never show, whatever wrote it: what follows the first group is masked
REDACTIONS = (
    re.compile(r"(FMD-ENROL/1\s+)\S+(?:\s+\S+\s+\S+)?", re.IGNORECASE),  # a one-time enrolment code
    re.compile(r"(\bBearer\s+)[\w.~+/=-]+", re.IGNORECASE),
    re.compile(r"((?:secret|password|passwd|token|pin)[\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+", re.IGNORECASE),
)


class Console:
    """What the handler needs: the terminal, its configuration, credentials, sessions, audit and log."""

    def __init__(self, terminal: Any, config: Any, credentials: Credentials, sessions: Sessions,
                 audit: Audit, day_log: DayLog, secure: bool) -> None:
        self.terminal, self.config = terminal, config  # ``config``: as saved by the settings page
        self.started = config  # as the terminal started: its scanner and indicators until a restart
        self.credentials, self.sessions, self.audit, self.day_log = credentials, sessions, audit, day_log
        self.limiter = LoginLimiter()
        self.secure = secure
        self.address = ""
        self.stopping = threading.Event()
        self._status: tuple[float, dict[str, Any]] | None = None
        self._status_lock = threading.Lock()
        self._credentials: tuple[float, list[dict[str, Any]]] | None = None
        # while the terminal waits for its enrolment (``terminal`` None): the enrolment page's desk
        self.desk: Desk | None = Desk() if terminal is None else None

    def attach(self, config: Any, terminal: Any) -> None:
        """The terminal, built once enrolled: every page serves it from now on."""
        self.day_log.add_secrets(config.client_secret, config.client_key_pin)
        self.config, self.terminal = config, terminal
        if self.desk is not None:
            self.desk.open = False
            unused = self.desk.take()  # typed while a scan enrolled the terminal: never tried
            if unused is not None:
                unused.finished(None, None)

    def enrol_done(self, job: Job) -> None:
        """An attempt from the console ended (in the enrolment screen's thread): who, when, what."""
        if job.enrolled is not None:
            assert self.desk is not None
            self.desk.open = False
            self.audit.write(job.user, job.client, "enrolled", pharmacy=job.enrolled.pharmacy_name,
                             finess=job.enrolled.finess, route=job.enrolled.route)
        else:
            self.audit.write(job.user, job.client, "refused_enrol",
                             reason=job.refused.reason if job.refused is not None else "superseded")

    def status(self) -> dict[str, Any]:
        """The terminal's status, read at most once per ``LIVE_PERIOD_S`` for every page and live
        stream together: an open status page costs the scan path a few reads a second, not more."""
        with self._status_lock:
            now = time.monotonic()
            if self._status is None or now - self._status[0] >= LIVE_PERIOD_S:
                if self._credentials is None or now - self._credentials[0] >= HEALTH_PERIOD_S:
                    self._credentials = (now, views.credentials(self.config))
                self._status = (now, {**views.status(self.terminal), "credentials": self._credentials[1]})
            return self._status[1]


class Handler(BaseHTTPRequestHandler):
    server_version = "fmd-console"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK wait per page)
    upload: tuple[str, bytes] | None = None  # the file of a multipart form (the receiving page's note)
    console: Console  # set on the subclass made by ``serve``

    # -- plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        log.debug("%s %s", self.client_address[0], format % args)

    def _cookie(self, name: str) -> str | None:
        jar = cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except cookies.CookieError:
            return None
        return jar[name].value if name in jar else None

    def _set_cookie(self, name: str, value: str, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if self.console.secure:
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        return "; ".join(parts)

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None, set_cookies: tuple[str, ...] = ()) -> None:
        self.send_response(status)
        for name, value in {**HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        for cookie in set_cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, html: str, status: int = 200, set_cookies: tuple[str, ...] = ()) -> None:
        self._send(status, html.encode("utf-8"), set_cookies=set_cookies)

    def _redirect(self, where: str, set_cookies: tuple[str, ...] = ()) -> None:
        self._send(303, b"", headers={"Location": where}, set_cookies=set_cookies)

    def _form(self) -> dict[str, str]:
        """The POSTed fields; a multipart form's file goes to ``self.upload`` (name, bytes). A body above
        the limit is not read: ``{"too_big": "1"}`` (and the connection closes)."""
        length = int(self.headers.get("Content-Length") or 0)
        kind = self.headers.get("Content-Type", "")
        if length > (MAX_BODY if not kind.startswith("multipart/form-data") else max_upload()):
            self.close_connection = True
            return {"too_big": "1"}
        data = self.rfile.read(length)
        if kind.startswith("multipart/form-data"):
            return self._multipart(kind, data)
        return {key: values[0] for key, values in parse_qs(data.decode("utf-8", "replace"),
                                                           keep_blank_values=True).items()}

    def _multipart(self, kind: str, data: bytes) -> dict[str, str]:
        """A ``multipart/form-data`` body (the standard library's MIME parser): text fields, and the file."""
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + kind.encode("latin-1", "replace") + b"\r\n\r\n" + data)
        fields: dict[str, str] = {}
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition") or ""
            payload = part.get_payload(decode=True) or b""
            if not isinstance(payload, bytes):  # a nested multipart: not a field this form has
                continue
            if part.get_filename() is not None:
                self.upload = (part.get_filename() or "", payload)
            else:
                fields[str(name)] = payload.decode("utf-8", "replace")
        return fields

    @property
    def _client(self) -> str:
        return self.client_address[0]

    @property
    def _agent(self) -> str:
        return self.headers.get("User-Agent", "")

    def _lang(self, query: dict[str, str], session: Session | None = None) -> str:
        asked = query.get("lang")
        if asked in LANGUAGES:
            return asked
        return session.lang if session is not None else self.console.config.lang

    # -- dispatch ------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        try:
            if path == "/console.css":
                return self._send(200, pages.CSS.encode(), "text/css; charset=utf-8")
            if path == "/console.js":
                return self._send(200, pages.SCRIPT.encode(), "text/javascript; charset=utf-8")
            if path in ("/login", "/setup"):
                return self._login_page(method, path, query)
            session, why = self.console.sessions.find(self._cookie(COOKIE), self._agent)
            if session is None:
                return self._to_login(query, why)
            form: dict[str, str] = {}
            self.upload = None
            if method == "POST":
                form = self._form()
                if form.get("too_big") and path == "/receiving":  # nothing read, nothing changed
                    self.console.audit.write(session.user, self._client, "refused_note", why="too_big")
                    return self.receiving(session, query, {}, pages.t(session.lang, "note_big", high=max_upload_mb()),
                                          refused=True, status=413)
                if not secrets.compare_digest(form.get("csrf", ""), session.csrf):
                    self.console.audit.write(session.user, self._client, "refused_csrf", path=path)
                    return self._html(pages.page(session.lang, "nav.status", pages.message(
                        pages.t(session.lang, "csrf"), refused=True), user=session.user, csrf=session.csrf), 403)
            if self.console.terminal is None and path not in WITHOUT_TERMINAL:
                # waiting for its enrolment: nothing else to show yet
                return self._send(204, b"") if path == "/events" else self._redirect("/enrol")
            route = ROUTES.get((method, path))
            if route is None:
                return self._html(pages.page(session.lang, "not_found", ""), 404)
            return route(self, session, query, form)
        except TerminalError as error:  # a storage or configuration problem: said, never a traceback
            log.error("console: %s %s: %s", method, path, error)
            self._html(pages.page(self.console.config.lang, "nav.status", pages.message(str(error), True)), 500)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- login, first use, logout -------------------------------------------------------------

    def _to_login(self, query: dict[str, str], why: str | None) -> None:
        lang = self._lang(query)
        suffix = f"?lang={lang}" + (f"&why={why}" if why else "")
        if self.path.startswith("/events"):
            return self._send(401, b"", "text/plain")
        self._redirect("/login" + suffix)

    def _login_page(self, method: str, path: str, query: dict[str, str]) -> None:
        console = self.console
        lang = self._lang(query)
        if not console.credentials.is_set() and path == "/login":
            return self._redirect(f"/setup?lang={lang}")
        if console.credentials.is_set() and path == "/setup":
            return self._redirect(f"/login?lang={lang}")
        render = pages.setup if path == "/setup" else pages.login
        pre = self._cookie(PRE_COOKIE) or ""
        if method == "GET":
            pre = pre or secrets.token_urlsafe(24)
            note = pages.t(lang, query["why"]) if query.get("why") in ("expired", "other_browser") else ""
            if query.get("done"):
                note = pages.t(lang, "password_set")
            return self._html(render(lang, pre, note), set_cookies=(self._set_cookie(PRE_COOKIE, pre),))
        form = self._form()
        lang = form["lang"] if form.get("lang") in LANGUAGES else lang
        if not pre or not secrets.compare_digest(form.get("csrf", ""), pre):
            console.audit.write(form.get("user", ""), self._client, "refused_csrf", path=path)
            return self._html(render(lang, pre or secrets.token_urlsafe(24), pages.t(lang, "csrf"), True), 403)
        wait = console.limiter.wait_s(self._client)
        if wait > 0:
            console.audit.write(form.get("user", ""), self._client, "refused_rate_limit", path=path)
            return self._html(render(lang, pre, pages.t(lang, "too_many", seconds=int(wait) + 1), True), 429)
        if path == "/setup":
            password = form.get("password", "")
            if len(password) < MIN_PASSWORD or not console.credentials.set_first(form.get("code", ""), password):
                console.limiter.failed(self._client)
                console.audit.write("", self._client, "refused_setup")
                return self._html(render(lang, pre, pages.t(lang, "bad_setup"), True), 400)
            console.audit.write("admin", self._client, "password_set")
            return self._redirect(f"/login?lang={lang}&done=1")
        user = form.get("user", "").strip()[:60]
        if not user or not console.credentials.check(form.get("password", "")):
            console.limiter.failed(self._client)
            console.audit.write(user, self._client, "refused_login")
            return self._html(render(lang, pre, pages.t(lang, "bad_login"), True), 403)
        console.limiter.succeeded(self._client)
        session = console.sessions.open(user, self._agent, lang)
        console.audit.write(user, self._client, "login")
        self._redirect("/", set_cookies=(self._set_cookie(COOKIE, session.token),
                                         self._set_cookie(PRE_COOKIE, "", max_age=0)))

    def logout(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        self.console.sessions.close(session.token)
        self.console.audit.write(session.user, self._client, "logout")
        self._redirect(f"/login?lang={session.lang}", set_cookies=(self._set_cookie(COOKIE, "", max_age=0),))

    # -- pages ---------------------------------------------------------------------------------

    def _page(self, session: Session, title: str, body: str, status: int = 200, script: bool = False) -> None:
        self._html(pages.page(session.lang, title, body, user=session.user, csrf=session.csrf, script=script),
                   status)

    def status(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        state = self.console.status()
        view = pages.status_view(state, session.lang)
        self._page(session, "nav.status", pages.status(view, session.lang, state["level"]), script=True)

    def events(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """Server-sent events: the status whenever it changes; ends with the session or the console."""
        self.send_response(200)
        for name, value in HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.end_headers()
        self.close_connection = True
        last = None
        console = self.console
        while not console.stopping.is_set():
            if console.sessions.find(session.token, session.agent, touch=False)[0] is None:
                return
            state = console.status()
            message = json.dumps({"level": state["level"], "view": pages.status_view(state, session.lang)},
                                 ensure_ascii=False)
            if message != last:
                self.wfile.write(f"data: {message}\n\n".encode())
                self.wfile.flush()
                last = message
            console.stopping.wait(LIVE_PERIOD_S)

    def attention(self, session: Session, query: dict[str, str], form: dict[str, str], note: str = "",
                  refused: bool = False) -> None:
        from fmd_terminal.commands.attention import describe
        from fmd_terminal.outbox.texts import Texts

        box = self.console.terminal.outbox
        procedures = Texts(session.lang)
        entries = [describe(box, row) for row in box.attention()]
        body = pages.message(note, refused) + pages.attention(entries, session.lang, session.csrf,
                                                              procedures.procedure)
        self._page(session, "nav.attention", body, 200 if not refused else 400)

    def resolve(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        from fmd_terminal.commands.attention import resolve
        from fmd_terminal.outbox.sqlite import ResolutionRefused
        from fmd_terminal.outbox.texts import Texts

        texts = Texts(session.lang)
        action, seq = form.get("action", ""), form.get("seq", "")
        detail = {"seq": seq, "reason": form.get("reason") or None, "note": form.get("note") or None}
        try:
            if action not in ("retry", "accept", "cancel") or not seq.isdigit():
                raise ResolutionRefused(texts("no_op", seq=seq))
            state = resolve(self.console.terminal.outbox, action, int(seq), session.user, texts,
                            reason=form.get("reason") if action == "cancel" else None,
                            note=form.get("note") or None, rescan=form.get("rescan") or None)
        except (ResolutionRefused, TerminalError) as refused:
            self.console.audit.write(session.user, self._client, "refused_" + action, **detail, why=str(refused))
            return self.attention(session, query, form, pages.escape(str(refused)), refused=True)
        self.console.audit.write(session.user, self._client, action, **detail, state=state)
        self.attention(session, query, form, pages.t(session.lang, "resolved", seq=seq, state=texts.word(state)))

    def receiving(self, session: Session, query: dict[str, str], form: dict[str, str], note: str = "",
                  refused: bool = False, status: int = 200) -> None:
        """The receiving page (issue 17): see ``pages.receiving``."""
        view = views.receiving(self.console.terminal)
        body = pages.message(note, refused) + pages.receiving(session.lang, session.csrf, view, max_upload_mb())
        self._page(session, "nav.receiving", body, status)

    def receiving_action(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """``start`` with an uploaded note (read by ``load_note_file`` from a private temporary copy under
        the uploaded file's name, so every message names it), or ``close``: asked of the terminal's loop
        (``request_receiving``, ``request_close``); who, what and when in the audit trail."""
        from fmd_core.modes import RECEIVE
        from fmd_terminal.receiving.note import NoteError

        console, lang = self.console, session.lang
        terminal = console.terminal
        if RECEIVE not in terminal.flow.modes:
            console.audit.write(session.user, self._client, "refused_note", why="role")
            return self.receiving(session, query, form, pages.t(lang, "receive_role", role=terminal.flow.role),
                                  refused=True, status=409)
        if form.get("action") == "close":
            terminal.request_close()
            console.audit.write(session.user, self._client, "receive_close")
            return self.receiving(session, query, form, pages.t(lang, "receiving_closing"))
        name = os.path.basename((self.upload or ("", b""))[0].replace("\\", "/"))
        if self.upload is None or not name or not self.upload[1]:
            return self.receiving(session, query, form, pages.t(lang, "note_none"), refused=True, status=400)
        if os.path.splitext(name)[1].lower() not in NOTE_SUFFIXES:
            console.audit.write(session.user, self._client, "refused_note", file=name, why="type")
            return self.receiving(session, query, form, pages.t(lang, "note_type", name=name), refused=True,
                                  status=400)
        try:
            note = views.uploaded_note(name, self.upload[1])
        except NoteError as error:
            console.audit.write(session.user, self._client, "refused_note", file=name,
                                problems=len(error.problems))
            lines = "".join(f"<li>{pages.escape(problem.in_language(lang))}</li>" for problem in error.problems)
            return self.receiving(session, query, form, pages.t(lang, "note_refused") + f'<ul id="problems">{lines}'
                                  "</ul>", refused=True, status=400)
        terminal.request_receiving(note)
        packs = sum(line.quantity for line in note.lines)
        console.audit.write(session.user, self._client, "receive_note", file=name, reference=note.reference,
                            lines=len(note.lines), packs=packs)
        log.info("console: %s started receiving %s (%s)", session.user, note.reference, name)
        self.receiving(session, query, form, pages.t(lang, "receiving_started", reference=note.reference,
                                                     lines=len(note.lines), packs=packs))

    def _receipt(self, session: Session, query: dict[str, str], kind: str) -> None:
        asked = query.get("id", "")
        found = views.receipt_file(self.console.terminal.outbox, int(asked), kind, session.lang) \
            if asked.isdigit() else None
        if found is None:
            return self.receiving(session, query, {}, pages.t(session.lang, "no_receipt", id=asked), refused=True,
                                  status=404)
        name, body = found
        self._download(session, name, body, "text/csv; charset=utf-8" if kind == "csv" else "application/pdf")

    def receipt_csv(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        self._receipt(session, query, "csv")

    def receipt_pdf(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        self._receipt(session, query, "pdf")

    def history(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        try:
            rows = views.history(self.console.terminal.outbox, query.get("product_code", "").strip(),
                                 query.get("serial", "").strip(), query.get("day", "").strip())
        except ValueError:
            body = pages.message(pages.t(session.lang, "bad_day"), True) + pages.history([], session.lang, query)
            return self._page(session, "nav.history", body, 400)
        self._page(session, "nav.history", pages.history(rows, session.lang, query))

    def export_page(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        from fmd_terminal.outbox.commands_support import sqlite_path

        has_backup = sqlite_path(self.console.config.outbox) is not None
        self._page(session, "nav.export", pages.export(session.lang, has_backup))

    def _download(self, session: Session, name: str, body: bytes, content_type: str) -> None:
        self.console.audit.write(session.user, self._client, "download", file=name, bytes=len(body))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self._send(200, body, content_type,
                   headers={"Content-Disposition": f'attachment; filename="fmd-{stamp}-{name}"'})

    def export_csv(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        self._download(session, "export.csv", views.export(self.console.terminal.outbox, "csv"),
                       "text/csv; charset=utf-8")

    def export_jsonl(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        self._download(session, "export.jsonl", views.export(self.console.terminal.outbox, "jsonl"),
                       "application/jsonl; charset=utf-8")

    def backup(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        body = views.backup(self.console.config.outbox)
        if body is None:
            return self._page(session, "nav.export", pages.message(pages.t(session.lang, "no_backup"), True), 404)
        self._download(session, "outbox-backup.db", body, "application/vnd.sqlite3")

    def calibration(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        info = views.calibration(self.console.terminal, session.lang)
        self._page(session, "nav.calibration", pages.calibration(info, session.lang))

    def settings(self, session: Session, query: dict[str, str], form: dict[str, str], note: str = "",
                 refused: bool = False, shown: dict[str, str] | None = None) -> None:
        """The settings page; ``shown``: values that override the terminal's (the form as the person sent
        it, to correct; the mode just asked for, which the terminal takes at its loop's next turn)."""
        console = self.console
        values = {"mode": console.terminal.flow.mode, "lang": console.config.lang,
                  "scanner": console.config.scanner, "indicators": console.config.indicators}
        pending = {key: getattr(console.started, key) for key in ("scanner", "indicators")
                   if getattr(console.started, key) != getattr(console.config, key)}  # saved, not yet in use
        values.update({key: value for key, value in (shown or {}).items() if key in settings_file.KEYS})
        problem = console.config.settings_problem  # the settings file ignored at start: said, and why
        body = pages.message(note, refused) + pages.settings(
            session.lang, values, pending, console.config.settings_file, console.config.source, session.csrf,
            problem.in_language(session.lang) if problem is not None else "")
        self._page(session, "nav.settings", body, 400 if refused else 200)

    def save_settings(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """Mode, language, scanner and indicators, validated as the configuration file is
        (``Config.validate``: one validation, the same message) and saved into the terminal's settings
        file in its state folder (``settings_file.save``: atomic, owner only), so they survive a restart;
        the configuration file itself is never written. Mode and language apply at once (the language is
        the terminal's: screen and console); scanner and indicators at the next start (their adapters
        are open in the scan path). Who and what is in the audit trail."""
        console = self.console
        asked = {key: form.get(key, "").strip() for key in settings_file.KEYS}
        try:
            checked = replace(console.config, **asked).validate()
            changed = {key: value for key, value in asked.items() if value != getattr(console.config, key)}
            if changed:
                kept = {key: getattr(console.config, key) for key in console.config.from_settings}
                settings_file.save(console.config.settings_file, {**kept, **changed}, console.config.source)
                checked = replace(checked, settings_problem=None, from_settings={  # a damaged file: replaced
                    **{key: getattr(console.config, key) for key in changed}, **console.config.from_settings})
        except TerminalError as error:
            console.audit.write(session.user, self._client, "refused_settings", why=str(error))
            return self.settings(session, query, form, pages.escape(error.in_language(session.lang)), refused=True,
                                 shown=form)
        console.config = checked
        if checked.mode != console.terminal.flow.mode:
            console.terminal.request_mode(checked.mode)
        if "lang" in changed:
            console.terminal.request_language(checked.lang)
        session.lang = checked.lang
        console.audit.write(session.user, self._client, "settings", **changed)
        if changed:
            log.info("console: %s saved %s in %s", session.user,
                     ", ".join(f"{key} = {value!r}" for key, value in changed.items()), checked.settings_file)
        self.settings(session, query, form, pages.t(session.lang, "settings_saved"), shown={"mode": checked.mode})

    def enrol_page(self, session: Session, query: dict[str, str], form: dict[str, str], note: str = "",
                   status: int = 200) -> None:
        """The enrolment: the code's form while the terminal waits for it, the attempt's steps (the page
        reloads itself every second meanwhile), its result; or the service a running terminal uses."""
        console = self.console
        desk = console.desk
        job = desk.job if desk is not None else None
        body = pages.message(note, bool(note)) + pages.enrolment(
            session.lang, session.csrf, waiting=desk is not None and desk.open, job=job,
            service=console.config.service if console.terminal is not None else "")
        self._html(pages.page(session.lang, "nav.enrol", body, user=session.user, csrf=session.csrf,
                              refresh_s=1 if job is not None and job.running else None), status)

    def enrol_submit(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """Hand the typed code to the enrolment screen (``console.enrolling``); the code is never
        recorded, only who asked and when."""
        console = self.console
        desk = console.desk
        code = form.get("code", "").strip()
        job = desk.submit(code, session.user, self._client, console.enrol_done) if desk and code else None
        if job is None:
            why = "enrol_empty" if not code else "enrol_busy" if desk is not None and desk.open else "enrol_not_waiting"
            console.audit.write(session.user, self._client, "refused_enrol", reason=why)
            return self.enrol_page(session, query, form, pages.t(session.lang, why), 409 if code else 400)
        console.audit.write(session.user, self._client, "enrol_submitted")
        self._redirect("/enrol")

    def logs(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """The day's console actions and the terminal's messages at ``?level=`` and above (every level
        by default, whatever level the journal keeps)."""
        level = _log_level(query)
        body = pages.logs(self.console.audit.today(), self.console.day_log.today(level), session.lang, level)
        self._page(session, "nav.logs", body)

    def logs_text(self, session: Session, query: dict[str, str], form: dict[str, str]) -> None:
        """The day's logs as a text file: the console's actions, then the terminal's messages."""
        level = _log_level(query)
        audit = pages.audit_lines(self.console.audit.today())
        body = "\n".join(["# " + pages.text("logs_audit", session.lang), *audit, "",
                          "# " + pages.text("logs_terminal", session.lang), *self.console.day_log.today(level), ""])
        self._download(session, "logs.txt", body.encode("utf-8"), "text/plain; charset=utf-8")


def max_upload() -> int:
    from fmd_terminal.receiving.note import MAX_NOTE_BYTES

    return MAX_NOTE_BYTES + UPLOAD_OVERHEAD


def max_upload_mb() -> int:
    return (max_upload() - UPLOAD_OVERHEAD) // 2**20


def _log_level(query: dict[str, str]) -> str:
    """The logs' level asked by ``?level=`` (and those above it); every level by default."""
    asked = query.get("level", "")
    return asked if asked in DayLog.LEVELS else DayLog.LEVELS[0]


ROUTES = {
    ("GET", "/"): Handler.status, ("GET", "/events"): Handler.events,
    ("GET", "/attention"): Handler.attention, ("POST", "/attention"): Handler.resolve,
    ("GET", "/receiving"): Handler.receiving, ("POST", "/receiving"): Handler.receiving_action,
    ("GET", "/receipt.csv"): Handler.receipt_csv, ("GET", "/receipt.pdf"): Handler.receipt_pdf,
    ("GET", "/history"): Handler.history, ("GET", "/export"): Handler.export_page,
    ("GET", "/export.csv"): Handler.export_csv, ("GET", "/export.jsonl"): Handler.export_jsonl,
    ("GET", "/backup.db"): Handler.backup, ("GET", "/calibration"): Handler.calibration,
    ("GET", "/settings"): Handler.settings, ("POST", "/settings"): Handler.save_settings,
    ("GET", "/enrol"): Handler.enrol_page, ("POST", "/enrol"): Handler.enrol_submit,
    ("GET", "/logs"): Handler.logs, ("GET", "/logs.txt"): Handler.logs_text,
    ("POST", "/logout"): Handler.logout,
}

# what the console serves while the terminal waits for its enrolment
WITHOUT_TERMINAL = ("/enrol", "/logs", "/logs.txt", "/logout")


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(console: Console, host: str, port: int, ssl_context: Any = None) -> tuple[ConsoleServer, threading.Thread]:
    """Start the server on ``host:port`` (TLS when ``ssl_context``) in a daemon thread."""
    handler = type("BoundHandler", (Handler,), {"console": console})
    server = ConsoleServer((host, port), handler)
    if ssl_context is not None:
        # the handshake happens in the request's thread (first read), never in the accepting one
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, name="fmd-console", daemon=True)
    thread.start()
    return server, thread
