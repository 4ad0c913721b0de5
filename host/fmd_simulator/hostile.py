"""Hostile clients and a /ping probe, for the load test and the benchmark that show one client cannot
hold up another (issue 13).

Each hostile client is a function ``(host, port, ssl_context, stop)`` run in its own thread until
``stop`` is set, over as many connections as it needs:

- ``crowded_soap``: SOAP requests whose element carries 6,500 attributes (64 KiB), on the single-pack
  and the mixed-bulk endpoints, one after the other on one kept-alive connection;
- ``slow_clients``: 50 connections that send their request head one byte every 100 ms (slowloris);
- ``huge_header``: connections that send a header without end (up to 64 MiB each);
- ``large_bulk``: valid 20,000-item mixed bulks (about 8 MB each), back to back.
- ``large_rest_bulk``: valid 20,000-item REST bulks (``POST /product/packs``, about 3.5 MB of JSON each),
  back to back, each followed by its results once ready.

``ping_latencies`` measures another client's ``GET /ping`` over one kept-alive connection at a fixed
pace. Loopback only: every connection goes to ``host``, which the callers set to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable

from fmd_simulator.soap import messages

Hostile = Callable[[str, int, "ssl.SSLContext | None", threading.Event], None]


def _connect(host: str, port: int, context: ssl.SSLContext | None, timeout: float = 30.0) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    return context.wrap_socket(sock, server_hostname=host) if context is not None else sock


def _connection(host: str, port: int, context: ssl.SSLContext | None) -> http.client.HTTPConnection:
    if context is not None:
        return http.client.HTTPSConnection(host, port, timeout=120, context=context)
    return http.client.HTTPConnection(host, port, timeout=120)


def _post(conn: http.client.HTTPConnection, path: str, body: bytes) -> int:
    """One SOAP POST on a kept-alive connection (reopened by http.client when the server closed it)."""
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/soap+xml; charset=utf-8"})
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        raise
    return response.status


def soap_envelope(inner: str) -> bytes:
    return (f'<soap:Envelope xmlns:soap="{messages.SOAP_NS}" xmlns:n="{messages.NS}"><soap:Body>{inner}'
            "</soap:Body></soap:Envelope>").encode()


def soap_header(login: str = "pharmacy-demo", password: str = "demo-secret") -> str:
    return (f"<n:Header><n:Auth><n:ClientLoginId>{login}</n:ClientLoginId><n:UserId>u</n:UserId>"
            f"<n:Password>{password}</n:Password></n:Auth><n:UserSoftware><n:Name>load</n:Name><n:Supplier>tests"
            f"</n:Supplier><n:Version>1</n:Version></n:UserSoftware><n:Transaction><n:ClientTrxId>{uuid.uuid4().hex}"
            "</n:ClientTrxId><n:Language>fra</n:Language></n:Transaction></n:Header>")


def pack_xml(serial: str, attributes: str = "") -> str:
    return (f'<n:Product><n:ProductCode scheme="GTIN"{attributes}>03400930000120</n:ProductCode></n:Product>'
            f"<n:Batch><n:Id>B1</n:Id><n:ExpDate>281231</n:ExpDate></n:Batch><n:Pack><n:SN>{serial}</n:SN></n:Pack>")


def crowded_request(attributes: int = 6500, bulk: bool = False) -> bytes:
    """A request whose ProductCode carries ``attributes`` attributes (6,500: 64 KiB), with no valid login."""
    crowd = "".join(f' a{i}="1"' for i in range(attributes))
    if bulk:
        return soap_envelope(f"<n:G195Request>{soap_header(password='x')}<n:Body><n:Item operation=\"G110\">"
                             f"{pack_xml('S1', crowd)}<n:ClientTrxId>t1</n:ClientTrxId></n:Item></n:Body>"
                             "</n:G195Request>")
    return soap_envelope(f"<n:G110Request>{soap_header(password='x')}<n:Body>{pack_xml('S1', crowd)}</n:Body>"
                         "</n:G110Request>")


def bulk_request(items: int = 20000) -> bytes:
    """A valid mixed bulk of ``items`` dispenses (G120) of packs the simulator does not know."""
    body = "".join(f'<n:Item operation="G120">{pack_xml(f"LOAD{i:08d}")}<n:ClientTrxId>{uuid.uuid4().hex}'
                   "</n:ClientTrxId></n:Item>" for i in range(items))
    return soap_envelope(f"<n:G195Request>{soap_header()}<n:Body>{body}</n:Body></n:G195Request>")


def crowded_soap(host: str, port: int, context: ssl.SSLContext | None, stop: threading.Event) -> None:
    single, bulk = crowded_request(), crowded_request(bulk=True)
    conn = _connection(host, port, context)
    while not stop.is_set():
        _post(conn, "/soap/SinglePackServices", single)
        _post(conn, "/soap/MixedBulkServices", bulk)
    conn.close()


def large_bulk(host: str, port: int, context: ssl.SSLContext | None, stop: threading.Event) -> None:
    data = bulk_request()
    conn = _connection(host, port, context)
    while not stop.is_set():
        _post(conn, "/soap/MixedBulkServices", data)
    conn.close()


def rest_bulk_body(items: int = 20000) -> bytes:
    """A valid REST bulk dispensing ``items`` packs the simulator does not know (each answered with an alert)."""
    return json.dumps({"requestedState": "Supplied", "items": [
        {"scheme": "GTIN", "productCode": "03400930000000", "serial": f"LOAD{i:08d}", "batch": "LOAD1",
         "expiry": "2030-12-31", "clientTrxId": uuid.uuid4().hex} for i in range(items)]}).encode()


def _token(conn: http.client.HTTPConnection) -> str:
    conn.request("POST", "/identity/connect/token", "grant_type=client_credentials&client_id=pharmacy-demo"
                 "&client_secret=demo-secret", {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    return json.loads(response.read())["access_token"]


def large_rest_bulk(host: str, port: int, context: ssl.SSLContext | None, stop: threading.Event) -> None:
    data = rest_bulk_body()
    conn = _connection(host, port, context)
    headers = {"Authorization": "Bearer " + _token(conn), "Content-Type": "application/json",
               "emvs-data-entry-mode": "non-manual"}
    while not stop.is_set():
        conn.request("POST", "/product/packs", data, headers)
        response = conn.getresponse()
        uri = json.loads(response.read())["resultsUri"]
        while not stop.is_set():  # its results, once ready (decoding them here is the client's own time)
            conn.request("GET", uri, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                break
            stop.wait(0.2)
    conn.close()


def slow_clients(host: str, port: int, context: ssl.SSLContext | None, stop: threading.Event,
                 connections: int = 50) -> None:
    head = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 4000
    open_ones: list[tuple[socket.socket, int]] = []
    while not stop.is_set():
        while len(open_ones) < connections:
            open_ones.append((_connect(host, port, context), 0))
        still = []
        for sock, sent in open_ones:
            try:
                sock.sendall(head[sent % len(head):][:1])
                still.append((sock, sent + 1))
            except OSError:  # the server closed it (head timeout): open another
                sock.close()
        open_ones = still
        stop.wait(0.1)
    for sock, _ in open_ones:
        sock.close()


def huge_header(host: str, port: int, context: ssl.SSLContext | None, stop: threading.Event) -> None:
    chunk = b"h" * 65536
    while not stop.is_set():
        sock = _connect(host, port, context)
        try:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
            for _ in range(1024):  # 64 MiB
                if stop.is_set():
                    break
                sock.sendall(chunk)
        except OSError:
            pass  # refused with 431 and closed, as it should be
        finally:
            sock.close()


HOSTILE: dict[str, Hostile] = {"crowded SOAP": crowded_soap, "slow clients": slow_clients,
                               "huge header": huge_header, "20,000-item bulk": large_bulk,
                               "20,000-item REST bulk": large_rest_bulk}


def ping_latencies(host: str, port: int, context: ssl.SSLContext | None, count: int = 300,
                   interval: float = 0.01) -> list[float]:
    """Seconds each of ``count`` ``GET /ping`` took, one every ``interval`` seconds on one connection."""
    conn = _connection(host, port, context)
    out = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            conn.request("GET", "/ping")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"/ping answered {response.status}")
            out.append(time.perf_counter() - started)
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    finally:
        conn.close()
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def ping_p95_beside(hostile: Hostile | None, host: str, port: int, context: ssl.SSLContext | None,
                    count: int = 300, warm_up: float = 0.5) -> float:
    """The /ping p95 (seconds) while ``hostile`` runs in a thread (None: the anchor, nobody else)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hostile(host, port, context, stop)  # type: ignore[misc]
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True) if hostile is not None else None
    if thread is not None:
        thread.start()
        time.sleep(warm_up)
    try:
        latencies = ping_latencies(host, port, context, count)
    finally:
        stop.set()
        if thread is not None:
            thread.join(60)
    if errors:
        raise RuntimeError(f"the hostile client failed: {errors[0]!r}")
    return p95(latencies)
