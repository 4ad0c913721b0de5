"""The access tokens the simulator has issued (VERIFICATION-SERVICE.md section 7.1, client credentials).

A dictionary answers "whose token is this" in constant time; a heap ordered by expiry drops expired
tokens as new ones are issued, so issuing costs O(log n) however many tokens are live (a scan of the
whole table per request made token requests slower with every live token). At most ``MAX_LIVE``
tokens are kept: beyond that the one nearest its expiry is dropped, and its client renews on the 401
as section 7.1 says. Tokens live in memory: a restart invalidates them all.
"""

from __future__ import annotations

import heapq
import secrets
import time
from collections.abc import Callable
from typing import Generic, TypeVar

MAX_LIVE = 100_000
Owner = TypeVar("Owner")


class AccessTokens(Generic[Owner]):
    """Bearer tokens with their owner and expiry (monotonic seconds)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, max_live: int = MAX_LIVE) -> None:
        self.monotonic = monotonic
        self.max_live = max_live
        self._owners: dict[str, tuple[Owner, float]] = {}
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._owners)

    def issue(self, owner: Owner, ttl: float) -> str:
        """A new token for ``owner``, valid ``ttl`` seconds; expired (and excess) tokens are dropped first."""
        now = self.monotonic()
        while self._expiries and (self._expiries[0][0] < now or len(self._owners) >= self.max_live):
            _, old = heapq.heappop(self._expiries)
            self._owners.pop(old, None)
        token = secrets.token_urlsafe(32)
        expiry = now + ttl
        self._owners[token] = (owner, expiry)
        heapq.heappush(self._expiries, (expiry, token))
        return token

    def owner(self, token: str) -> Owner | None:
        """The owner of a live token, None for an unknown or expired one."""
        entry = self._owners.get(token)
        if entry is None or entry[1] < self.monotonic():
            return None
        return entry[0]
