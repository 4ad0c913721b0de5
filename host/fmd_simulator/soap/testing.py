"""``running_soap_simulator``: a real simulator with the SOAP facade over mutual TLS, for tests.

Usage::

    with running_soap_simulator(tls_cert=..., tls_key=..., client_ca=..., admin_client_cert=(cert, key)) as sim:
        sim.base_url                # "https://127.0.0.1:<port>"; SOAP endpoints under /soap/
        sim.set_faults({...})       # the same administration calls as ``fmd_simulator.testing``

The server runs in a thread of this process with an ephemeral loopback port; it serves the REST
facade too, sharing one engine. ``mutual_tls=False`` starts it without requiring client certificates
(the facade then refuses every SOAP call with ``NMVS_FE_PKI_05``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fmd_simulator.errors import SimulatorError
from fmd_simulator.server import bind, build_app, make_server
from fmd_simulator.soap.facade import with_soap
from fmd_simulator.testing import STARTUP_TIMEOUT, RunningSimulator


@contextmanager
def running_soap_simulator(*, tls_cert: str, tls_key: str, client_ca: str,
                           admin_client_cert: tuple[str, str], mutual_tls: bool = True,
                           **build_options: Any) -> Iterator[RunningSimulator]:
    """A simulator with REST and SOAP on one HTTPS port (see the module docstring)."""
    app = build_app(**build_options)
    server = make_server(with_soap(app, mutual_tls=mutual_tls), tls_cert=tls_cert, tls_key=tls_key,
                         client_ca=client_ca if mutual_tls else None)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="fmd-soap-sim")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SimulatorError("the SOAP simulator did not start")
        time.sleep(0.002)
    sim = RunningSimulator("127.0.0.1", sock.getsockname()[1], True,
                           admin_client_cert=admin_client_cert if mutual_tls else None)
    sim.app = app  # type: ignore[attr-defined]
    try:
        yield sim
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        app.store.close()
