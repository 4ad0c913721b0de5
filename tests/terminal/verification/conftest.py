"""Fixtures for the verification clients' tests: loopback fake servers and trustme certificates."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from verification_fakes import PKI, FakeService


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


@pytest.fixture
def pki(tmp_path) -> PKI:
    return PKI(tmp_path)


@pytest.fixture(scope="module")
def soap_sim(tmp_path_factory) -> Iterator[Any]:
    """A simulator serving REST and SOAP over mutual TLS (trustme); ``sim.pki`` holds the certificates."""
    from fmd_simulator.soap.testing import running_soap_simulator

    pki = PKI(tmp_path_factory.mktemp("soap-pki"))
    server = pki.ca.issue_cert("127.0.0.1")
    cert = pki.write("server-cert.pem", server.cert_chain_pems[0].bytes())
    key = pki.write("server-key.pem", server.private_key_pem.bytes())
    client = pki.client_files()
    with running_soap_simulator(tls_cert=cert, tls_key=key, client_ca=pki.ca_bundle, admin_client_cert=client) as sim:
        sim.pki = pki
        sim.client_files = client
        yield sim
