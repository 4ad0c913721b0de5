"""``open_outbox(url)``: the outbox chosen by URL (ARCHITECTURE.md, principle 3).

``sqlite:///var/lib/fmd/outbox.db`` (absolute path; ``sqlite://relative.db`` is relative to the
working directory) or ``memory://``. Keyword arguments: ``clock`` (a ``ClockReading`` source),
``reserve_bytes`` (the free-space reserve, section 2.3), ``restored`` (transition #10), ``attach``
(an admin command beside a running terminal: no start-up transitions; ``memory://`` ignores it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, unquote

from fmd_terminal.errors import ConfigError
from fmd_terminal.urls import open_by_scheme


def _sqlite(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox

    path = unquote(parts.netloc + parts.path)
    if not path:
        raise ConfigError.text("outbox_no_file", url=repr(parts.geturl()))
    return open_sqlite_outbox(path, **kwargs)


def _memory(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.outbox.memory import MemoryOutbox

    return MemoryOutbox(kwargs.get("clock"))


OUTBOXES = {"sqlite": _sqlite, "memory": _memory}


def open_outbox(url: str, **kwargs: Any) -> Any:
    """Open the outbox named by ``url``; raises ``UnknownSchemeError`` naming the known schemes."""
    return open_by_scheme("outbox", url, OUTBOXES, **kwargs)
