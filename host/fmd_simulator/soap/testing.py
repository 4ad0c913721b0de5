"""``running_soap_simulator``: a real simulator whose SOAP facade is usable, i.e. over mutual TLS.

Usage::

    with running_soap_simulator(tls_cert=..., tls_key=..., client_ca=..., admin_client_cert=(cert, key)) as sim:
        sim.base_url                # "https://127.0.0.1:<port>"; SOAP endpoints under /soap/
        sim.set_faults({...})       # the same administration calls as ``fmd_simulator.testing``

A thin layer over ``fmd_simulator.testing.running_simulator`` (which takes the other options, e.g.
``seed_packs`` or ``separate_process``): ``server.make_server`` mounts the SOAP facade under
``/soap/`` beside the REST facade, sharing one engine. ``mutual_tls=False`` starts the server without
requiring client certificates; the facade then refuses every SOAP call with ``NMVS_FE_PKI_05``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fmd_simulator.testing import RunningSimulator, running_simulator


@contextmanager
def running_soap_simulator(*, tls_cert: str, tls_key: str, client_ca: str,
                           admin_client_cert: tuple[str, str], mutual_tls: bool = True,
                           **options: Any) -> Iterator[RunningSimulator]:
    """A simulator with REST and SOAP on one HTTPS port (see the module docstring)."""
    options.setdefault("tls_ca", client_ca)  # the tests' one CA issues the server's and the clients' certificates
    with running_simulator(tls_cert=tls_cert, tls_key=tls_key, client_ca=client_ca if mutual_tls else None,
                           admin_client_cert=admin_client_cert if mutual_tls else None, **options) as sim:
        yield sim
