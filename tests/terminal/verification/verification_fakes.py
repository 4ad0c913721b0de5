"""Tiny loopback servers for the verification clients' transport tests (tests only).

``FakeService`` answers HTTP(S) requests from a handler function and records each request;
a handler may also misbehave on the raw socket (close after reading, sleep past the read timeout,
send a truncated body). TLS certificates come from ``two_protocols.PKI`` (trustme); every server binds port 0.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fmd_core.service import PackRef

PACK = PackRef("GTIN", "03400930000120", "SER1AL/%&x", "B4TCH", "281231")


class Request:
    __slots__ = ("method", "path", "headers", "body")

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self):
        return json.loads(self.body)


def json_reply(status, body, headers=None):
    data = json.dumps(body).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, data


def token_reply(token="tok-1", expires_in=3600):
    return json_reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})


class FakeService:
    """A threaded HTTP server on 127.0.0.1:0; ``handler(request, raw)`` returns (status, headers, body)
    or None after writing to ``raw`` (the handler object) itself."""

    def __init__(self, handler: Callable, tls: ssl.SSLContext | None = None):
        self.handler = handler
        self.requests: list[Request] = []
        self.release = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers), self.rfile.read(length))
                service.requests.append(request)
                reply = service.handler(request, self)
                if reply is None:
                    self.close_connection = True
                    return
                status, headers, body = reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_PUT = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def paths(self):
        return [r.method + " " + r.path.split("?")[0] for r in self.requests]
