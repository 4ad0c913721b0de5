"""Power-loss images through an APSW write-recording VFS (OFFLINE-QUEUE.md section 9, T3).

``RecordingVFS`` passes every call to the default VFS and logs each write, truncate, sync and
delete. ``ApswStorage`` is the outbox's thin storage interface over APSW on that VFS, so the very
same ``SQLiteOutbox`` code runs on it. ``DiskModel`` replays the log into what a disk may hold after
a power cut at any point: the state of each file at its last sync, plus a choice of later writes:

- ``prefix``: the first j unsynced writes, in order (a cache that flushed in order);
- ``subset``: a random subset of them (a cache that reorders);
- ``garbage``: a random subset, some of them torn (random bytes in place of the data).

The WAL-index (``-shm``) is not stored: SQLite rebuilds it from the WAL after a crash. APSW's VFS
file has no shared-memory methods, so the recorded connection runs in ``locking_mode=EXCLUSIVE``,
where SQLite keeps the WAL-index in heap memory; the files written are the same.
"""

from __future__ import annotations

import os
import random
from typing import Any

import apsw

from fmd_terminal.outbox.storage import translate


class RecordingFile(apsw.VFSFile):
    def __init__(self, vfs: RecordingVFS, name: Any, flags: list[int]) -> None:
        super().__init__("", name, flags)
        self.vfs = vfs
        self.path = name.filename() if hasattr(name, "filename") else str(name)

    def xWrite(self, data: bytes, offset: int) -> None:
        super().xWrite(data, offset)
        self.vfs.log.append(("write", self.path, offset, bytes(data)))

    def xTruncate(self, size: int) -> None:
        super().xTruncate(size)
        self.vfs.log.append(("truncate", self.path, size))

    def xSync(self, flags: int) -> None:
        super().xSync(flags)
        self.vfs.log.append(("sync", self.path))


class RecordingVFS(apsw.VFS):
    def __init__(self, name: str) -> None:
        self.name = name
        self.log: list[tuple] = []
        super().__init__(name, "")

    def xOpen(self, name: Any, flags: list[int]) -> RecordingFile:
        return RecordingFile(self, name, flags)

    def xDelete(self, filename: str, syncdir: bool) -> None:
        super().xDelete(filename, syncdir)
        self.log.append(("delete", filename))


class ApswStorage:
    """The outbox's storage interface over APSW (``fmd_terminal.outbox.storage.Storage``)."""

    def __init__(self, path: str, vfs: str) -> None:
        self.where = path
        self.db = apsw.Connection(path, vfs=vfs)
        self.execute("PRAGMA locking_mode = EXCLUSIVE")

    def execute(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        try:
            cursor = self.db.cursor()
            cursor.execute(sql, params)
            try:
                names = [d[0] for d in cursor.getdescription()]
            except apsw.ExecutionCompleteError:
                return []  # the statement returned no row
            rows = cursor.fetchall()
        except apsw.Error as error:
            raise translate(error, self.where, sql.split(None, 1)[0]) from error
        return [dict(zip(names, row, strict=True)) for row in rows]

    def executescript(self, sql: str) -> None:
        self.execute(sql)

    def close(self) -> None:
        self.db.close()


class DiskModel:
    """Replays a VFS log into crash images of the files it wrote."""

    def __init__(self, log: list[tuple]) -> None:
        self.log = log

    def state_at(self, k: int) -> tuple[dict[str, bytearray], dict[str, list[tuple]]]:
        """Durable content of each file and its unsynced operations, after the first ``k`` log entries."""
        durable: dict[str, bytearray] = {}
        pending: dict[str, list[tuple]] = {}
        for entry in self.log[:k]:
            kind, path = entry[0], entry[1]
            if kind in ("write", "truncate"):
                pending.setdefault(path, []).append(entry)
            elif kind == "sync":
                content = durable.setdefault(path, bytearray())
                for op in pending.pop(path, []):
                    apply(content, op)
            elif kind == "delete":
                durable.pop(path, None)
                pending.pop(path, None)
        return durable, pending

    def image(self, k: int, mode: str, rng: random.Random) -> dict[str, bytes]:
        durable, pending = self.state_at(k)
        files = {path: bytearray(content) for path, content in durable.items()}
        for path, ops in pending.items():
            content = files.setdefault(path, bytearray())
            if mode == "prefix":
                chosen = ops[: rng.randint(0, len(ops))]
            else:
                chosen = [op for op in ops if rng.random() < 0.5]
            for op in chosen:
                if mode == "garbage" and op[0] == "write" and rng.random() < 0.3:
                    op = (op[0], op[1], op[2], os.urandom(len(op[3])))
                apply(content, op)
        return {path: bytes(content) for path, content in files.items()}


def apply(content: bytearray, op: tuple) -> None:
    if op[0] == "write":
        _, _, offset, data = op
        if len(content) < offset:
            content.extend(b"\0" * (offset - len(content)))
        content[offset:offset + len(data)] = data
    elif op[0] == "truncate":
        del content[op[2]:]
