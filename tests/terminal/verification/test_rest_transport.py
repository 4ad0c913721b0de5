"""Transport classification of the REST client against misbehaving loopback servers.

OFFLINE-QUEUE.md section 4.1: NOT_SENT only when nothing can have been processed; NO_ANSWER when the
request may have been processed. VERIFICATION-SERVICE.md section 7.1: TLS always verified.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import threading

import pytest
import urllib3.exceptions
from verification_fakes import PACK, json_reply, token_reply

from fmd_core.service import ANSWERED, NO_ANSWER, NOT_SENT
from fmd_terminal.errors import ConfigError
from fmd_terminal.verification.rest import HTTPVerificationClient
from fmd_terminal.verification.transport import Timeouts, classify_failure, retry_after_seconds

FAST = {"connect": 1.0, "read": 0.4, "total": 1.5}


def client_for(url, **options):
    options.setdefault("timeouts", FAST)
    return HTTPVerificationClient(url, client_id="pharmacy-1", client_secret="s3cret", **options)


def answering(after_token):
    """A handler that hands out a token, then behaves as ``after_token``."""

    def handler(request, raw):
        if request.path == "/identity/connect/token":
            return token_reply()
        return after_token(request, raw)

    return handler


def send_head(raw, name, value):
    raw.send_response(200)
    raw.send_header("Content-Type", "application/json")
    raw.send_header(name, value)
    raw.end_headers()


def ok(request, raw):
    return json_reply(200, {"operationCode": "NMVS_SUCCESS", "state": "Active"})


def test_connection_refused_is_not_sent(refused_url):
    answer = client_for(refused_url).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "refused")


def test_connect_timeout_is_not_sent():
    # A listening socket whose accept queue is full drops further SYNs: the connect times out.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(listener.getsockname())
                fillers.append(filler)
            answer = client_for(url, timeouts={"connect": 0.3, "read": 0.3, "total": 1}).ping()
        finally:
            for filler in fillers:
                filler.close()
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "connect_timeout")


def test_name_resolution_failure_is_classified_dns():
    exc = urllib3.exceptions.NameResolutionError("nmvs.invalid", None, OSError("Name or service not known"))
    answer = classify_failure(exc)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "dns")


def test_close_after_reading_the_request_is_no_answer(fake_service):
    service = fake_service(answering(lambda request, raw: None))
    answer = client_for(service.url).change_state(PACK, "Supplied", "a" * 32)
    assert (answer.transport, answer.transport_error) == (NO_ANSWER, "reset")
    assert service.paths()[-1].startswith("PATCH /product/GTIN/")


def test_silence_past_the_read_timeout_is_no_answer(fake_service):
    service = fake_service(answering(lambda request, raw: service.release.wait(5) and None))
    answer = client_for(service.url).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NO_ANSWER, "read_timeout")


def test_a_trickling_body_is_cut_at_the_total_deadline(fake_service):
    def trickle(request, raw):
        send_head(raw, "Content-Length", "1000")
        for _ in range(100):
            raw.wfile.write(b" ")
            raw.wfile.flush()
            if service.release.wait(0.05):
                break

    service = fake_service(answering(trickle))
    answer = client_for(service.url, timeouts={"connect": 1, "read": 0.5, "total": 0.6}).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NO_ANSWER, "read_timeout")
    assert answer.http_status == 200


def test_a_chunked_body_is_read_whole(fake_service):
    def chunked(request, raw):
        send_head(raw, "Transfer-Encoding", "chunked")
        body = json.dumps({"operationCode": "NMVS_SUCCESS", "state": "Supplied", "reasons": ["SUPPLIED"]})
        for piece in (body[:10], body[10:]):
            raw.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece.encode()))
        raw.wfile.write(b"0\r\n\r\n")

    service = fake_service(answering(chunked))
    answer = client_for(service.url).verify(PACK)
    assert (answer.transport, answer.state, answer.reasons) == (ANSWERED, "Supplied", ("SUPPLIED",))


def test_a_truncated_body_is_no_answer(fake_service):
    def truncated(request, raw):
        send_head(raw, "Content-Length", "500")
        raw.wfile.write(b'{"operationCode": "NMVS_SUC')

    service = fake_service(answering(truncated))
    answer = client_for(service.url).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NO_ANSWER, "truncated")


@pytest.mark.parametrize(
    ("status", "transport"),
    [(200, NO_ANSWER), (409, NO_ANSWER), (500, NO_ANSWER), (404, ANSWERED), (503, ANSWERED)],
)
def test_a_body_that_is_not_json(fake_service, status, transport):
    service = fake_service(answering(lambda r, raw: (status, {"Content-Type": "text/html"}, b"<h1>oops</h1>")))
    answer = client_for(service.url).verify(PACK)
    assert (answer.transport, answer.transport_error, answer.http_status) == (transport, "bad_body", status)


# -- TLS ------------------------------------------------------------------------------------------


def test_trusted_server_answers(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context())
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).verify(PACK)
    assert (answer.transport, answer.operation_code) == (ANSWERED, "NMVS_SUCCESS")


@pytest.mark.parametrize(
    ("days", "error"),
    [((-30, -1), "tls_server_cert_expired"), ((2, 30), "tls_server_cert_not_yet_valid")],
)
def test_server_certificate_outside_its_validity(fake_service, pki, days, error):
    service = fake_service(answering(ok), tls=pki.server_context(days=days))
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, error)
    assert service.requests == []


def test_server_from_an_unknown_ca_is_untrusted(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context(ca=pki.other_ca))
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_untrusted")


def test_system_store_does_not_trust_a_test_ca(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context())
    answer = client_for(service.url).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_untrusted")


def test_mutual_tls_with_a_valid_client_certificate(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context(client_ca=pki.ca))
    cert, key = pki.client_files()
    answer = client_for(service.url, ca_bundle=pki.ca_bundle, client_cert=cert, client_key=key).verify(PACK)
    assert (answer.transport, answer.operation_code) == (ANSWERED, "NMVS_SUCCESS")


@pytest.mark.parametrize("case", ["expired", "unknown_ca"])
def test_rejected_client_certificate(fake_service, pki, case):
    service = fake_service(answering(ok), tls=pki.server_context(client_ca=pki.ca))
    cert, key = pki.client_files(days=(-60, -1)) if case == "expired" else pki.client_files(ca=pki.other_ca)
    answer = client_for(service.url, ca_bundle=pki.ca_bundle, client_cert=cert, client_key=key).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_client_cert")
    assert service.requests == []


def test_client_certificate_file_removed_after_start(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context(client_ca=pki.ca))
    cert, key = pki.client_files()
    client = client_for(service.url, ca_bundle=pki.ca_bundle, client_cert=cert, client_key=key)
    os.remove(cert)
    answer = client.verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_client_cert")
    assert "is missing" in answer.detail


@pytest.mark.parametrize("server_max", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_no_client_certificate_for_a_server_that_requires_one(fake_service, pki, server_max):
    """OFFLINE-QUEUE.md 4.3: the server asked for a certificate, got none and ended the handshake."""
    context = pki.server_context(client_ca=pki.ca)
    context.maximum_version = server_max
    service = fake_service(answering(ok), tls=context)
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).change_state(PACK, "Supplied", "b" * 32)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_client_cert"), answer.detail
    assert "requires a client certificate and none is configured" in answer.detail
    assert service.requests == []


def test_a_server_asking_for_an_optional_certificate_is_served_without_one(fake_service, pki):
    context = pki.server_context(client_ca=pki.ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    service = fake_service(answering(ok), tls=context)
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).verify(PACK)
    assert (answer.transport, answer.operation_code) == (ANSWERED, "NMVS_SUCCESS")


def test_a_reset_after_a_handshake_that_asked_for_a_certificate_is_no_answer(fake_service, pki):
    """The certificate request alone proves nothing: a drop once the request was sent is still unknown."""
    context = pki.server_context(client_ca=pki.ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    service = fake_service(answering(lambda request, raw: None), tls=context)
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).change_state(PACK, "Supplied", "c" * 32)
    assert (answer.transport, answer.transport_error) == (NO_ANSWER, "reset")


def test_an_untrusted_server_requiring_a_certificate_is_untrusted(fake_service, pki):
    service = fake_service(answering(ok), tls=pki.server_context(ca=pki.other_ca, client_ca=pki.ca))
    answer = client_for(service.url, ca_bundle=pki.ca_bundle).verify(PACK)
    assert (answer.transport, answer.transport_error) == (NOT_SENT, "tls_untrusted")


def test_a_reset_during_the_handshake_is_not_a_certificate_problem():
    """A peer that reads the ClientHello and resets (RST) before any CertificateRequest."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def reset_one():
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    worker = threading.Thread(target=reset_one, daemon=True)
    worker.start()
    try:
        answer = client_for(f"https://127.0.0.1:{port}").verify(PACK)
    finally:
        worker.join(5)
        listener.close()
    assert answer.transport == NOT_SENT
    assert answer.transport_error in ("tls_handshake", "refused"), answer.detail


def test_unreadable_certificate_files_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigError, match="client_cert file"):
        client_for("https://127.0.0.1:1", client_cert=str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="ca_bundle file"):
        client_for("https://127.0.0.1:1", ca_bundle=str(tmp_path / "missing-ca.pem"))


# -- pieces ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        ("120", None, 120.0),
        ("Thu, 26 Nov 2026 03:00:30 GMT", "Thu, 26 Nov 2026 03:00:00 GMT", 30.0),
        ("Thu, 26 Nov 2026 03:00:30 GMT", None, 10.0),
        ("Thu, 26 Nov 2026 02:00:00 GMT", None, 0.0),
        ("soon", None, None),
        (None, None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(value, date, expected):
    wall = 1795662020.0  # Thu, 26 Nov 2026 03:00:20 GMT
    assert retry_after_seconds(value, date, lambda: wall) == expected


def test_timeouts_reject_nonsense():
    assert Timeouts.coerce({"read": 2}).read == 2.0
    with pytest.raises(ConfigError, match="unknown timeout keys"):
        Timeouts.coerce({"reed": 2})
    with pytest.raises(ConfigError, match="total"):
        Timeouts(total=0)
