"""The simulator's SOAP facade on the wire (issue 6, points 1 and 4).

Raw SOAP 1.2 messages over mutual TLS: operations through the engine, the login header, the language
of descriptions, the published WSDL/XSD, and XML attacks (billion laughs, external entities, invalid
XML, schema violations, oversized bodies) answered with the spec's technical codes, never a 500.
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET

import pytest
import xmlschema.extras.wsdl

from fmd_simulator.soap import messages
from fmd_simulator.soap.facade import OPERATIONS
from fmd_simulator.soap.testing import running_soap_simulator

SOAP = messages.SOAP_NS
NS = messages.NS


def header(login="pharmacy-demo", password="demo-secret", language="fra", trx=None, user="counter-1"):
    return (f"<n:Header><n:Auth><n:ClientLoginId>{login}</n:ClientLoginId><n:UserId>{user}</n:UserId>"
            f"<n:Password>{password}</n:Password></n:Auth><n:UserSoftware><n:Name>test</n:Name>"
            f"<n:Supplier>tests</n:Supplier><n:Version>1</n:Version></n:UserSoftware><n:Transaction>"
            f"<n:ClientTrxId>{trx or uuid.uuid4().hex}</n:ClientTrxId><n:Language>{language}</n:Language>"
            "</n:Transaction></n:Header>")


def pack_body(pack, ref=None, serial=None):
    ref_xml = f"<n:RefClientTrxId>{ref}</n:RefClientTrxId>" if ref else ""
    return (f'<n:Body><n:Product><n:ProductCode scheme="{pack["scheme"]}">{pack["productCode"]}</n:ProductCode>'
            f'</n:Product><n:Batch><n:Id>{pack["batch"]}</n:Id><n:ExpDate>{pack["expiry"]}</n:ExpDate></n:Batch>'
            f'<n:Pack><n:SN>{serial or pack["serial"]}</n:SN></n:Pack>{ref_xml}</n:Body>')


def envelope(inner, prolog=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<soap:Envelope xmlns:soap="{SOAP}" xmlns:n="{NS}">'
            f"<soap:Body>{inner}</soap:Body></soap:Envelope>").encode()


def request(operation, pack, **options):
    ref = options.pop("ref", None)
    serial = options.pop("serial", None)
    return envelope(f"<n:{operation}Request>{header(**options)}{pack_body(pack, ref, serial)}</n:{operation}Request>")


def post(sim, data, service="SinglePackServices", content_type="application/soap+xml; charset=utf-8"):
    status, headers, body = sim.request("POST", f"/soap/{service}", body=data, headers={"Content-Type": content_type})
    assert isinstance(body, bytes), f"HTTP {status}: not XML: {body!r}"
    return status, headers, ET.fromstring(body)


def payload(root):
    assert root.tag == f"{{{SOAP}}}Envelope"
    return root.find(f"{{{SOAP}}}Body")[0]


def fault_code(root):
    fault = payload(root)
    assert fault.tag == f"{{{SOAP}}}Fault"
    detail = fault.find(f"{{{SOAP}}}Detail/{{{NS}}}FaultDetail")
    messages.schema().validate(detail)  # the Fault detail follows the published XSD
    return detail.findtext(f"{{{NS}}}ReturnCode/{{{NS}}}Code")


def code_of(element):
    return element.findtext(f"{{{NS}}}Body/{{{NS}}}ReturnCode/{{{NS}}}Code")


@pytest.fixture
def pack(sim):
    return sim.admin("POST", "/admin/seed", {"packs": 1, "seed": uuid.uuid4().int % 10**6})["packs"][0]


def test_verify_answers_a_valid_response(sim, pack):
    status, headers, root = post(sim, request("G110", pack))
    response = payload(root)
    assert status == 200 and headers["content-type"].startswith("application/soap+xml")
    messages.schema().validate(response)
    assert response.tag == f"{{{NS}}}G110Response"
    assert code_of(response) == "NMVS_SUCCESS"
    assert response.findtext(f"{{{NS}}}Body/{{{NS}}}Pack/{{{NS}}}State") == "ACTIVE"
    assert response.findtext(f"{{{NS}}}Body/{{{NS}}}ReturnCode/{{{NS}}}Description") == "Traitement effectué."
    assert len(response.findtext(f"{{{NS}}}Header/{{{NS}}}Transaction/{{{NS}}}NMVSTrxId")) == 32


def test_dispense_then_an_undo_of_another_type_alerts(sim, pack):
    dispense = uuid.uuid4().hex
    status, _, root = post(sim, request("G120", pack, trx=dispense))
    response = payload(root)
    messages.schema().validate(response)
    assert (status, code_of(response)) == (200, "NMVS_SUCCESS")
    assert response.findtext(f"{{{NS}}}Header/{{{NS}}}Transaction/{{{NS}}}ClientTrxId") == dispense
    assert [r.text for r in response.iter(f"{{{NS}}}Reason")] == ["SUPPLIED"]
    # G131 (undo destroy) of a supplied pack: the undo type differs (section 5, step 8)
    status, _, root = post(sim, request("G131", pack, ref=dispense))
    response = payload(root)
    messages.schema().validate(response)
    assert (status, code_of(response)) == (200, "NMVS_NC_PCK_06")
    assert response.findtext(f"{{{NS}}}Body/{{{NS}}}Alert/{{{NS}}}AlertCode") == "A24"


@pytest.mark.parametrize(("language", "text"), [("eng", "Processed."), ("deu", "Verarbeitet.")])
def test_descriptions_follow_the_request_language(sim, pack, language, text):
    _, _, root = post(sim, request("G110", pack, language=language))
    assert payload(root).findtext(f"{{{NS}}}Body/{{{NS}}}ReturnCode/{{{NS}}}Description") == text


def test_wrong_password_is_a_login_fault(sim, pack):
    status, _, root = post(sim, request("G110", pack, password="wrong", language="eng"))
    assert (status, fault_code(root)) == (401, "NMVS_FE_AU_01")
    assert payload(root).findtext(f"{{{SOAP}}}Reason/{{{SOAP}}}Text").startswith("Wrong credentials.")


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
                  + "]>")


@pytest.mark.parametrize(("name", "data", "status", "code"), [
    ("billion laughs", envelope("<n:PingRequest>&lol9;</n:PingRequest>", BILLION_LAUGHS), 400, "NMVS_TE_XM_01"),
    ("external entity", envelope("<n:PingRequest>&xxe;</n:PingRequest>",
                                 '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'), 400, "NMVS_TE_XM_01"),
    ("external DTD", envelope("<n:PingRequest/>", '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">'),
     400, "NMVS_TE_XM_01"),
    ("not well-formed", b"<soap:Envelope><unclosed>", 400, "NMVS_TE_XM_01"),
    ("not XML at all", b"\x00\xff\xfe garbage", 400, "NMVS_TE_XM_01"),
    ("SOAP 1.1 envelope", b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
     400, "NMVS_TE_XM_01"),
    ("deep nesting", envelope("<n:PingRequest>" + "<a>" * 5000 + "</a>" * 5000 + "</n:PingRequest>"),
     400, "NMVS_TE_XM_01"),
    ("unknown operation", envelope(f"<n:G999Request>{header()}</n:G999Request>"), 400, "NMVS_TE_XM_02"),
    ("missing password", envelope("<n:PingRequest>" + header().replace("<n:Password>demo-secret</n:Password>", "")
                                  + "</n:PingRequest>"), 400, "NMVS_TE_XM_02"),
    ("bad language", envelope(f"<n:PingRequest>{header(language='fr')}</n:PingRequest>"), 400, "NMVS_TE_XM_02"),
    ("trx id too long", envelope(f"<n:PingRequest>{header(trx='x' * 33)}</n:PingRequest>"), 400, "NMVS_TE_XM_02"),
    ("oversized body", envelope("<n:PingRequest>" + " " * 70000 + "</n:PingRequest>"), 413, "NMVS_TE_XM_01"),
])
def test_hostile_or_invalid_xml_gets_a_technical_code(sim, name, data, status, code):
    started = time.monotonic()
    got_status, _, root = post(sim, data, "SupportServices")
    assert (got_status, fault_code(root)) == (status, code), name
    assert time.monotonic() - started < 5, "no expansion, no hang"
    assert b"root:" not in ET.tostring(root)


def test_a_serial_longer_than_the_schema_allows(sim, pack):
    status, _, root = post(sim, request("G110", pack, serial="S" * 21))
    assert (status, fault_code(root)) == (400, "NMVS_TE_XM_02")


def test_a_serial_outside_gs1_set_82_is_refused_by_the_engine(sim, pack):
    status, _, root = post(sim, request("G110", pack, serial="bad serial"))
    response = payload(root)
    assert (status, code_of(response)) == (200, "NMVS_TE_XM_02")


def test_content_type_endpoint_and_path_are_checked(sim, pack):
    status, _, root = post(sim, request("G110", pack), content_type="text/xml")
    assert (status, fault_code(root)) == (415, "NMVS_TE_XM_01")
    status, _, root = post(sim, request("G110", pack), service="SupportServices")
    assert (status, fault_code(root)) == (400, "NMVS_TE_XM_02")
    status, _, root = post(sim, request("G110", pack), service="NoSuchServices")
    assert (status, fault_code(root)) == (404, "NMVS_TE_XM_01")


def test_outage_fault_carries_retry_after(sim):
    sim.set_faults({"outage": True, "retryAfterSeconds": 42})
    try:
        status, headers, root = post(sim, envelope(f"<n:PingRequest>{header()}</n:PingRequest>"), "SupportServices")
    finally:
        sim.set_faults({})
    assert (status, fault_code(root), headers["retry-after"]) == (503, "NMVS_ERROR", "42")
    assert payload(root).findtext(f"{{{SOAP}}}Detail/{{{NS}}}FaultDetail/{{{NS}}}RetryAfterSeconds") == "42"


def test_the_wsdl_and_xsd_are_published_and_agree_with_the_facade(sim):
    for name, path in (("nmvs-blueprint.wsdl", messages.WSDL_PATH), ("nmvs-blueprint.xsd", messages.XSD_PATH)):
        status, _, body = sim.request("GET", f"/soap/{name}")
        with open(path, "rb") as f:
            assert (status, body) == (200, f.read())
    wsdl = xmlschema.extras.wsdl.Wsdl11Document(messages.WSDL_PATH)
    operations = {op.local_name for port_type in wsdl.port_types.values() for op in port_type.operations.values()}
    assert operations == set(OPERATIONS) | {"G195", "G196", "Ping", "G445"}


def g445(body, **options):
    return envelope(f"<n:G445Request>{header(**options)}{body}</n:G445Request>")


def test_the_password_change_g445_is_validated_against_the_published_xsd(sim):
    """G445 (issue 14) follows the published contract: a valid request has a valid answer (here a refused,
    too short password: nothing changes); a request the XSD refuses is NMVS_TE_XM_02, before any login."""
    status, _, root = post(sim, g445("<n:Body><n:NewPassword>short</n:NewPassword></n:Body>"),
                           service="AccountServices")
    reply = payload(root)
    messages.schema().validate(reply)
    assert (status, reply.tag, code_of(reply)) == (200, f"{{{NS}}}G445Response", "NMVS_FE_AU_12")
    for body in ("", "<n:Body><n:NewPassword>a-long-enough-password</n:NewPassword><n:Extra>x</n:Extra></n:Body>",
                 f"<n:Body><n:NewPassword>{'p' * 101}</n:NewPassword></n:Body>", "<n:Body/>"):
        status, _, root = post(sim, g445(body, password="wrong"), service="AccountServices")
        assert (status, fault_code(root)) == (400, "NMVS_TE_XM_02"), body
    status, _, root = post(sim, envelope("<n:PingRequest>" + header() + "</n:PingRequest>"), service="AccountServices")
    assert (status, fault_code(root)) == (400, "NMVS_TE_XM_02")  # only a G445Request here


def test_mutual_tls_is_required(tls_files):
    options = dict(tls_files)
    with running_soap_simulator(mutual_tls=False, **options) as plain:
        status, _, root = post(plain, envelope(f"<n:PingRequest>{header()}</n:PingRequest>"), "SupportServices")
    assert (status, fault_code(root)) == (401, "NMVS_FE_PKI_05")


def test_fmd_simulator_serve_exposes_the_soap_facade(tls_files):
    with running_soap_simulator(separate_process=True, **tls_files) as served:
        status, _, root = post(served, envelope(f"<n:PingRequest>{header()}</n:PingRequest>"), "SupportServices")
        response = payload(root)
        assert (status, response.tag, code_of(response)) == (200, f"{{{NS}}}PingResponse", "NMVS_SUCCESS")
        status, _, body = served.request("GET", "/ping")
        assert (status, body) == (200, {"status": "ok"})  # REST beside SOAP on the same port
