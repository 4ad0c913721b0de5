"""The site broker of the ledger and fleet tests: a real Mosquitto with its own CA and certificates."""

import pytest

from fmd_provision.mosquitto import running_site


@pytest.fixture
def site(tmp_path):
    """Site "pharmacy1": devices counter1 and counter2, reader fleet; stopped after the test."""
    with running_site(tmp_path / "broker", "pharmacy1", ["counter1", "counter2"], readers=["fleet"]) as broker:
        yield broker
