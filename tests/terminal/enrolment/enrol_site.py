"""The subscription site of the tests: the mutual-TLS simulator's enrolment served on a second HTTPS port.

A terminal that enrols has no client certificate yet, so enrolment cannot sit behind the service's
mutual TLS: as for a real system, the subscription site is a server of its own (here in the same
process, sharing the simulator's accounts), certified by the same test CA, which also signs the
terminals' certificates. ``subscribe`` fills in the page's form as a pharmacist would and returns the
page; ``code_of`` reads the enrolment code back from the page's Data Matrix image (zxing-cpp)."""

from __future__ import annotations

import io
import re
import threading
import time
from contextlib import contextmanager

import requests
import uvicorn

from fmd_simulator.enrolment import EnrolmentCA, letters
from fmd_simulator.enrolment_web import with_enrolment
from fmd_simulator.server import bind

LETTERS = letters(0, 8)  # the simulator's seed is 0: the letters `fmd-simulator seed --letters 8` prints


async def _nothing_else(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Site:
    def __init__(self, url, ca_bundle, enrolment):
        self.url = url
        self.ca_bundle = ca_bundle
        self.enrolment = enrolment

    def subscribe(self, letter, route="direct", lang=None):
        form = {"identifier": letter.identifier, "finess": letter.finess, "route": route}
        if lang:
            form["lang"] = lang
        return requests.post(self.url + "/subscribe", data=form, verify=self.ca_bundle, timeout=30)

    def code_of(self, page: str) -> str:
        """The text of the page's Data Matrix, decoded from its PNG as a scanner would read it."""
        import zxingcpp
        from PIL import Image

        src = re.search(r'<img id="enrolment-code"[^>]* src="([^"]+)"', page).group(1)
        png = requests.get(self.url + src, verify=self.ca_bundle, timeout=30)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
        assert found.format == zxingcpp.BarcodeFormat.DataMatrix
        return found.text


@contextmanager
def subscription_site(sim):
    pki = sim.pki
    enrolment = sim.app.enrolment
    enrolment.ca = EnrolmentCA(pki.ca.cert_pem.bytes(), pki.ca.private_key_pem.bytes())
    enrolment.service_url = sim.base_url
    cert, key = pki.server_files(name="site")
    config = uvicorn.Config(with_enrolment(_nothing_else, enrolment), lifespan="off", log_level="warning",
                            ssl_certfile=cert, ssl_keyfile=key, http="h11")
    server = uvicorn.Server(config)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the subscription site did not start"
        time.sleep(0.01)
    try:
        yield Site(f"https://127.0.0.1:{sock.getsockname()[1]}", pki.ca_bundle, enrolment)
    finally:
        server.should_exit = True
        server.force_exit = True  # idle keep-alive connections would hold the shutdown
        thread.join(30)
        sock.close()
