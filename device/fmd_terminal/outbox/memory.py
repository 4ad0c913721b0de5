"""The in-memory outbox (``memory://``): the SQLite outbox's own code over an in-memory database.

Fakes are features (ARCHITECTURE.md, principle 2). The twin runs exactly the statements, checks and
transitions of ``sqlite://``, so it cannot drift from the real thing; only durability differs (no
WAL, no fsync: nothing survives the process). Good for the demo, laptops and fast tests.
"""

from __future__ import annotations

from collections.abc import Callable

from fmd_core.timekeeping import ClockReading
from fmd_terminal.outbox.sqlite import SQLiteOutbox
from fmd_terminal.outbox.storage import Sqlite3Storage


class MemoryOutbox(SQLiteOutbox):
    def __init__(self, clock: Callable[[], ClockReading] | None = None) -> None:
        if clock is None:
            from fmd_terminal.outbox.clock import SystemClock

            clock = SystemClock()
        super().__init__(Sqlite3Storage(":memory:"), clock, durable=False)
