"""Link faults the simulator cannot make itself: a TCP proxy on loopback in front of it (tests, benchmarks).

``FaultProxy(sim.port)`` listens on its own loopback port; ``set_mode``: ``pass`` (bytes relayed),
``refuse`` (nothing listens: connection refused; open connections are closed) or ``blackhole``
(connections are accepted and bytes read, but nothing is forwarded or answered). Back to ``pass``, the
held bytes go through, as TCP retransmissions do once a black hole ends. It relays bytes, so TLS stays
end to end (the simulator's test certificate names 127.0.0.1, the proxy's address too). The simulator's
own faults (``outage``: 503 with Retry-After, latency, drops) are set with ``PUT /admin/faults``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

PASS, REFUSE, BLACKHOLE = "pass", "refuse", "blackhole"


class FaultProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.upstream = (host, upstream_port)
        self.mode = PASS
        self.open = threading.Event()  # set while bytes may flow
        self.open.set()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._closed = False
        self._listener: socket.socket | None = None
        self.port = self._listen(0)

    def _listen(self, port: int) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(64)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True, name="fault-proxy").start()
        return sock.getsockname()[1]

    def set_mode(self, mode: str) -> None:
        """``pass``, ``refuse`` (close the listener and every connection) or ``blackhole``."""
        with self._lock:
            previous, self.mode = self.mode, mode
        if mode == REFUSE:
            self.open.clear()
            self._stop_listening()
            self._close_all()
        elif mode == BLACKHOLE:
            self.open.clear()
            if previous == REFUSE:
                self._listen(self.port)
        else:
            if previous == REFUSE:
                self._listen(self.port)
            self.open.set()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _close_all(self) -> None:
        """Close every relayed connection as a stopping server does (FIN); ``shutdown`` also wakes the
        relay threads blocked reading them (a bare ``close`` would not, and would send nothing)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True, name="fault-proxy-conn").start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._conns.append(client)
        self.open.wait()  # a black hole: accepted, never answered, until it ends
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._conns.append(upstream)
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self.open.wait()  # held in a black hole
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self.open.set()
        self._stop_listening()
        self._close_all()


OUTAGES = ("refused", "503", "blackhole")


def begin_outage(kind: str, proxy: FaultProxy, sim: Any) -> None:
    """One of ``OUTAGES``: connections refused or black-holed by ``proxy``, or the simulator ``sim``
    answering 503 with Retry-After (its ``outage`` fault)."""
    if kind == "503":
        sim.set_faults({"outage": True})
    else:
        proxy.set_mode({"refused": REFUSE, "blackhole": BLACKHOLE}[kind])


def end_outage(proxy: FaultProxy, sim: Any) -> None:
    """The service is back: the proxy relays again and the simulator has no fault."""
    proxy.set_mode(PASS)
    sim.set_faults({})


@contextlib.contextmanager
def fault_proxy(upstream_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
