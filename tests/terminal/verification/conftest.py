"""Fixtures for the verification clients' tests: loopback fake servers (``pki``, ``mtls_sim``: ../conftest.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from verification_fakes import FakeService


@pytest.fixture
def fake_service() -> Iterator[Callable[..., FakeService]]:
    started: list[FakeService] = []

    def start(handler, tls=None):
        service = FakeService(handler, tls).__enter__()
        started.append(service)
        return service

    yield start
    for service in started:
        service.__exit__(None, None, None)


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
