"""Value objects exchanged with the verification service, independent of REST or SOAP.

The clients in ``fmd_terminal.verification`` turn wire answers into ``ServiceAnswer``; the flow
(``fmd_core.flow``) and the outbox's classifier read only these objects, so the flow, the outbox and
the events journal behave identically over every protocol (VERIFICATION-SERVICE.md, sections 2, 7).
"""

# How a request ended at the transport level (OFFLINE-QUEUE.md section 4.1):
ANSWERED = "answered"  # an HTTP answer with a parsed body arrived (any status)
NOT_SENT = "not_sent"  # DNS failure, connection refused, connect timeout, TLS handshake: no byte left
NO_ANSWER = "no_answer"  # read timeout, reset or close after sending, truncated or unparseable body

# ``transport_error`` details, for classification and logs:
#   "dns", "refused", "connect_timeout", "tls_handshake", "tls_client_cert",
#   "tls_server_cert_not_yet_valid", "tls_server_cert_expired", "tls_untrusted",
#   "read_timeout", "reset", "truncated", "bad_body", None
#   "token_unavailable" (NOT_SENT: the REST token request failed, so the operation was never sent)
# "bad_body" also comes with ANSWERED when a complete non-JSON/non-SOAP body has a status that means
# "not processed" (3xx, 400-415, 422, 429, 503): see fmd_terminal.verification.rest.


class PackRef:
    """What the service needs to identify a pack: the decoded pack identifier, plus the entry mode.

    expiry is the raw YYMMDD from the code (PACK-CODES.md: the raw value is what goes to the service).
    entry_mode is "non-manual" (scanned) or "manual" (typed in; G122/G182).
    """

    __slots__ = ("scheme", "product_code", "serial", "batch", "expiry", "nhrn", "entry_mode")

    def __init__(self, scheme, product_code, serial, batch, expiry, nhrn=None, entry_mode="non-manual"):
        self.scheme = scheme
        self.product_code = product_code
        self.serial = serial
        self.batch = batch
        self.expiry = expiry
        self.nhrn = nhrn
        self.entry_mode = entry_mode

    @property
    def pack_key(self):
        """Normalised scheme + product code + serial (OFFLINE-QUEUE.md section 3); serial case kept."""
        return self.scheme + ":" + self.product_code + ":" + self.serial

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other):
        return isinstance(other, PackRef) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "PackRef(%r)" % (self.as_dict(),)


class ServiceAnswer:
    """One answer (or non-answer) of the service to one request. Treated as immutable.

    Field names follow the REST body of VERIFICATION-SERVICE.md section 7.2, in snake case.
    """

    __slots__ = (
        "transport",
        "transport_error",
        "http_status",
        "operation_code",
        "description",
        "state",
        "reasons",
        "alert_id",
        "alert_code",
        "is_intermarket",
        "product_name",
        "batch_state",
        "nmvs_trx_id",
        "client_trx_id",
        "timestamp",
        "retry_after_s",
        "notifications",
        "detail",
    )

    def __init__(
        self,
        transport=ANSWERED,
        transport_error=None,
        http_status=None,
        operation_code=None,
        description=None,
        state=None,
        reasons=(),
        alert_id=None,
        alert_code=None,
        is_intermarket=False,
        product_name=None,
        batch_state=None,
        nmvs_trx_id=None,
        client_trx_id=None,
        timestamp=None,
        retry_after_s=None,
        notifications=(),
        detail=None,
    ):
        self.transport = transport
        self.transport_error = transport_error
        self.http_status = http_status
        self.operation_code = operation_code
        self.description = description
        self.state = state
        self.reasons = tuple(reasons)
        self.alert_id = alert_id
        self.alert_code = alert_code
        self.is_intermarket = is_intermarket
        self.product_name = product_name
        self.batch_state = batch_state
        self.nmvs_trx_id = nmvs_trx_id
        self.client_trx_id = client_trx_id
        self.timestamp = timestamp
        self.retry_after_s = retry_after_s
        self.notifications = tuple(notifications)
        self.detail = detail

    @property
    def has_alert(self):
        """An alert exists exactly when the answer carries an alert id (VERIFICATION-SERVICE.md s. 5)."""
        return bool(self.alert_id)

    def as_dict(self):
        d = {name: getattr(self, name) for name in self.__slots__}
        d["reasons"] = list(self.reasons)
        d["notifications"] = list(self.notifications)
        return d

    def __eq__(self, other):
        return isinstance(other, ServiceAnswer) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "ServiceAnswer(%r)" % (self.as_dict(),)
