"""The HTTP status the REST interface gives each return code (VERIFICATION-SERVICE.md section 5).

Answers that carry no HTTP status of their own get this one, so that the outbox classifies them
exactly like a single-pack REST answer (OFFLINE-QUEUE.md section 4.1):

- the per-item results of a recovery upload (section 7.3: one body per item, no status per item);
- every SOAP answer (section 2: the blueprint answers business refusals inside a normal response).

Written from the spec's table, not from the simulator's code (ARCHITECTURE.md: the clients and the
simulator share no wire-format code).
"""

from __future__ import annotations

# code -> (status of a verify, status of a state change); section 5's "HTTP" column.
_BY_CODE = {
    "NMVS_SUCCESS": (200, 200),
    "NMVS_FE_LOT_01": (409, 409),
    "NMVS_FE_LOT_03": (200, 409),
    "NMVS_FE_LOT_07": (400, 400),
    "NMVS_FE_LOT_08": (409, 409),
    "NMVS_FE_LOT_12": (200, 409),
    "NMVS_FE_LOT_13": (200, 409),
    "NMVS_NC_PC_01": (200, 409),
    "NMVS_NC_PC_02": (200, 409),
    "NMVS_NC_PC_06": (200, 409),
    "NMVS_NC_PC_11": (400, 400),
    "NMVS_FE_TX_02": (202, 202),
    "NMVS_TI_TO_01": (500, 500),
    "NMVS_FE_BR_01": (403, 403),
    "NMVS_FI_SE_CLI_01": (429, 429),
    "NMVS_ERROR": (500, 500),
}
_BY_PREFIX = (("NMVS_TE_XM_", 400), ("NMVS_TE_JS_", 400), ("NMVS_FE_GR_", 400), ("NMVS_FE_AU_", 401),
              ("NMVS_FE_PKI_", 401))


def equivalent_status(code: str | None, is_change: bool) -> int | None:
    """The REST status of ``code`` for a verify or a change; None when there is no code.

    Any other business code (``NC_PCK_*``, ``FE_TX_01/05``, ``TE_TX_01``, codes this table does not
    know) is a refusal: 409 for a change, 200 for a verify (a verify returns 200 for every business
    outcome, section 7.2).
    """
    if not code:
        return None
    if code in _BY_CODE:
        return _BY_CODE[code][1 if is_change else 0]
    for prefix, status in _BY_PREFIX:
        if code.startswith(prefix):
            return status
    return 409 if is_change else 200
