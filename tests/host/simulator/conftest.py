"""Fixtures for the simulator's tests: a real server on loopback and clients speaking its HTTP contract."""

from __future__ import annotations

from typing import Any

import pytest
from simulator_helpers import Actor, fresh_packs

from fmd_simulator.testing import RunningSimulator, running_simulator


@pytest.fixture(scope="module")
def sim() -> Any:
    """One simulator per test module (tests that move the clock or set faults use their own)."""
    with running_simulator() as s:
        yield s


@pytest.fixture
def own_sim() -> Any:
    """A simulator for this test alone."""
    with running_simulator() as s:
        yield s


@pytest.fixture
def pharmacy(sim: RunningSimulator) -> Actor:
    return Actor(sim)


@pytest.fixture
def other(sim: RunningSimulator) -> Actor:
    return Actor(sim, "pharmacy-other", "other-secret")


@pytest.fixture
def pack(sim: RunningSimulator) -> dict[str, Any]:
    return fresh_packs(sim, 1)[0]
