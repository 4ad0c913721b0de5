"""A simulator with the SOAP facade over mutual TLS (trustme certificates), for the facade's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from fmd_simulator.soap.testing import running_soap_simulator


def _write(directory, name, blob) -> str:
    path = directory / name
    blob.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("soap-facade-pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("pharmacy.example")
    return {"tls_cert": _write(directory, "server.pem", server.cert_chain_pems[0]),
            "tls_key": _write(directory, "server-key.pem", server.private_key_pem),
            "client_ca": _write(directory, "ca.pem", ca.cert_pem),
            "admin_client_cert": (_write(directory, "client.pem", client.cert_chain_pems[0]),
                                  _write(directory, "client-key.pem", client.private_key_pem))}


@pytest.fixture(scope="module")
def sim(tls_files) -> Iterator[Any]:
    with running_soap_simulator(seed_packs=8, **tls_files) as s:
        yield s
