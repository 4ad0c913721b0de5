"""Property tests of the SOAP facade (issue 6, point 4): whatever arrives, the answer is a SOAP message
with a return code, never a 500 and never a crash. The facade is called in-process as an ASGI app.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmd_simulator.server import build_app
from fmd_simulator.soap import messages
from fmd_simulator.soap.facade import SOAPFacade

SOAP = messages.SOAP_NS
NS = messages.NS

_app = build_app(seed_packs=20, seed=3)
_facade = SOAPFacade(_app, mutual_tls=True)


def call(body: bytes, path: str = "/soap/SinglePackServices") -> tuple[int, bytes]:
    """One request through the facade: (status, body)."""
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "scheme": "https", "query_string": b"",
             "headers": [(b"content-type", b"application/soap+xml; charset=utf-8"),
                         (b"content-length", str(len(body)).encode())]}
    asyncio.run(_facade(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def return_code(data: bytes) -> str:
    root = ET.fromstring(data)
    assert root.tag == f"{{{SOAP}}}Envelope"
    code = root.find(f".//{{{NS}}}ReturnCode/{{{NS}}}Code")
    assert code is not None and code.text
    return code.text


def valid_request(serial="SER1", batch="B1", expiry="281231", trx="t1", language="fra", code="G110",
                  product="03400930000120") -> str:
    return (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:n="{NS}"><soap:Body><n:{code}Request><n:Header><n:Auth>'
            "<n:ClientLoginId>pharmacy-demo</n:ClientLoginId><n:UserId>u</n:UserId><n:Password>demo-secret"
            "</n:Password></n:Auth><n:UserSoftware><n:Name>f</n:Name><n:Supplier>f</n:Supplier><n:Version>1"
            f"</n:Version></n:UserSoftware><n:Transaction><n:ClientTrxId>{trx}</n:ClientTrxId><n:Language>{language}"
            f'</n:Language></n:Transaction></n:Header><n:Body><n:Product><n:ProductCode scheme="GTIN">{product}'
            f"</n:ProductCode></n:Product><n:Batch><n:Id>{batch}</n:Id><n:ExpDate>{expiry}</n:ExpDate></n:Batch>"
            f"<n:Pack><n:SN>{serial}</n:SN></n:Pack></n:Body></n:{code}Request></soap:Body></soap:Envelope>")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_get_a_technical_code(data):
    status, body = call(data)
    assert status == 400
    assert return_code(body) in ("NMVS_TE_XM_01", "NMVS_TE_XM_02")


@FUZZ
@given(serial=_text, batch=_text, expiry=_text, trx=_text, language=_text, product=_text,
       code=st.sampled_from(["G110", "G120", "G121", "G130", "G182", "G999"]))
def test_any_field_values_get_an_answer_never_a_500(serial, batch, expiry, trx, language, product, code):
    escape = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    fields = {name: "".join(escape.get(c, c) for c in value) for name, value in
              dict(serial=serial, batch=batch, expiry=expiry, trx=trx, language=language, product=product).items()}
    status, body = call(valid_request(code=code, **fields).encode("utf-8", "surrogatepass"))
    assert status in (200, 400), body[:300]
    found = return_code(body)
    if status == 200:
        messages.schema().validate(ET.fromstring(body).find(f"{{{SOAP}}}Body")[0])
    else:
        assert found in ("NMVS_TE_XM_01", "NMVS_TE_XM_02")


@FUZZ
@given(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=40))
def test_cutting_a_valid_request_anywhere_is_malformed_not_an_error(cut, drop):
    data = valid_request().encode()
    cut_data = data[:cut % len(data)] + data[cut % len(data) + drop:]
    status, body = call(cut_data)
    found = return_code(body)
    assert status in (200, 400, 401), found
    if status == 401:  # a cut inside the password or login id
        assert found == "NMVS_FE_AU_01"


@FUZZ
@given(attributes=st.integers(0, 8000), depth=st.integers(0, 300), siblings=st.integers(0, 600),
       where=st.sampled_from(["ProductCode", "Body", "Envelope"]),
       path=st.sampled_from(["/soap/SinglePackServices", "/soap/MixedBulkServices", "/soap/SupportServices"]))
def test_crowded_deep_and_wide_messages_are_answered_quickly_never_a_500(attributes, depth, siblings, where, path):
    """Issue 13: attributes, nesting and element counts of any size, on every endpoint, within the body cap."""
    crowd = "".join(f' a{i}="{i}"' for i in range(attributes))
    nest = "<n:d>" * depth + "</n:d>" * depth + "<n:s/>" * siblings
    data = valid_request()
    if where == "ProductCode":
        data = data.replace('scheme="GTIN"', 'scheme="GTIN"' + crowd).replace("<n:Pack>", "<n:Pack>" + nest)
    elif where == "Body":
        data = data.replace("<n:Body>", f"<n:Body{crowd}>{nest}", 1)
    else:
        data = data.replace("<soap:Envelope", "<soap:Envelope" + crowd).replace("</soap:Body>", nest + "</soap:Body>")
    started = time.monotonic()
    status, body = call(data.encode(), path)
    assert status in (200, 400, 413), body[:300]
    if status == 400:
        assert return_code(body) in ("NMVS_TE_XM_01", "NMVS_TE_XM_02")
    assert time.monotonic() - started < 10  # 7 s and more for 6,500 attributes before the caps
