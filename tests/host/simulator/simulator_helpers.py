"""Helpers of the simulator's tests: clients speaking the HTTP contract, fresh packs.

A module with a unique name (not ``conftest``) so test modules can import it under pytest's default
import mode, whatever other ``conftest.py`` files the suite has.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from fmd_simulator.testing import RunningSimulator

_seeds = itertools.count(1000)


class Actor:
    """One client location talking to the simulator as a terminal would (VERIFICATION-SERVICE.md, 7.1-7.2)."""

    def __init__(self, sim: RunningSimulator, client_id: str = "pharmacy-demo", secret: str = "demo-secret"):
        self.sim = sim
        self.client_id = client_id
        self.bearer = "Bearer " + sim.token(client_id, secret)

    def headers(self, mode: str = "non-manual", **extra: str) -> dict[str, str]:
        return {"Authorization": self.bearer, "emvs-data-entry-mode": mode, **extra}

    @staticmethod
    def path(pack: dict[str, Any]) -> str:
        return f"/product/{pack['scheme']}/{pack['productCode']}/pack/{quote(pack['serial'], safe='')}"

    def verify(self, pack: dict[str, Any], **override: Any) -> tuple[int, dict[str, Any]]:
        pack = {**pack, **override}
        query = {"batch": pack["batch"], "expiry": pack["expiry"]}
        if pack.get("nhrn") is not None:
            query["nhrn"] = pack["nhrn"]
        status, _, body = self.sim.request("GET", f"{self.path(pack)}?{urlencode(query)}", headers=self.headers())
        return status, body

    def change(self, pack: dict[str, Any], state: str, trx: str | None = None, ref: str | None = None,
               mode: str = "non-manual", **override: Any) -> tuple[int, dict[str, Any]]:
        pack = {**pack, **override}
        body: dict[str, Any] = {"batch": pack["batch"], "expiry": pack["expiry"], "state": state}
        if ref is not None:
            body["refClientTrxId"] = ref
        status, _, answer = self.sim.request("PATCH", self.path(pack), body,
                                             self.headers(mode, **{"X-Client-Trx-Id": trx or new_trx()}))
        return status, answer


def new_trx() -> str:
    return uuid.uuid4().hex


def fresh_packs(sim: RunningSimulator, n: int = 4, market: str = "FR") -> list[dict[str, Any]]:
    """Packs nobody has touched yet (a new seed each time)."""
    return sim.admin("POST", "/admin/seed", {"packs": n, "seed": next(_seeds), "market": market})["packs"]
