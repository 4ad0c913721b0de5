"""The SOAP facade under hostile input (issue 13): crowded, deep and huge messages are refused before
they are parsed, large valid bulks are parsed off the event loop, and one hostile client does not
hold up another client's /ping (the load test, bounded to about half a minute).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from fmd_simulator import hostile
from fmd_simulator.soap import messages
from fmd_simulator.soap.testing import running_soap_simulator
from fmd_simulator.testing import running_simulator

SOAP = messages.SOAP_NS
NS = messages.NS


def post(sim, data: bytes, service: str) -> tuple[int, str]:
    status, _, body = sim.request("POST", f"/soap/{service}", body=data,
                                  headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    code = ET.fromstring(body).findtext(f".//{{{NS}}}ReturnCode/{{{NS}}}Code")
    return status, code


@pytest.mark.parametrize("service", ["SinglePackServices", "MixedBulkServices"])
def test_thousands_of_attributes_are_refused_at_once(sim, service):
    data = hostile.crowded_request(6500, bulk=service == "MixedBulkServices")
    assert len(data) > 60_000
    started = time.monotonic()
    assert post(sim, data, service) == (400, "NMVS_TE_XM_01")
    assert time.monotonic() - started < 5  # 7 s (14 s on the bulk endpoint) before the limits


def test_a_few_attributes_more_than_the_schema_needs_still_reach_the_schema_check(sim):
    data = hostile.crowded_request(3)
    assert post(sim, data, "SinglePackServices") == (400, "NMVS_TE_XM_02")  # unknown attributes: schema


def test_too_many_elements_are_refused_before_parsing(sim):
    inner = "<n:X/>" * 500
    data = hostile.soap_envelope(f"<n:PingRequest>{hostile.soap_header()}{inner}</n:PingRequest>")
    assert post(sim, data, "SupportServices") == (400, "NMVS_TE_XM_01")


def test_nesting_is_refused_at_the_depth_cap(sim):
    data = hostile.soap_envelope("<n:PingRequest>" + "<n:a>" * 60 + "</n:a>" * 60 + "</n:PingRequest>")
    assert post(sim, data, "SupportServices") == (400, "NMVS_TE_XM_01")


def test_limits_are_checked_on_the_bytes_before_parsing():
    limits = messages.Limits(max_tags=10, max_attributes=2)
    messages.check_limits(b'<a x="1" y="2"><b/></a>', limits)
    with pytest.raises(messages.MessageError, match="attributes"):
        messages.check_limits(b'<a x="1" y="2" z="3"/>', limits)
    with pytest.raises(messages.MessageError, match="tags"):
        messages.check_limits(b"<a>" + b"<b/>" * 10 + b"</a>", limits)


def test_a_large_valid_bulk_is_parsed_in_a_worker_and_processed(sim):
    data = hostile.bulk_request(800)  # about 330 KB: beyond the small-body limit, so a worker process parses it
    assert len(data) > 64 * 1024
    status, _, body = sim.request("POST", "/soap/MixedBulkServices", body=data,
                                  headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    root = ET.fromstring(body)
    assert status == 200, body[:500]
    assert root.findtext(f".//{{{NS}}}ReturnCode/{{{NS}}}Code") == "NMVS_SUCCESS"
    bulk_id = root.findtext(f".//{{{NS}}}BulkTrxId")
    results = hostile.soap_envelope(f"<n:G196Request>{hostile.soap_header()}<n:Body><n:BulkTrxId>{bulk_id}"
                                    "</n:BulkTrxId></n:Body></n:G196Request>")
    deadline = time.monotonic() + 60
    while True:
        status, _, body = sim.request("POST", "/soap/MixedBulkServices", body=results,
                                      headers={"Content-Type": "application/soap+xml; charset=utf-8"})
        root = ET.fromstring(body)
        if root.findtext(f".//{{{NS}}}Body/{{{NS}}}ReturnCode/{{{NS}}}Code") == "NMVS_SUCCESS":
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    items = root.findall(f".//{{{NS}}}Item")
    assert len(items) == 800
    assert {item.findtext(f"{{{NS}}}ReturnCode/{{{NS}}}Code") for item in items} == {"NMVS_NC_PC_01"}


@pytest.fixture(scope="module")
def load_sims(tls_files):
    """SOAP over mutual TLS in one process; plain HTTP in another, for the attacks on the HTTP layer.

    Over TLS, a client that reconnects as soon as its huge header is cut off is mostly a flood of TLS
    handshakes (hundreds a second), which is a matter of connection-rate limits in front of a server,
    not of header limits; ``make bench`` measures it too.
    """
    with running_soap_simulator(separate_process=True, **tls_files) as soap, \
            running_simulator(separate_process=True) as plain:
        yield {"tls": soap, "plain": plain}


@pytest.mark.parametrize(("name", "transport"), [("crowded SOAP", "tls"), ("slow clients", "plain"),
                                                 ("huge header", "plain")])
def test_one_hostile_client_does_not_hold_up_another_clients_ping(load_sims, name, transport):
    """The /ping p95 of a well-behaved client beside a hostile one, against the same without it (the anchor).

    The figure to meet is 50 ms (``make bench`` prints it beside the anchor); on a loaded test machine the
    bound is widened to twice the anchor plus 50 ms, still far below the seconds the server stalled for.
    """
    sim = load_sims[transport]
    context = sim._ssl
    anchor = hostile.ping_p95_beside(None, "127.0.0.1", sim.port, context, count=150)
    beside = hostile.ping_p95_beside(hostile.HOSTILE[name], "127.0.0.1", sim.port, context, count=150)
    print(f"/ping p95 beside {name}: {beside * 1000:.1f} ms, alone {anchor * 1000:.1f} ms")
    assert beside < max(0.050, 2 * anchor + 0.050), (name, beside, anchor)
