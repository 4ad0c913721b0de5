"""The outbox and its worker when the outbox cannot be opened at start (issue 12; OFFLINE-QUEUE.md 2.3).

A full disk (0 bytes free: SQLite cannot even create its ``-shm``), a read-only data directory or
an unreadable medium must not stop ``fmd-terminal run``: under systemd that is a crash loop with a
dark screen. The terminal starts instead with an ``UnavailableOutbox``: every scan is refused on the
screen ("not recorded - keep it aside"), the idle screen shows the red storage fault ("record packs
by hand", ``alarm_storage``), and nothing is sent (``IdleWorker``). Once the cause is fixed, a restart
of the service opens the outbox again; nothing recorded earlier was touched.
"""

from __future__ import annotations

from typing import Any

from fmd_terminal.errors import StorageError


class UnavailableOutbox:
    """The outbox port that refuses every scan and reports ``error`` as the red storage alarm."""

    def __init__(self, error: StorageError) -> None:
        self.error = error
        self.where = ""
        self.alarm = f"red: {error}"
        self.alarms = [f"STORAGE FAULT: {error}"]

    def record(self, request: Any) -> Any:
        raise StorageError(f"not recorded: {self.error}")

    def read_meta(self, key: str) -> str | None:
        return self.alarm if key == "alarm_storage" else None

    def storage_alarms(self) -> dict[str, str]:
        return {"alarm_storage": self.alarm}

    def pending_count(self) -> int:
        raise StorageError(str(self.error))

    def recent(self, n: int) -> list[Any]:
        return []

    def view(self, pack_key: str) -> None:
        return None

    def close(self) -> None:
        return None


class IdleWorker:
    """The worker beside an ``UnavailableOutbox``: nothing to send, its status a storage fault."""

    def __init__(self, error: StorageError) -> None:
        self.error = error

    def submit_live(self, op: Any, deadline_s: float) -> Any:
        raise StorageError(str(self.error))  # never reached: ``UnavailableOutbox.record`` refuses every scan

    def take_resolutions(self) -> list[Any]:
        return []

    def status(self) -> dict[str, Any]:
        raise StorageError(str(self.error))

    def close(self) -> None:
        return None
