import pytest

from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.memory import MemoryOutbox
from fmd_terminal.outbox.sqlite import open_sqlite_outbox


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(params=["sqlite", "memory"])
def outbox(request, tmp_path, clock):
    """The same cases over the real outbox and its in-memory twin (contract tests)."""
    if request.param == "sqlite":
        box = open_sqlite_outbox(str(tmp_path / "outbox.db"), clock, reserve_bytes=0)
    else:
        box = MemoryOutbox(clock)
    yield box
    box.close()
