"""Header size cap and read timeouts in front of the simulator's ASGI application.

uvicorn with httptools has neither: ``h11_max_incomplete_event_size`` applies to the h11 parser only,
llhttp puts no bound on a request head (httptools appends each piece of a header to the previous one,
so a 64 MiB header was read whole into memory), and ``timeout_keep_alive`` runs only *between*
requests, so a client that opens a connection and sends a head a byte at a time (slowloris), or
sends nothing, holds it for ever. Switching to h11 would cost the hot path its C parser, so this
protocol is httptools' own with a small guard, the same limits as nginx's defaults in spirit:

- a request head (request line and headers) larger than ``MAX_HEAD`` bytes: ``431`` and the
  connection is closed (RFC 6585 section 5);
- a head not complete ``HEAD_TIMEOUT`` seconds after the connection opened or the request began:
  ``408`` and closed (RFC 9110 section 15.5.9);
- a body that stalls for ``BODY_IDLE_TIMEOUT`` seconds between two reads: the connection is closed
  (the application sees ``http.disconnect`` and answers nothing).

Everything else (keep-alive, pipelining, upgrades, flow control) is uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 16 * 1024
HEAD_TIMEOUT = 10.0
BODY_IDLE_TIMEOUT = 15.0
DRAIN_BYTES = 256 * 1024
DRAIN_SECONDS = 1.0

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head size cap, a head timeout and a body idle timeout."""

    max_head = MAX_HEAD
    head_timeout = HEAD_TIMEOUT
    body_idle_timeout = BODY_IDLE_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_head = True  # reading a request head (or waiting for the first byte of the connection)
        self.in_body = False
        self.head_bytes = 0
        self.draining: int | None = None  # bytes still to read and drop after a refusal
        self.guard_timer: asyncio.TimerHandle | None = None

    # -- timers ---------------------------------------------------------------------------------
    def _arm(self, seconds: float, status: int | None) -> None:
        self._disarm()
        self.guard_timer = self.loop.call_later(seconds, self._expired, status)

    def _disarm(self) -> None:
        if self.guard_timer is not None:
            self.guard_timer.cancel()
            self.guard_timer = None

    def _expired(self, status: int | None) -> None:
        """A head timeout answers ``status``; a stalled body (``None``) closes: receive() reports a disconnect."""
        self.guard_timer = None
        if status is None:
            self.transport.abort()
        else:
            self._refuse(status, b"request head not received in time")

    def _refuse(self, status: int, message: bytes) -> None:
        """Answer ``status`` with a one-line text body and close, without reaching the application.

        A lingering close, as web servers do: the answer is sent, our side shut (plain TCP), and what the
        client is still sending read and dropped, up to ``DRAIN_BYTES`` or ``DRAIN_SECONDS``, so that the
        client reads the answer instead of a connection reset; then the connection is aborted. (A TLS
        close would instead decrypt everything the client keeps sending until it gives up: 64 MiB.)
        """
        self._disarm()
        self.in_head = self.in_body = False
        if self.transport.is_closing():
            return
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                             b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(message), message))
        if self.transport.can_write_eof():  # TLS cannot half-close: its transport just stays open, draining
            self.transport.write_eof()
        self.draining = DRAIN_BYTES
        self.guard_timer = self.loop.call_later(DRAIN_SECONDS, self.transport.abort)

    # -- uvicorn's protocol, guarded ------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout, 408)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count the bytes of the request head (up to its blank line) and refuse it past ``max_head``, before
        the parser sees them; a stalled body is watched from read to read."""
        if self.draining is not None:
            self.draining -= len(data)
            if self.draining < 0:
                self.transport.abort()
            return
        if self.in_head:
            end = data.find(b"\r\n\r\n")
            self.head_bytes += len(data) if end < 0 else end + 4
            if self.head_bytes > self.max_head:
                self._refuse(431, b"request head too large")
                return
        elif self.in_body:
            self._arm(self.body_idle_timeout, None)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.guard_timer is None:  # the first byte of a kept-alive connection's next request
            self._arm(self.head_timeout, 408)

    def on_headers_complete(self) -> None:
        self.in_head, self.head_bytes, self.in_body = False, 0, True
        self._arm(self.body_idle_timeout, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_body = False
        self._disarm()
        super().on_message_complete()
        self.in_head, self.head_bytes = True, 0
