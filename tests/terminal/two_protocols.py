"""One scenario suite, two protocols (issue 6, item 3): what the terminal's tests share to run over both.

``mtls_simulator`` starts one simulator serving the REST facade and the SOAP facade (``/soap``) on one
HTTPS port that requires client certificates (trustme); ``service_url(sim, protocol)`` is the URL a
pharmacy would configure for ``"rest"`` (``https://...``) or ``"soap"`` (``nmvs-soap+https://...``,
VERIFICATION-SERVICE.md section 2), and ``open_client`` opens the terminal's real client for it through
``fmd_terminal.verification.factory.open_service``, as the terminal does. The fixtures live in
``tests/terminal/conftest.py``.
"""

from __future__ import annotations

import datetime
import gc
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trustme

from fmd_core.service import PackRef
from fmd_terminal.verification.factory import open_service

PROTOCOLS = ("rest", "soap")
FAST = {"connect": 2.0, "read": 3.0, "total": 5.0}


class PKI:
    """trustme certificates: a trusted CA, an unknown CA, and files for the server's and the client's side."""

    def __init__(self, tmp_path):
        self.ca = trustme.CA()
        self.other_ca = trustme.CA()
        self.tmp_path = tmp_path
        self.ca_bundle = self.write("ca.pem", self.ca.cert_pem.bytes())

    def write(self, name, data):
        path = self.tmp_path / name
        path.write_bytes(data)
        return str(path)

    def _leaf(self, ca, name, days):
        now = datetime.datetime.now(datetime.UTC)
        return (ca or self.ca).issue_cert(name, not_before=now + datetime.timedelta(days=days[0]),
                                          not_after=now + datetime.timedelta(days=days[1]))

    def server_context(self, *, ca=None, days=(-1, 30), client_ca=None) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._leaf(ca, "127.0.0.1", days).configure_cert(ctx)
        if client_ca is not None:
            ctx.verify_mode = ssl.CERT_REQUIRED
            client_ca.configure_trust(ctx)
        return ctx

    def server_files(self, *, days=(-1, 30), name="server"):
        leaf = self._leaf(None, "127.0.0.1", days)
        return (self.write(name + "-cert.pem", leaf.cert_chain_pems[0].bytes()),
                self.write(name + "-key.pem", leaf.private_key_pem.bytes()))

    def client_files(self, *, ca=None, days=(-1, 365), name="client"):  # a year: doctor warns at 30 days
        leaf = self._leaf(ca, "pharmacy.example", days)
        cert = self.write(name + "-cert.pem", b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        key = self.write(name + "-key.pem", leaf.private_key_pem.bytes())
        return cert, key


@contextmanager
def mtls_simulator(directory, server_days=(-1, 30), **options: Any) -> Iterator[Any]:
    """A simulator serving REST and SOAP over mutual TLS; ``sim.pki`` holds the certificates and
    ``sim.client_files`` the terminal's (certificate, key); the clients ``open_client`` opened on it are
    closed before it stops. ``options`` go to ``running_simulator``."""
    from fmd_simulator.soap.testing import running_soap_simulator

    pki = PKI(directory)
    cert, key = pki.server_files(days=server_days)
    client = pki.client_files()
    out_of_date = not server_days[0] <= 0 <= server_days[1]  # served so on purpose (pause_clock tests)
    with running_soap_simulator(tls_cert=cert, tls_key=key, client_ca=pki.ca_bundle, admin_client_cert=client,
                                server_cert_dates_unchecked=out_of_date, **options) as sim:
        sim.pki = pki
        sim.client_files = client
        sim.clients = []
        try:
            yield sim
        finally:  # an idle keep-alive connection holds the server's shutdown for its 30 s keep-alive timeout
            for opened in sim.clients:
                opened.close()
            gc.collect()  # and so do the clients of in-process commands still held in reference cycles


def service_url(sim, protocol: str) -> str:
    """The URL a pharmacy configures for this simulator and protocol."""
    return f"nmvs-soap+https://127.0.0.1:{sim.port}/soap" if protocol == "soap" else sim.base_url


def service_config(sim, protocol: str, cert=None) -> str:
    """The ``[service]`` section of a terminal's TOML configuration for this simulator and protocol;
    ``cert=(None, None)`` configures no client certificate."""
    cert = cert or sim.client_files
    lines = [f"url = {json.dumps(service_url(sim, protocol))}", f"ca_bundle = {json.dumps(sim.pki.ca_bundle)}"]
    lines += [f"{key} = {json.dumps(path)}" for key, path in zip(("client_cert", "client_key"), cert, strict=True) if path]
    return "[service]\n" + "\n".join(lines) + "\n"


def open_client(sim, protocol: str, *, cert=None, secret="demo-secret", timeouts=FAST, ca_bundle=None):
    """The terminal's real client for ``protocol``; ``cert=False`` configures no client certificate."""
    cert = (None, None) if cert is False else cert or sim.client_files
    client = open_service(service_url(sim, protocol), client_id="pharmacy-demo", client_secret=secret,
                          client_cert=cert[0], client_key=cert[1], ca_bundle=ca_bundle or sim.pki.ca_bundle,
                          timeouts=timeouts)
    sim.clients.append(client)  # closed with the simulator, should the test not get there
    return client


def seed(sim, n: int, seed_number: int, market: str = "FR") -> list[dict[str, Any]]:
    """``n`` fresh packs on the shared simulator, as the seed JSON lines (with ``raw``)."""
    return sim.admin("POST", "/admin/seed", {"packs": n, "seed": seed_number, "market": market})["packs"]


def pack_ref(p: dict[str, Any]) -> PackRef:
    return PackRef(p["scheme"], p["productCode"], p["serial"], p["batch"], p["expiry"])
