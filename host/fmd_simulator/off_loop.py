"""Work that would hold the event loop, done in one worker process (issue 13: one client cannot hold up another).

Parsing a large body (a 20,000-item REST bulk's JSON, a SOAP bulk's XML and its schema check) takes from
a tenth of a second to seconds of C or pure-Python code that keeps the interpreter lock: in a thread it
would still stop the event loop, and every other client's request would wait. One worker process,
started on the first large request, does it instead; what it hands back is cheap to unpickle.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None


def _worker() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def in_worker(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the worker process (a module-level function, picklable arguments).

    A dead worker (killed, out of memory) raises ``BrokenProcessPool`` once; the next call starts another.
    """
    global _pool
    try:
        return await asyncio.get_running_loop().run_in_executor(_worker(), function, *args)
    except BrokenProcessPool:
        _pool = None
        raise
