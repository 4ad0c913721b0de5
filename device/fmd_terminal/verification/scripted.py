"""An in-memory twin of the verification service, for tests of the flow and the outbox.

``ScriptedVerificationClient`` implements the ``VerificationClient`` port without a network
(ARCHITECTURE.md, principle 2 "fakes are features"). It answers from a script and records every call:

- a **list**: answers handed out in order, whatever the method;
- a **dict**: keyed by ``(method, pack_key)`` first, then by ``method`` (``"verify"``,
  ``"change_state"``, ``"ping"``, ``"submit_recovery"``, ``"fetch_results"``); a value is one answer
  (reused) or a list of answers (consumed in order);
- a **callable** ``script(call) -> answer`` receiving the ``ScriptedCall``.

``submit_recovery`` answers are ``(ServiceAnswer, results_uri)`` and ``fetch_results`` answers are
``(ServiceAnswer, items)``, as in the port. When the script has nothing for a call, ``default``
answers it (a callable or a fixed answer); without a default the client raises
``ScriptExhaustedError``, because a test that runs out of script has a mistake in it.

``scripted://`` URLs (``factory.open_service``): ``scripted://offline`` (the default) answers every
call ``NOT_SENT``/``refused``; ``scripted://success`` answers every call as a healthy service would
for a pack that is active: the requested state with ``NMVS_SUCCESS``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from fmd_core.service import ANSWERED, NOT_SENT, PackRef, ServiceAnswer
from fmd_terminal.errors import ServiceError
from fmd_terminal.verification import RecoveryItem


class ScriptExhaustedError(ServiceError):
    """The scripted service was asked something its script does not answer."""


class ScriptedCall:
    """One recorded call: the method's name and its arguments."""

    __slots__ = ("method", "pack", "state", "client_trx_id", "ref_client_trx_id", "items", "results_uri")

    def __init__(self, method: str, pack: PackRef | None = None, state: str | None = None,
                 client_trx_id: str | None = None, ref_client_trx_id: str | None = None,
                 items: list[RecoveryItem] | None = None, results_uri: str | None = None) -> None:
        self.method = method
        self.pack = pack
        self.state = state
        self.client_trx_id = client_trx_id
        self.ref_client_trx_id = ref_client_trx_id
        self.items = items
        self.results_uri = results_uri

    def __repr__(self) -> str:
        shown = {name: getattr(self, name) for name in self.__slots__[1:] if getattr(self, name) is not None}
        return f"ScriptedCall({self.method!r}, {shown!r})"


def offline_answer(call: ScriptedCall) -> Any:
    """What an unreachable service gives: nothing left the terminal."""
    answer = ServiceAnswer(transport=NOT_SENT, transport_error="refused", detail="scripted: offline")
    return (answer, None) if call.method in ("submit_recovery", "fetch_results") else answer


def success_answer(call: ScriptedCall) -> Any:
    """What a healthy service gives for an active pack: the requested state, ``NMVS_SUCCESS``."""
    if call.method == "submit_recovery":
        uri = f"/recovery/packs/scripted-{next(_bulk_ids)}"
        _bulk_items[uri] = [(item.requested_state, item.client_trx_id) for item in call.items or ()]
        return ServiceAnswer(http_status=202), uri
    if call.method == "fetch_results":  # each item of that upload: its requested state, NMVS_SUCCESS
        return ServiceAnswer(http_status=200), [_success(state, trx) for state, trx
                                                 in _bulk_items.pop(call.results_uri or "", [])]
    if call.method == "ping":
        return ServiceAnswer(http_status=200)
    return _success(call.state, call.client_trx_id)


def _success(state: str | None, client_trx_id: str | None) -> ServiceAnswer:
    state = state or "Active"
    return ServiceAnswer(transport=ANSWERED, http_status=200, operation_code="NMVS_SUCCESS", state=state,
                         reasons=() if state == "Active" else (state.upper(),), client_trx_id=client_trx_id)


_bulk_ids = itertools.count(1)
_bulk_items: dict[str, list[tuple[str, str]]] = {}  # results URI -> (requested state, ClientTrxId) per item


class ScriptedVerificationClient:
    """The scripted twin of ``HTTPVerificationClient`` (see the module docstring)."""

    def __init__(self, script: list[Any] | dict[Any, Any] | Callable[[ScriptedCall], Any] | None = None,
                 *, default: Callable[[ScriptedCall], Any] | Any = None) -> None:
        self.calls: list[ScriptedCall] = []
        self.closed = False
        self._default = default
        if script is None or callable(script):
            self._script: Any = script
        elif isinstance(script, list):
            self._script = list(script)
        elif isinstance(script, dict):
            self._script = {key: list(value) if isinstance(value, list) else value for key, value in script.items()}
        else:
            raise TypeError(f"script {script!r}: expected a list, a dict or a callable")

    def calls_to(self, method: str) -> list[ScriptedCall]:
        """The recorded calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    # -- the port ------------------------------------------------------------------------------

    def verify(self, pack: PackRef) -> ServiceAnswer:
        return self._answer(ScriptedCall("verify", pack=pack))

    def change_state(self, pack: PackRef, state: str, client_trx_id: str,
                     ref_client_trx_id: str | None = None) -> ServiceAnswer:
        return self._answer(ScriptedCall("change_state", pack=pack, state=state, client_trx_id=client_trx_id,
                                         ref_client_trx_id=ref_client_trx_id))

    def submit_recovery(self, items: list[RecoveryItem]) -> tuple[ServiceAnswer, str | None]:
        return self._answer(ScriptedCall("submit_recovery", items=list(items)))

    def fetch_results(self, results_uri: str) -> tuple[ServiceAnswer, list[ServiceAnswer] | None]:
        return self._answer(ScriptedCall("fetch_results", results_uri=results_uri))

    def ping(self) -> ServiceAnswer:
        return self._answer(ScriptedCall("ping"))

    def close(self) -> None:
        self.closed = True

    # -- the script ----------------------------------------------------------------------------

    def _answer(self, call: ScriptedCall) -> Any:
        self.calls.append(call)
        found, answer = self._from_script(call)
        if found:
            return answer
        if self._default is None:
            raise ScriptExhaustedError(f"no scripted answer for {call!r} (call #{len(self.calls)})")
        return self._default(call) if callable(self._default) else self._default

    def _from_script(self, call: ScriptedCall) -> tuple[bool, Any]:
        script = self._script
        if script is None:
            return False, None
        if callable(script):
            return True, script(call)
        if isinstance(script, list):
            return (True, script.pop(0)) if script else (False, None)
        keys = [call.method] if call.pack is None else [(call.method, call.pack.pack_key), call.method]
        for key in keys:
            if key in script:
                value = script[key]
                if not isinstance(value, list):
                    return True, value
                if value:
                    return True, value.pop(0)
        return False, None
