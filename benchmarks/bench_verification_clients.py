"""Per-request overhead of the terminal's verification clients (REST and SOAP), over mutual TLS.

Ours: ``HTTPVerificationClient.verify`` and ``SOAPVerificationClient.verify`` (request building,
requests session, deadline-bounded body read, JSON or hardened XML parsing, mapping to a
``ServiceAnswer``). Anchor, measured in the same run and interleaved request by request: the same
verify sent with the standard library's ``http.client`` over one kept-alive mutual-TLS connection,
with a prepared request and no parsing beyond reading the body. Both talk to one simulator
(REST and SOAP facades on one HTTPS port, trustme certificates) running in a thread of this process.

The terminal's latency target is 20 ms p95 of overhead over the service's own time
(bench_terminal_latency.py); this isolates the clients' share of it.

Usage: ``python benchmarks/bench_verification_clients.py [--requests 300]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from urllib.parse import quote, urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device"), os.path.join(ROOT, "host")]

import trustme  # noqa: E402

from fmd_core.service import PackRef  # noqa: E402
from fmd_simulator.soap.testing import running_soap_simulator  # noqa: E402
from fmd_terminal.verification.factory import open_service  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def write(directory: str, name: str, blob) -> str:
    path = os.path.join(directory, name)
    blob.write_to_path(path)
    return path


def soap_envelope(pack: PackRef) -> bytes:
    ns = "urn:fmd-terminal:nmvs:soap:v1"
    return (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"'
            f' xmlns:n="{ns}"><soap:Body><n:G110Request><n:Header><n:Auth><n:ClientLoginId>pharmacy-demo'
            "</n:ClientLoginId><n:UserId>bench</n:UserId><n:Password>demo-secret</n:Password></n:Auth>"
            "<n:UserSoftware><n:Name>bench</n:Name><n:Supplier>bench</n:Supplier><n:Version>1</n:Version>"
            "</n:UserSoftware><n:Transaction><n:ClientTrxId>bench1</n:ClientTrxId><n:Language>fra</n:Language>"
            f'</n:Transaction></n:Header><n:Body><n:Product><n:ProductCode scheme="{pack.scheme}">{pack.product_code}'
            f"</n:ProductCode></n:Product><n:Batch><n:Id>{pack.batch}</n:Id><n:ExpDate>{pack.expiry}</n:ExpDate>"
            f"</n:Batch><n:Pack><n:SN>{pack.serial}</n:SN></n:Pack></n:Body></n:G110Request></soap:Body>"
            "</soap:Envelope>").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ca = trustme.CA()
        server, client = ca.issue_cert("127.0.0.1"), ca.issue_cert("pharmacy.example")
        files = {"tls_cert": write(tmp, "s.pem", server.cert_chain_pems[0]),
                 "tls_key": write(tmp, "s-key.pem", server.private_key_pem),
                 "client_ca": write(tmp, "ca.pem", ca.cert_pem)}
        cert = (write(tmp, "c.pem", client.cert_chain_pems[0]), write(tmp, "c-key.pem", client.private_key_pem))
        with running_soap_simulator(seed_packs=20, admin_client_cert=cert, **files) as sim:
            seeded = sim.seeded_packs()[0]
            pack = PackRef(seeded["scheme"], seeded["productCode"], seeded["serial"], seeded["batch"], seeded["expiry"])
            options = dict(client_id="pharmacy-demo", client_secret="demo-secret", client_cert=cert[0],
                           client_key=cert[1], ca_bundle=files["client_ca"])
            ours = {"REST": open_service(sim.base_url, **options),
                    "SOAP": open_service(f"nmvs-soap+https://127.0.0.1:{sim.port}/soap", **options)}
            context = ssl.create_default_context(cafile=files["client_ca"])
            context.load_cert_chain(*cert)
            raw = http.client.HTTPSConnection("127.0.0.1", sim.port, context=context, timeout=30)
            token = sim.token()
            rest_path = (f"/product/{pack.scheme}/{pack.product_code}/pack/{quote(pack.serial, safe='')}?"
                         + urlencode({"batch": pack.batch, "expiry": pack.expiry}))
            rest_headers = {"Authorization": "Bearer " + token, "emvs-data-entry-mode": "non-manual"}
            soap_body = soap_envelope(pack)
            soap_headers = {"Content-Type": "application/soap+xml; charset=utf-8"}

            def anchor(protocol: str) -> None:
                if protocol == "REST":
                    raw.request("GET", rest_path, headers=rest_headers)
                else:
                    raw.request("POST", "/soap/SinglePackServices", body=soap_body, headers=soap_headers)
                response = raw.getresponse()
                body = response.read()
                if response.status != 200:
                    raise SystemExit(f"anchor {protocol}: HTTP {response.status}: {body[:200]!r}")

            times: dict[str, list[float]] = {k: [] for k in ("REST", "SOAP", "REST anchor", "SOAP anchor")}
            for protocol in ("REST", "SOAP"):  # warm up: connections, token, XSD
                anchor(protocol)
                ours[protocol].verify(pack)
            for _ in range(args.requests):
                for protocol in ("REST", "SOAP"):
                    start = time.perf_counter()
                    anchor(protocol)
                    times[f"{protocol} anchor"].append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    answer = ours[protocol].verify(pack)
                    times[protocol].append((time.perf_counter() - start) * 1000)
                    if answer.operation_code != "NMVS_SUCCESS":
                        raise SystemExit(f"{protocol}: unexpected answer {answer!r}")
            raw.close()
            for client_ in ours.values():
                client_.close()
    print(f"verification clients, {args.requests} verifies each, mutual TLS on loopback (ms)")
    print(f"{'':12} {'p50':>7} {'p95':>7} {'anchor p50':>11} {'anchor p95':>11} {'ratio p95':>10} "
          f"{'overhead p95':>13}")
    report = {}
    for protocol in ("REST", "SOAP"):
        ours_t, anchor_t = times[protocol], times[f"{protocol} anchor"]
        p95, a95 = percentile(ours_t, 95), percentile(anchor_t, 95)
        report[protocol] = {"p50": statistics.median(ours_t), "p95": p95, "anchor_p50": statistics.median(anchor_t),
                            "anchor_p95": a95, "ratio_p95": p95 / a95, "overhead_p95": p95 - a95}
        r = report[protocol]
        print(f"{protocol:12} {r['p50']:7.2f} {r['p95']:7.2f} {r['anchor_p50']:11.2f} {a95:11.2f} "
              f"{r['ratio_p95']:10.2f} {r['overhead_p95']:13.2f}")
    print(json.dumps({"bench": "verification_clients", **report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
