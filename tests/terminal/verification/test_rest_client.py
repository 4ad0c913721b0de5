"""The REST client's contract (VERIFICATION-SERVICE.md section 7) against a loopback fake service.

Token caching and renewal (7.1), headers (7.1, 7.2), body mapping (7.2), Retry-After, bulk recovery
and results polling (7.3), the single resend after a 401 on a cached token, no library retries.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from verification_fakes import PACK, json_reply, token_reply

from fmd_core.op_states import classify
from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT, PackRef
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.rest import HTTPVerificationClient

SECRET = "s3cret-never-logged"
FAST = {"connect": 1.0, "read": 1.0, "total": 2.0}

SUPPLIED = {
    "operationCode": "NMVS_SUCCESS", "description": "Opération réussie", "state": "Supplied",
    "reasons": ["SUPPLIED"], "alertId": None, "alertCode": None, "isIntermarket": False,
    "productName": "Doliprane 1000 mg", "batchState": "Active", "nmvsTrxId": "N" * 32,
    "clientTrxId": "c" * 32, "timestamp": "2026-11-26T03:00:00Z",
}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Service:
    """Issues numbered tokens; routes other requests to ``reply(request)``; 401 for a stale token."""

    def __init__(self, reply, expires_in=3600, valid_tokens=None):
        self.reply = reply
        self.expires_in = expires_in
        self.issued = 0
        self.valid_tokens = valid_tokens  # None: every issued token is valid
        self.ports = set()

    def __call__(self, request, raw):
        self.ports.add(raw.client_address[1])
        if request.path.endswith("/identity/connect/token"):
            form = parse_qs(request.body.decode())
            if form != {"grant_type": ["client_credentials"], "client_id": ["pharmacy-1"], "client_secret": [SECRET]}:
                return json_reply(401, {"error": "invalid_client"})
            self.issued += 1
            return token_reply(f"tok-{self.issued}", self.expires_in)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return json_reply(401, {"operationCode": "NMVS_FE_AU_01"})
        return self.reply(request)


def make_client(url, **options):
    options.setdefault("timeouts", FAST)
    return HTTPVerificationClient(url, client_id="pharmacy-1", client_secret=options.pop("secret", SECRET), **options)


def test_verify_sends_the_pack_and_maps_the_body(fake_service):
    service = fake_service(Service(lambda r: json_reply(200, dict(SUPPLIED, clientTrxId=None))))
    pack = PackRef("GTIN", "03400930000120", "AB/C%d&e f", "B1", "280000", nhrn="3400930000120")
    answer = make_client(service.url).verify(pack)
    request = service.requests[-1]
    parts = urlsplit(request.path)
    assert request.method == "GET"
    assert parts.path == "/product/GTIN/03400930000120/pack/AB%2FC%25d%26e%20f"
    assert parse_qs(parts.query) == {"batch": ["B1"], "expiry": ["280000"], "nhrn": ["3400930000120"]}
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["emvs-data-entry-mode"] == "non-manual"
    assert "X-Client-Trx-Id" not in request.headers
    assert (answer.transport, answer.http_status) == (ANSWERED, 200)
    assert (answer.operation_code, answer.state, answer.reasons) == ("NMVS_SUCCESS", "Supplied", ("SUPPLIED",))
    assert (answer.product_name, answer.nmvs_trx_id, answer.client_trx_id) == ("Doliprane 1000 mg", "N" * 32, None)
    assert answer.description == "Opération réussie"
    assert not answer.has_alert


def test_change_state_sends_the_trx_id_header_and_json_body(fake_service):
    service = fake_service(Service(lambda r: json_reply(200, SUPPLIED)))
    manual = PackRef("GTIN", "03400930000120", "SER", "B1", "281231", entry_mode="manual")
    make_client(service.url).change_state(manual, "Active", "c" * 32, ref_client_trx_id="d" * 32)
    request = service.requests[-1]
    assert (request.method, request.path) == ("PATCH", "/product/GTIN/03400930000120/pack/SER")
    assert request.headers["X-Client-Trx-Id"] == "c" * 32
    assert request.headers["emvs-data-entry-mode"] == "manual"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {"batch": "B1", "expiry": "281231", "state": "Active", "refClientTrxId": "d" * 32}


def test_a_refusal_with_an_alert_is_an_answer(fake_service):
    refused = dict(SUPPLIED, operationCode="NMVS_NC_PCK_22", alertId="ALERT-1", alertCode="A24", state="Destroyed",
                   reasons=["DESTROYED"], notifications=["password expires in 5 days"])
    service = fake_service(Service(lambda r: json_reply(409, refused)))
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.transport, answer.http_status, answer.operation_code) == (ANSWERED, 409, "NMVS_NC_PCK_22")
    assert answer.has_alert and answer.alert_code == "A24"
    assert answer.notifications == ("password expires in 5 days",)


def test_the_token_is_cached_and_the_connection_kept_alive(fake_service):
    handler = Service(lambda r: json_reply(200, SUPPLIED))
    service = fake_service(handler)
    client = make_client(service.url)
    for _ in range(5):
        assert client.verify(PACK).operation_code == "NMVS_SUCCESS"
    assert handler.issued == 1
    assert len(handler.ports) == 1


def test_the_token_is_renewed_before_it_runs_out(fake_service):
    handler = Service(lambda r: json_reply(200, SUPPLIED), expires_in=100)
    service = fake_service(handler)
    clock = FakeClock()
    client = make_client(service.url, clock=clock)
    client.ping()
    clock.now += 89  # renewal margin is a tenth of the life: still valid
    client.ping()
    assert handler.issued == 1
    clock.now += 2  # 91 s: within the last tenth
    client.ping()
    assert handler.issued == 2
    assert service.requests[-1].headers["Authorization"] == "Bearer tok-2"


def test_a_401_on_a_cached_token_renews_it_and_resends_once(fake_service):
    handler = Service(lambda r: json_reply(200, SUPPLIED), valid_tokens={"tok-1"})
    service = fake_service(handler)
    client = make_client(service.url)
    client.ping()
    handler.valid_tokens = {"tok-2"}  # the service forgot tok-1 (restart, revocation)
    answer = client.change_state(PACK, "Supplied", "c" * 32)
    assert (answer.http_status, answer.operation_code) == (200, "NMVS_SUCCESS")
    assert service.paths()[-3:] == ["PATCH /product/GTIN/03400930000120/pack/SER1AL%2F%25%26x",
                                    "POST /identity/connect/token",
                                    "PATCH /product/GTIN/03400930000120/pack/SER1AL%2F%25%26x"]
    assert [r.headers.get("X-Client-Trx-Id") for r in service.requests if r.method == "PATCH"] == ["c" * 32] * 2


def test_a_401_on_a_fresh_token_is_not_resent(fake_service):
    handler = Service(lambda r: json_reply(200, SUPPLIED), valid_tokens=set())
    service = fake_service(handler)
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.transport, answer.http_status, answer.operation_code) == (ANSWERED, 401, "NMVS_FE_AU_01")
    assert service.paths() == ["POST /identity/connect/token", "PATCH /product/GTIN/03400930000120/pack/SER1AL%2F%25%26x"]


def test_a_second_401_after_the_resend_is_passed_on(fake_service):
    handler = Service(lambda r: json_reply(200, SUPPLIED), valid_tokens={"tok-1"})
    service = fake_service(handler)
    client = make_client(service.url)
    client.ping()
    handler.valid_tokens = set()
    answer = client.ping()
    assert answer.http_status == 401
    assert service.paths() == ["POST /identity/connect/token", "GET /ping", "GET /ping",
                               "POST /identity/connect/token", "GET /ping"]


def test_wrong_credentials_refuse_the_token(fake_service):
    service = fake_service(Service(lambda r: json_reply(200, SUPPLIED)))
    answer = make_client(service.url, secret="wrong").verify(PACK)
    assert (answer.transport, answer.http_status) == (ANSWERED, 401)
    assert answer.detail == "token refused: invalid_client"
    assert service.paths() == ["POST /identity/connect/token"]


@pytest.mark.parametrize("status", [500, 502])
def test_a_failing_token_endpoint_means_the_operation_was_not_sent(fake_service, status):
    service = fake_service(lambda request, raw: json_reply(status, {"operationCode": "NMVS_ERROR"}))
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.transport, answer.transport_error, answer.http_status) == (NOT_SENT, "token_unavailable", None)
    assert answer.detail == f"token request answered HTTP {status}"


def test_a_token_request_dropped_after_sending_is_still_not_sent(fake_service):
    service = fake_service(lambda request, raw: None)
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "reset")
    assert answer.detail.startswith("token request: ")


@pytest.mark.parametrize(("status", "code"), [(429, "NMVS_FI_SE_CLI_01"), (503, "NMVS_ERROR")])
def test_retry_after_on_throttling_and_outage(fake_service, status, code):
    service = fake_service(Service(lambda r: json_reply(status, {"operationCode": code}, {"Retry-After": "7"})))
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.http_status, answer.operation_code, answer.retry_after_s) == (status, code, 7.0)


def test_the_library_does_not_retry(fake_service):
    handler = Service(lambda r: None)  # close the connection after reading the request
    service = fake_service(handler)
    answer = make_client(service.url).change_state(PACK, "Supplied", "c" * 32)
    assert answer.transport == NO_ANSWER
    assert [p.split()[0] for p in service.paths()].count("PATCH") == 1


def test_recovery_upload_and_results(fake_service):
    def reply(request):
        if request.path == "/recovery/packs":
            return json_reply(202, {"bulkId": "b1", "resultsUri": "/recovery/packs/b1"})
        if len([r for r in service.requests if r.path == "/recovery/packs/b1"]) == 1:
            return json_reply(202, {"operationCode": "NMVS_FE_TX_02"})
        return json_reply(200, {"items": [SUPPLIED, dict(SUPPLIED, operationCode="NMVS_NC_PC_01", state="NotFound")]})

    service = fake_service(Service(reply))
    client = make_client(service.url)
    items = [RecoveryItem(PACK, "Supplied", "a" * 32, None, "2026-11-25T18:00:00Z"),
             RecoveryItem(PACK, "Active", "b" * 32, "a" * 32, "2026-11-25T18:01:00Z")]
    answer, uri = client.submit_recovery(items)
    assert (answer.http_status, uri) == (202, "/recovery/packs/b1")
    sent = service.requests[-1]
    assert sent.headers["emvs-data-entry-mode"] == "non-manual"
    assert sent.json()["items"][1] == {
        "scheme": "GTIN", "productCode": "03400930000120", "serial": "SER1AL/%&x", "batch": "B4TCH",
        "expiry": "281231", "requestedState": "Active", "clientTrxId": "b" * 32, "refClientTrxId": "a" * 32,
        "recordedAt": "2026-11-25T18:01:00Z"}
    pending, none = client.fetch_results(uri)
    assert (pending.http_status, pending.operation_code, none) == (202, "NMVS_FE_TX_02", None)
    done, results = client.fetch_results(service.url + uri)
    assert done.http_status == 200
    assert [(r.operation_code, r.state, r.http_status) for r in results] == [
        ("NMVS_SUCCESS", "Supplied", 200), ("NMVS_NC_PC_01", "NotFound", 409)]
    # the outbox classifies each item like a single-pack answer (OFFLINE-QUEUE.md section 4.1)
    assert [classify(r) for r in results] == ["success", "refused"]


def test_results_are_never_fetched_from_another_origin(fake_service):
    service = fake_service(Service(lambda r: json_reply(200, {"items": []})))
    answer, results = make_client(service.url).fetch_results("https://elsewhere.example/recovery/packs/b1")
    assert (answer.transport, results) == (NOT_SENT, None)
    assert service.requests == []


def test_a_base_path_is_kept(fake_service):
    service = fake_service(Service(lambda r: json_reply(200, {"status": "ok"})))
    answer = make_client(service.url + "/nmvs/v1/").ping()
    assert answer.http_status == 200
    assert service.paths() == ["POST /nmvs/v1/identity/connect/token", "GET /nmvs/v1/ping"]


def test_secrets_are_never_logged(fake_service, caplog):
    handler = Service(lambda r: json_reply(200, SUPPLIED), valid_tokens={"tok-1"})
    service = fake_service(handler)
    client = make_client(service.url)
    with caplog.at_level(logging.DEBUG):
        client.verify(PACK)
        handler.valid_tokens = set()
        client.change_state(PACK, "Supplied", "c" * 32)
    text = caplog.text + repr(client)
    assert "pharmacy-1" in repr(client)
    assert SECRET not in text and "tok-1" not in text and "tok-2" not in text
    assert "401 on a cached token" in caplog.text
