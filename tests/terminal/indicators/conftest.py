"""Fixtures for the indicators: gpiozero's mock pins (``GPIOZERO_PIN_FACTORY=mock``), a wait that does not sleep."""

from __future__ import annotations

import pytest
from indicator_fakes import InstantWait


@pytest.fixture(autouse=True)
def mock_pin_factory_env(monkeypatch):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")


@pytest.fixture
def instant_wait() -> InstantWait:
    return InstantWait()
