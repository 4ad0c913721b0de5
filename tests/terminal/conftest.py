"""Fixtures shared by the terminal's tests: the protocol parameter and the mutual-TLS simulator.

A test that asks for ``protocol`` runs once over REST and once over SOAP (issue 6, item 3): one
scenario suite, two protocols. Helpers: ``two_protocols.py`` beside this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from two_protocols import PKI, PROTOCOLS, mtls_simulator


@pytest.fixture(params=PROTOCOLS)
def protocol(request) -> str:
    return request.param


@pytest.fixture
def pki(tmp_path) -> PKI:
    return PKI(tmp_path)


@pytest.fixture(scope="module")
def mtls_sim(tmp_path_factory) -> Iterator[Any]:
    """One simulator per test module serving REST and SOAP over mutual TLS; tests seed their own packs."""
    with mtls_simulator(tmp_path_factory.mktemp("mtls-pki")) as sim:
        yield sim


@pytest.fixture
def faults(mtls_sim):
    """Fault settings for one test, reset afterwards (the simulator is shared by the module)."""
    yield mtls_sim.set_faults
    mtls_sim.set_faults({})
