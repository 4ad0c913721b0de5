"""The verification-service port: one client interface, REST and SOAP implementations, a fake.

``open_service(url, ...)`` picks the implementation by URL scheme (ARCHITECTURE.md, principle 3):
``http://`` / ``https://`` (REST, VERIFICATION-SERVICE.md section 7), ``nmvs-soap+https://`` (SOAP,
section 2), ``scripted://`` (an in-memory twin for tests).

Every client method returns a ``fmd_core.service.ServiceAnswer`` and never raises for a network
problem or a refusal: those are data (ARCHITECTURE.md, principle 5). Only a configuration mistake
(missing credentials, unreadable certificate file) raises ``ConfigError``.
"""

from __future__ import annotations

from typing import Protocol

from fmd_core.service import PackRef, ServiceAnswer


class RecoveryItem:
    """One operation recorded offline, for ``POST /recovery/packs`` (section 7.3)."""

    __slots__ = ("pack", "requested_state", "client_trx_id", "ref_client_trx_id", "recorded_at")

    def __init__(self, pack: PackRef, requested_state: str, client_trx_id: str,
                 ref_client_trx_id: str | None, recorded_at: str) -> None:
        self.pack = pack
        self.requested_state = requested_state
        self.client_trx_id = client_trx_id
        self.ref_client_trx_id = ref_client_trx_id
        self.recorded_at = recorded_at


class VerificationClient(Protocol):
    """What the flow and the sync worker need from a national verification system."""

    def verify(self, pack: PackRef) -> ServiceAnswer:
        """G110: read the pack's state; changes nothing."""

    def change_state(self, pack: PackRef, state: str, client_trx_id: str,
                     ref_client_trx_id: str | None = None) -> ServiceAnswer:
        """G120/G121/G130/...: request ``state`` ("Supplied", "Destroyed", ..., "Active" = undo)."""

    def submit_recovery(self, items: list[RecoveryItem]) -> tuple[ServiceAnswer, str | None]:
        """G195: upload operations recorded offline; returns the answer and the results URI (or None)."""

    def fetch_results(self, results_uri: str) -> tuple[ServiceAnswer, list[ServiceAnswer] | None]:
        """G196: the per-item answers, or None while the service answers "not ready" (FE_TX_02)."""

    def ping(self) -> ServiceAnswer:
        """A read-only probe (circuit breaker half-open)."""

    def close(self) -> None:
        """Release connections."""
