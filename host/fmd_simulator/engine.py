"""The protocol-neutral engine: a typed request in, a typed result out (VERIFICATION-SERVICE.md, sections 3-6).

Every rule of the spec lives here once: the role matrix (section 4), the decision order of a single-pack
request (section 5, steps 1-9, role check onwards; faults, authentication and headers belong to the
facade), client transaction ids (section 6), the pack state model with its overlays (section 3) and the
undo rules of Art. 13 of Reg. (EU) 2016/161 (same client and location, at most 10 days, no overlay, the
referenced change). The REST facade (``rest.py``) and a future SOAP facade only translate.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from fmd_simulator import identifiers
from fmd_simulator.codes import CODES, SUCCESS
from fmd_simulator.errors import ConfigurationError
from fmd_simulator.store import Store

DAY = 86400.0

# Section 3: pack-level reason <-> REST state.
STATE_OF_REASON = {
    "SUPPLIED": "Supplied", "DESTROYED": "Destroyed", "EXPORTED": "Exported", "SAMPLE": "Sample",
    "FREESAMPLE": "FreeSample", "LOCKED": "Locked", "STOLEN": "Stolen", "CHECKED_OUT": "CheckedOut",
    "EXPIRED": "Expired", "RECALLED": "Recalled", "WITHDRAWN": "Withdrawn",
}
REASON_OF_STATE = {state: reason for reason, state in STATE_OF_REASON.items()
                   if reason not in ("CHECKED_OUT", "EXPIRED", "RECALLED", "WITHDRAWN")}
REQUESTED_STATES = frozenset(REASON_OF_STATE) | {"Active"}

# Section 4: operation codes per reason (single pack, single pack manual entry, bulk), and their undo.
DECOMMISSION_CODE = {"SUPPLIED": "G120", "DESTROYED": "G130", "EXPORTED": "G140", "SAMPLE": "G150",
                     "FREESAMPLE": "G160", "LOCKED": "G170", "STOLEN": "G180"}
MANUAL_CODE = {"SUPPLIED": "G122", "STOLEN": "G182"}
BULK_CODE = {"SUPPLIED": "G125", "DESTROYED": "G135", "EXPORTED": "G145", "SAMPLE": "G155",
             "FREESAMPLE": "G165", "LOCKED": "G175", "STOLEN": "G185"}
UNDO_CODE = {"SUPPLIED": "G121", "DESTROYED": "G131", "EXPORTED": "G141", "SAMPLE": "G151",
             "FREESAMPLE": "G161", "LOCKED": "G171", "STOLEN": "G181"}
BULK_UNDO_CODE = {"SUPPLIED": "G127", "DESTROYED": "G131", "EXPORTED": "G147", "SAMPLE": "G157",
                  "FREESAMPLE": "G167", "LOCKED": "G177", "STOLEN": "G187"}

_PHARMACY = frozenset({"G110", "G115", "G120", "G121", "G122", "G125", "G127", "G130", "G135", "G150", "G151",
                       "G155", "G157", "G180", "G182", "G185", "G188", "G195", "G196"})
# Wholesalers add export, free sample and lock; hospitals get the pharmacy rights (section 4, Uncertain).
ROLE_PERMISSIONS = {
    "pharmacy": _PHARMACY,
    "hospital": _PHARMACY,
    "wholesaler": _PHARMACY | {"G140", "G141", "G145", "G147", "G160", "G161", "G165", "G167", "G170", "G171",
                               "G175", "G177"},
}

# Overlays in the order of section 3's project rule: Withdrawn, Recalled, Expired.
OVERLAY_CODE = {"WITHDRAWN": "NMVS_FE_LOT_08", "RECALLED": "NMVS_FE_LOT_01", "EXPIRED": "NMVS_NC_PCK_02"}


class Client:
    """One connected location (section 7.1): credentials, location, role and extra permissions."""

    __slots__ = ("client_id", "secret", "location_id", "role", "permissions")

    def __init__(self, client_id: str, secret: str, location_id: str, role: str,
                 extra_permissions: Iterable[str] = ()) -> None:
        if role not in ROLE_PERMISSIONS:
            raise ConfigurationError(f"client {client_id!r}: role {role!r} is not one of {sorted(ROLE_PERMISSIONS)}")
        self.client_id = client_id
        self.secret = secret
        self.location_id = location_id
        self.role = role
        self.permissions = ROLE_PERMISSIONS[role] | frozenset(extra_permissions)

    def __repr__(self) -> str:  # never shows the secret
        return f"Client({self.client_id!r}, location={self.location_id!r}, role={self.role!r})"


DEMO_CLIENTS = (
    Client("pharmacy-demo", "demo-secret", "FR-PHARMACY-0001", "pharmacy"),
    Client("pharmacy-other", "other-secret", "FR-PHARMACY-0002", "pharmacy"),
    Client("hospital-demo", "hospital-secret", "FR-HOSPITAL-0001", "hospital"),
    Client("wholesaler-demo", "wholesaler-secret", "FR-WHOLESALER-0001", "wholesaler"),
)


def clients_from_json(data: Any) -> list[Client]:
    """Clients from a JSON list of ``{"client_id", "secret", "location_id", "role", "permissions"?}``."""
    if not isinstance(data, list):
        raise ConfigurationError("clients: expected a JSON list of objects")
    out = []
    for item in data:
        try:
            out.append(Client(item["client_id"], item["secret"], item.get("location_id", item["client_id"]),
                              item["role"], item.get("permissions", ())))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"clients: bad entry {item!r} (missing {exc})") from exc
    return out


class Options:
    """Switches of the engine (project rules of sections 3, 5 and 6)."""

    __slots__ = ("market", "double_scan_alert", "pck19_alert", "undo_days", "lock_undo_days",
                 "allow_reused_trx_ids")

    def __init__(self, market: str = "FR", double_scan_alert: bool = False, pck19_alert: str = "always",
                 undo_days: float = 10, lock_undo_days: float | None = None,
                 allow_reused_trx_ids: bool = False) -> None:
        if pck19_alert not in ("always", "intermarket", "never"):
            raise ConfigurationError(f"pck19_alert must be always, intermarket or never, not {pck19_alert!r}")
        self.market = market
        self.double_scan_alert = double_scan_alert
        self.pck19_alert = pck19_alert
        self.undo_days = undo_days
        self.lock_undo_days = lock_undo_days
        self.allow_reused_trx_ids = allow_reused_trx_ids


class SimClock:
    """The simulator's own clock (section 7.4): real time plus a stored offset, or frozen at a stored time."""

    __slots__ = ("store", "real", "offset", "frozen")

    def __init__(self, store: Store, real: Callable[[], float] = time.time) -> None:
        self.store = store
        self.real = real
        offset, frozen = store.get_meta("clock_offset", 0.0), store.get_meta("clock_frozen", None)
        # A database written before non-finite numbers were refused may hold NaN: real time then.
        self.offset = float(offset) if _finite(offset) else 0.0
        self.frozen = frozen if _finite(frozen) else None

    def now(self) -> float:
        return self.frozen if self.frozen is not None else self.real() + self.offset

    def set(self, when: float | None = None, advance: float = 0.0, frozen: bool | None = None) -> float:
        now = self.now() if when is None else when
        now += advance
        if not math.isfinite(now):
            raise ValueError(f"the clock cannot be set to {now!r}")
        keep_frozen = self.frozen is not None if frozen is None else frozen
        self.frozen = now if keep_frozen else None
        self.offset = now - self.real()
        with self.store.transaction():
            self.store.set_meta("clock_offset", self.offset)
            self.store.set_meta("clock_frozen", self.frozen)
        return now


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def iso(t: float) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-11-26T02:40:00.123Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Seconds since the epoch of an ISO-8601 time (UTC when no offset is given)."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@lru_cache(maxsize=65536)
def expiry_of(yymmdd: str) -> dt.date | None:
    return identifiers.expiry_date(yymmdd)


def overlays_of(product: tuple, pack: tuple, now: float) -> list[str]:
    """Batch- and product-level reasons of a pack (section 3), in the order Withdrawn, Recalled, Expired.

    ``product`` is a ``Store.product`` row, ``pack`` a ``Store.pack`` row. Project rule: a batch is expired
    once the simulator's date is after its expiry date (day ``00``: the month's last day).
    """
    overlays = []
    if pack[8] or product[4]:
        overlays.append("WITHDRAWN")
    if pack[7]:
        overlays.append("RECALLED")
    expiry_day = expiry_of(pack[6])
    if expiry_day is not None and dt.datetime.fromtimestamp(now, dt.UTC).date() > expiry_day:
        overlays.append("EXPIRED")
    return overlays


def state_of(reasons: list[str]) -> str:
    """REST ``state``: the first reason (pack-level reasons come first), else ``Active`` (section 3)."""
    return STATE_OF_REASON[reasons[0]] if reasons else "Active"


class PackRequest:
    """A single-pack request or one bulk/recovery item (section 2: protocol-neutral)."""

    __slots__ = ("client", "scheme", "product_code", "serial", "batch", "expiry", "nhrn", "requested_state",
                 "client_trx_id", "ref_client_trx_id", "entry_mode", "bulk_id", "recorded_at", "undo_reason")

    def __init__(self, client: Client, scheme: str, product_code: str, serial: str, batch: Any, expiry: Any,
                 nhrn: Any = None, requested_state: Any = None, client_trx_id: Any = None,
                 ref_client_trx_id: Any = None, entry_mode: str = "non-manual", bulk_id: str | None = None,
                 recorded_at: Any = None, undo_reason: str | None = None) -> None:
        self.client = client
        self.scheme = scheme
        self.product_code = product_code
        self.serial = serial
        self.batch = batch
        self.expiry = expiry
        self.nhrn = nhrn
        self.requested_state = requested_state  # None: verify
        self.client_trx_id = client_trx_id
        self.ref_client_trx_id = ref_client_trx_id
        self.entry_mode = entry_mode
        self.bulk_id = bulk_id
        self.recorded_at = recorded_at
        self.undo_reason = undo_reason  # SOAP only: the reason an explicit undo G-code names

    @property
    def is_change(self) -> bool:
        return self.requested_state is not None


class PackResult:
    """The engine's answer: return code, pack state and reasons, alert, ids (section 7.2 response body)."""

    __slots__ = ("code", "state", "reasons", "alert_id", "alert_code", "is_intermarket", "product_name",
                 "batch_state", "nmvs_trx_id", "client_trx_id", "timestamp", "http_status", "detail")

    def __init__(self, code: str, is_change: bool, timestamp: float, client_trx_id: str | None,
                 state: str | None = None, reasons: list[str] | None = None, alert_id: str | None = None,
                 alert_code: str | None = None, is_intermarket: bool = False, product_name: str | None = None,
                 batch_state: str | None = None, detail: str | None = None) -> None:
        self.code = code
        self.state = state
        self.reasons = reasons or []
        self.alert_id = alert_id
        self.alert_code = alert_code
        self.is_intermarket = is_intermarket
        self.product_name = product_name
        self.batch_state = batch_state
        self.nmvs_trx_id = os.urandom(16).hex()
        self.client_trx_id = client_trx_id
        self.timestamp = timestamp
        self.http_status = CODES[code].http_status(is_change)
        self.detail = detail

    def as_json(self, language: str = "fr") -> dict[str, Any]:
        """The response body of section 7.2 (``description`` in the requested language)."""
        description = CODES[self.code].description(language)
        if self.detail:
            description = f"{description} {self.detail}"
        return {"operationCode": self.code, "description": description, "state": self.state,
                "reasons": self.reasons, "alertId": self.alert_id, "alertCode": self.alert_code,
                "isIntermarket": self.is_intermarket, "productName": self.product_name,
                "batchState": self.batch_state, "nmvsTrxId": self.nmvs_trx_id, "clientTrxId": self.client_trx_id,
                "timestamp": iso(self.timestamp)}


def record_error(record: dict[str, Any]) -> tuple[str, str] | None:
    """Syntax check of an uploaded master-data record (``POST /admin/packs``): as step 2, serial optional."""
    fields = ("scheme", "productCode", "batch")
    if not all(isinstance(record.get(f), str) for f in fields):
        return "NMVS_TE_JS_02", f"pack record needs string fields {', '.join(fields)}."
    req = PackRequest(None, record["scheme"], record["productCode"], record.get("serial") or "0",  # type: ignore[arg-type]
                      record["batch"], record.get("expiry") or "000000", nhrn=record.get("nhrn"))
    return syntax_error(req)


def syntax_error(req: PackRequest) -> tuple[str, str] | None:
    """Step 2 of section 5: (code, what is wrong) for a malformed request, else None. Never an alert."""
    if req.scheme not in ("GTIN", "PPN"):
        return "NMVS_TE_JS_02", f"scheme {req.scheme!r} is not GTIN or PPN."
    bad_code = identifiers.product_code_error(req.scheme, req.product_code)
    if bad_code:
        return bad_code, f"productCode {req.product_code!r}."
    if not identifiers.is_set82(req.serial):
        return "NMVS_TE_JS_02", f"serial {req.serial!r} must be 1-20 characters of GS1 set 82."
    if not identifiers.is_set82(req.batch):
        return "NMVS_TE_JS_02", f"batch {req.batch!r} must be 1-20 characters of GS1 set 82."
    if not isinstance(req.expiry, str) or expiry_of(req.expiry) is None:
        return "NMVS_FE_LOT_07", f"expiry {req.expiry!r}."
    if req.nhrn is not None and not identifiers.is_nhrn(req.nhrn):
        return "NMVS_NC_PC_11", f"nhrn {req.nhrn!r} must be 1-20 digits."
    if req.requested_state is not None:
        if not isinstance(req.requested_state, str) or req.requested_state not in REQUESTED_STATES:
            return "NMVS_TE_JS_02", f"state {req.requested_state!r} is not one of {sorted(REQUESTED_STATES)}."
        if not identifiers.is_trx_id(req.client_trx_id):
            return "NMVS_TE_JS_02", f"client transaction id {req.client_trx_id!r} must be 1-32 of [A-Za-z0-9-]."
        if req.requested_state == "Active" and not identifiers.is_trx_id(req.ref_client_trx_id):
            return "NMVS_TE_JS_02", "an undo needs refClientTrxId (1-32 of [A-Za-z0-9-])."
        if req.recorded_at is not None:
            try:
                parse_iso(req.recorded_at)
            except (TypeError, ValueError, AttributeError):
                return "NMVS_TE_JS_02", f"recordedAt {req.recorded_at!r} is not ISO-8601."
    return None


class Engine:
    """Executes pack requests against a ``Store`` under a ``SimClock`` and ``Options``."""

    def __init__(self, store: Store, clients: Iterable[Client] = DEMO_CLIENTS, options: Options | None = None,
                 clock: SimClock | None = None) -> None:
        self.store = store
        self.clients = {c.client_id: c for c in clients}
        self.options = options or Options()
        self.clock = clock or SimClock(store)

    # -- requests -----------------------------------------------------------------------------
    def operation_code(self, req: PackRequest, reason: str | None = None) -> str:
        """The G-code of a request (section 4); for an undo, of undoing ``reason``."""
        state = req.requested_state
        if state is None:
            return "G110" if req.bulk_id is None else "G115"
        if state == "Active":
            table = UNDO_CODE if req.bulk_id is None else BULK_UNDO_CODE
            return table.get(reason or "", "G121" if req.bulk_id is None else "G127")
        wanted = REASON_OF_STATE[state]
        if req.bulk_id is not None:
            return BULK_CODE[wanted]
        if req.entry_mode == "manual" and wanted in MANUAL_CODE:
            return MANUAL_CODE[wanted]
        return DECOMMISSION_CODE[wanted]

    def execute(self, req: PackRequest) -> PackResult:
        """Run one request through section 5's decision order from the role check onwards."""
        now = self.clock.now()
        is_change = req.requested_state is not None
        # Step 1 (role check): decommissions need their G-code; undo rights are checked once the reason is known.
        if is_change and isinstance(req.requested_state, str) and req.requested_state in REASON_OF_STATE and \
                self.operation_code(req) not in req.client.permissions:
            return PackResult("NMVS_FE_BR_01", True, now, req.client_trx_id,
                              detail=f"role {req.client.role!r} may not set {req.requested_state!r}.")
        # Step 2: syntax.
        problem = syntax_error(req)
        if problem is not None:
            return PackResult(problem[0], is_change, now, req.client_trx_id if is_change else None,
                              detail=problem[1])
        with self.store.transaction():
            return self._execute(req, now, is_change)

    def _execute(self, req: PackRequest, now: float, is_change: bool) -> PackResult:
        store, client = self.store, req.client
        # Step 3: a client transaction id is used once (section 6).
        if is_change and not store.use_trx_id(client.client_id, req.client_trx_id) \
                and not self.options.allow_reused_trx_ids:
            return PackResult("NMVS_TE_TX_01", True, now, req.client_trx_id)
        key = (req.scheme, req.product_code, req.serial)
        trx_id = req.client_trx_id if is_change else None
        # Step 4: product lookup, intermarket for single-pack calls only.
        product = store.product(req.scheme, req.product_code)
        intermarket = product is not None and product[0] != self.options.market
        if product is None or (intermarket and req.bulk_id is not None):
            return self._finish(req, key, now, PackResult("NMVS_NC_PC_01", is_change, now, trx_id, "NotFound"),
                                known=False)
        name = product[1]
        if product[3]:
            return self._finish(req, key, now, PackResult("NMVS_NC_PC_06", is_change, now, trx_id, "NotFound",
                                                          is_intermarket=intermarket, product_name=name),
                                known=False)
        # Step 5: identifier match.
        pack = store.pack(*key)
        if pack is None:
            code = "NMVS_NC_PC_02" if store.batch(req.scheme, req.product_code, req.batch) else "NMVS_FE_LOT_03"
            result = PackResult(code, is_change, now, trx_id, "NotFound", is_intermarket=intermarket,
                                product_name=name)
            return self._finish(req, key, now, result, known=False, alert=True)
        batch, reason, reason_client, reason_location, reason_trx, reason_at, expiry, recalled, withdrawn = pack
        overlays = overlays_of(product, pack, now)

        def answer(code: str, new_reason: str | None = reason, alert: bool = False) -> PackResult:
            reasons = ([new_reason] if new_reason else []) + overlays
            result = PackResult(code, is_change, now, trx_id, state_of(reasons), reasons, is_intermarket=intermarket,
                                product_name=name, batch_state=state_of(overlays))
            return self._finish(req, key, now, result, known=True, alert=alert, reason=reason)

        if batch != req.batch:
            return answer("NMVS_FE_LOT_13", alert=True)
        if expiry != req.expiry:
            return answer("NMVS_FE_LOT_12", alert=True)
        # Step 6: verify.
        if not is_change:
            return answer(SUCCESS)
        same_client = reason_client == client.client_id and reason_location == client.location_id
        # Step 7: decommission.
        if req.requested_state != "Active":
            wanted = REASON_OF_STATE[req.requested_state]
            if reason is None:
                if overlays:
                    return answer(OVERLAY_CODE[overlays[0]])
                store.set_reason(key, wanted, client.client_id, client.location_id, req.client_trx_id, now)
                return answer(SUCCESS, wanted)
            if reason == wanted:
                if same_client:
                    return answer("NMVS_NC_PCK_23", alert=self.options.double_scan_alert)
                pck19 = self.options.pck19_alert
                return answer("NMVS_NC_PCK_19", alert=pck19 == "always" or (pck19 == "intermarket" and intermarket))
            return answer("NMVS_NC_PCK_27" if intermarket else "NMVS_NC_PCK_22", alert=True)
        # Step 8: undo (Art. 13).
        if reason is None:
            return answer("NMVS_NC_PCK_06")
        if self.operation_code(req, reason) not in client.permissions:
            result = PackResult("NMVS_FE_BR_01", True, now, trx_id, STATE_OF_REASON[reason],
                                detail=f"role {client.role!r} may not undo {STATE_OF_REASON[reason]!r}.")
            return self._finish(req, key, now, result, known=True, reason=reason)
        if overlays:
            return answer(OVERLAY_CODE[overlays[0]])
        if not same_client:
            return answer("NMVS_NC_PCK_21", alert=True)
        limit = self.options.lock_undo_days if reason == "LOCKED" else self.options.undo_days
        if limit is not None and now - (reason_at or now) > limit * DAY:
            return answer("NMVS_NC_PCK_20", alert=True)
        if store.client_operation(client.client_id, key, req.ref_client_trx_id) is None:
            return answer("NMVS_FE_TX_01")
        if req.ref_client_trx_id != reason_trx:
            return answer("NMVS_FE_TX_05")
        if req.undo_reason is not None and req.undo_reason != reason:
            return answer("NMVS_NC_PCK_06", alert=True)
        store.set_reason(key, None, None, None, None, None)
        return answer(SUCCESS, None)

    def _finish(self, req: PackRequest, key: tuple[str, str, str], now: float, result: PackResult,
                known: bool, alert: bool = False, reason: str | None = None) -> PackResult:
        """Step 9: history (or request log) and, for an alert, the alert log (Art. 35, 36)."""
        client = req.client
        if alert:
            alert_code = CODES[result.code].alert or "A24"
            result.alert_code = alert_code
            result.alert_id = f"{self.options.market}-{alert_code}-{os.urandom(6).hex().upper()}"
            self.store.add_alert((result.alert_id, alert_code, result.code, *key, req.batch, req.expiry,
                                  client.client_id, client.location_id, now, result.nmvs_trx_id))
        self.store.add_history((*key, int(known), self.operation_code(req, reason), req.requested_state,
                                client.client_id, client.location_id, req.client_trx_id, req.ref_client_trx_id,
                                req.entry_mode, now, req.recorded_at, result.code, result.nmvs_trx_id,
                                result.alert_id, int(result.is_intermarket), req.bulk_id))
        return result
