"""The scripted twin of the service, and ``open_service`` choosing a client by URL."""

from __future__ import annotations

import pytest

from fmd_core.service import ANSWERED, NOT_SENT, PackRef, ServiceAnswer
from fmd_terminal.errors import ConfigError, UnknownSchemeError
from fmd_terminal.verification import RecoveryItem
from fmd_terminal.verification.factory import open_service
from fmd_terminal.verification.rest import HTTPVerificationClient
from fmd_terminal.verification.scripted import ScriptedVerificationClient, ScriptExhaustedError

PACK_A = PackRef("GTIN", "03400930000120", "AAA", "B1", "281231")
PACK_B = PackRef("GTIN", "03400930000120", "BBB", "B1", "281231")
OK = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Active")
SUPPLIED = ServiceAnswer(http_status=200, operation_code="NMVS_SUCCESS", state="Supplied")
THROTTLED = ServiceAnswer(http_status=429, operation_code="NMVS_FI_SE_CLI_01", retry_after_s=3.0)


def test_a_list_is_answered_in_order_and_calls_are_recorded():
    service = ScriptedVerificationClient([THROTTLED, SUPPLIED])
    assert service.change_state(PACK_A, "Supplied", "t1") is THROTTLED
    assert service.change_state(PACK_A, "Supplied", "t1", ref_client_trx_id=None) is SUPPLIED
    with pytest.raises(ScriptExhaustedError, match="call #3"):
        service.verify(PACK_A)
    assert [(c.method, c.state, c.client_trx_id) for c in service.calls] == [
        ("change_state", "Supplied", "t1"), ("change_state", "Supplied", "t1"), ("verify", None, None)]
    assert service.calls[0].pack == PACK_A


def test_a_dict_prefers_the_pack_then_the_method():
    service = ScriptedVerificationClient({("verify", PACK_B.pack_key): [SUPPLIED], "verify": OK, "ping": OK})
    assert service.verify(PACK_B) is SUPPLIED
    assert service.verify(PACK_B) is OK  # the pack's list is used up: the method's answer
    assert service.verify(PACK_A) is OK
    assert service.ping() is OK
    assert len(service.calls_to("verify")) == 3


def test_a_callable_sees_each_call_and_a_default_answers_the_rest():
    service = ScriptedVerificationClient(lambda call: OK if call.pack == PACK_A else SUPPLIED)
    assert service.verify(PACK_A) is OK and service.verify(PACK_B) is SUPPLIED
    fallback = ScriptedVerificationClient({"verify": [OK]}, default=THROTTLED)
    assert fallback.verify(PACK_A) is OK and fallback.verify(PACK_A) is THROTTLED


def test_recovery_and_results_keep_the_port_shapes():
    item = RecoveryItem(PACK_A, "Supplied", "t1", None, "2026-11-25T18:00:00Z")
    service = ScriptedVerificationClient({"submit_recovery": (OK, "/r/1"), "fetch_results": [(OK, None), (OK, [SUPPLIED])]})
    assert service.submit_recovery([item]) == (OK, "/r/1")
    assert service.fetch_results("/r/1") == (OK, None)
    assert service.fetch_results("/r/1") == (OK, [SUPPLIED])
    assert service.calls[0].items == [item]
    assert service.calls[2].results_uri == "/r/1"


def test_scripted_urls():
    offline = open_service("scripted://offline")
    answer = offline.change_state(PACK_A, "Supplied", "t1")
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "refused")
    assert offline.submit_recovery([]) [1] is None
    success = open_service("scripted://success")
    answer = success.change_state(PACK_A, "Supplied", "t1")
    assert (answer.transport, answer.operation_code, answer.state, answer.reasons) == (
        ANSWERED, "NMVS_SUCCESS", "Supplied", ("SUPPLIED",))
    assert success.verify(PACK_A).state == "Active"
    answer, uri = success.submit_recovery([])
    assert answer.http_status == 202 and uri.startswith("/recovery/packs/")
    success.close()
    assert success.closed
    with pytest.raises(ConfigError, match="scripted://offline, scripted://success"):
        open_service("scripted://perhaps")


def test_rest_urls_need_credentials():
    with pytest.raises(ConfigError, match="FMD_CLIENT_ID [+] FMD_CLIENT_SECRET"):
        open_service("https://nmvs.example")
    with pytest.raises(ConfigError, match="set FMD_CLIENT_SECRET$"):
        open_service("https://nmvs.example", client_id="pharmacy-1")
    client = open_service("https://nmvs.example/api", client_id="pharmacy-1", client_secret="s",
                          timeouts={"read": 2})
    assert isinstance(client, HTTPVerificationClient)
    assert client.base_url == "https://nmvs.example/api"
    client.close()


def test_unknown_schemes_are_named():
    with pytest.raises(UnknownSchemeError, match="http://, https://, .*scripted://"):
        open_service("ftp://nmvs.example")
