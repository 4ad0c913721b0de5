"""Fuzzing below and beside the OpenAPI surface (issue 13): raw HTTP requests with headers of every size,
bodies nested to any depth and holding non-finite numbers, sent to every JSON endpoint over a real
socket, and requests dribbled in pieces (slow clients inside the timeouts). Whatever arrives: a well-formed answer below 500 (431 for a head past the cap), and the server
still answers /ping. Bounded: 60 examples per test, a few seconds each on a quiet machine.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmd_simulator import http_guard
from fmd_simulator.testing import running_simulator

JSON_ENDPOINTS = [("POST", "/admin/clock"), ("PUT", "/admin/faults"), ("POST", "/admin/seed"),
                  ("POST", "/admin/packs"), ("POST", "/product/packs"), ("POST", "/recovery/packs"),
                  ("PATCH", "/product/GTIN/03400930000120/pack/S1")]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1E+9999"]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def fuzz_http_sim():
    with running_simulator(seed_packs=3) as sim:
        yield sim


def exchange(port: int, request: bytes) -> int:
    """Send one raw request; the status of the answer (0 when the server closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # a refused head: the server may close while we are still sending
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    if not data:
        return 0
    assert data.startswith(b"HTTP/1.1 "), data[:100]
    return int(data[9:12])


def json_values(leaf=None):
    """JSON texts: scalars (with non-finite numbers), arrays and objects, nested."""
    scalar = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False).map(repr),
                       st.sampled_from(NON_FINITE), st.text(max_size=8).map(json.dumps),
                       st.sampled_from(["true", "false", "null"]))
    scalar = scalar.map(str)
    return st.recursive(scalar, lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(st.sampled_from(["advanceDays", "now", "frozen", "errorRate", "items", "packs", "batch",
                                         "expiry", "state", "serial", "seed", "latencyMs", "p50", "p95"]),
                        inner, max_size=4).map(lambda d: "{" + ",".join(f'"{k}":{v}' for k, v in d.items()) + "}")),
        max_leaves=12)


@FUZZ
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), value=json_values(), depth=st.integers(0, 40_000),
       wrap=st.sampled_from(["[", '{"items":[', '{"advanceDays":[']))
def test_any_json_body_is_answered_below_500(fuzz_http_sim, endpoint, value, depth, wrap):
    method, path = endpoint
    closing = "]" if wrap == "[" else "]}"
    body = (wrap * depth + value + closing * depth if depth else value).encode()
    status, _, answer = fuzz_http_sim.request(
        method, path, body=body, headers={"Content-Type": "application/json", "emvs-data-entry-mode": "non-manual",
                                          "Authorization": "Bearer " + fuzz_http_sim.token(),
                                          "X-Client-Trx-Id": "fuzz"})
    assert status < 500, (method, path, body[:200], answer)
    if status >= 400:
        assert answer["operationCode"].startswith("NMVS_"), answer
    assert fuzz_http_sim.request("POST", "/admin/clock", body=b'{"advanceDays": 0}',
                                 headers={"Content-Type": "application/json"})[0] == 200


@FUZZ
@given(sizes=st.lists(st.integers(0, 3 * http_guard.MAX_HEAD), min_size=1, max_size=4),
       name=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
                    min_size=1, max_size=20),
       method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"]),
       path=st.sampled_from(["/ping", "/admin/clock", "/soap/SupportServices", "/product/packs", "/%ff", "/" + "a" * 9000]))
def test_any_head_size_is_served_or_refused_with_431(fuzz_http_sim, sizes, name, method, path):
    headers = b"".join(b"X-F%d-%s: %s\r\n" % (i, name.encode(), b"v" * size) for i, size in enumerate(sizes))
    head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n" % (method.encode(), path.encode(),
                                                                                  headers)
    status = exchange(fuzz_http_sim.port, head)
    if len(head) > http_guard.MAX_HEAD:
        assert status == 431, (len(head), status)
    else:
        assert 200 <= status < 500, (len(head), status)
    assert exchange(fuzz_http_sim.port, b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") == 200


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cuts=st.lists(st.integers(1, 60), min_size=1, max_size=12), pause=st.floats(0.0, 0.02))
def test_a_request_dribbled_in_pieces_is_answered_like_a_whole_one(fuzz_http_sim, cuts, pause):
    """Slow clients inside the timeouts: any fragmentation of head and body gives the same answer."""
    body = b'{"errorRate": 0.0}'
    request = (b"PUT /admin/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    with socket.create_connection(("127.0.0.1", fuzz_http_sim.port), timeout=30) as sock:
        position = 0
        for cut in cuts:
            sock.sendall(request[position:position + cut])
            position += cut
            time.sleep(pause)
        sock.sendall(request[position:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
