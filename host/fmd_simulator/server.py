"""Building and running the simulator: store, engine, faults, ASGI app, uvicorn (the imperative shell).

``build_app`` assembles the pieces from plain options; ``bind`` makes the listening socket (port 0 picks a
free one, which the caller reads back before the server starts); ``make_server`` wraps uvicorn with
httptools (behind the head size cap and read timeouts of ``http_guard``) and uvloop, optional TLS and
mutual TLS (a client certificate signed by ``client_ca``).
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import uvicorn

from fmd_simulator import seeding
from fmd_simulator.engine import DEMO_CLIENTS, Client, Engine, Options, clients_from_json
from fmd_simulator.errors import ConfigurationError
from fmd_simulator.faults import Faults
from fmd_simulator.http_guard import GuardedHttpToolsProtocol
from fmd_simulator.rest import SimulatorApp
from fmd_simulator.store import Store


def load_clients(clients: Any) -> list[Client]:
    """Clients from None (the demo set), a JSON file path, or a list of dicts or ``Client`` objects."""
    if clients is None:
        return list(DEMO_CLIENTS)
    if isinstance(clients, str):
        try:
            with open(clients, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read clients file {clients!r}: {exc}") from exc
        return clients_from_json(data)
    if all(isinstance(c, Client) for c in clients):
        return list(clients)
    return clients_from_json(list(clients))


def build_app(db: str | None = None, clients: Any = None, market: str = "FR", seed_packs: int = 0, seed: int = 0,
              faults: dict[str, Any] | None = None, allow_reused_trx_ids: bool = False,
              double_scan_alert: bool = False, admin_token: str | None = None, pck19_alert: str = "always",
              lock_undo_days: float | None = None, enrol_ca: tuple[str, str] | None = None) -> SimulatorApp:
    """The ASGI application over a store (``db`` path, or None for memory), optionally seeded."""
    if market not in seeding.MARKETS:
        raise ConfigurationError(f"market {market!r} is not one of {seeding.MARKETS}")
    try:
        fault_state = Faults(faults or {})
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    store = Store(db or ":memory:")
    engine = Engine(store, load_clients(clients),
                    Options(market=market, allow_reused_trx_ids=allow_reused_trx_ids,
                            double_scan_alert=double_scan_alert, pck19_alert=pck19_alert,
                            lock_undo_days=lock_undo_days))
    if seed_packs:
        today = seeding.dt.datetime.fromtimestamp(engine.clock.now(), seeding.dt.UTC).date()
        seeding.load(store, seeding.generate(seed_packs, seed, market, today))
    app = SimulatorApp(engine, fault_state, admin_token)
    # Subscription site and enrolment (issue 14): ``enrol_ca`` = (certificate, key) files, else a new CA.
    from fmd_simulator.account import Accounts
    from fmd_simulator.enrolment import Enrolment, EnrolmentCA, stored_ca

    ca = EnrolmentCA.from_files(*enrol_ca) if enrol_ca else stored_ca(store)  # a restart keeps a stored one
    app.enrolment = Enrolment(engine, ca, seed)  # type: ignore[attr-defined]
    app.accounts = Accounts(app, app.enrolment)  # type: ignore[attr-defined]  # password, certificate, terms
    return app


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket (IPv6 when ``host`` contains a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def make_server(app: SimulatorApp, tls_cert: str | None = None, tls_key: str | None = None,
                client_ca: str | None = None, log_level: str = "warning") -> uvicorn.Server:
    if bool(tls_cert) != bool(tls_key):
        raise ConfigurationError("TLS needs both a certificate and a key")
    if client_ca and not tls_cert:
        raise ConfigurationError("mutual TLS (client CA) needs a server certificate and key")
    from fmd_simulator.account import with_accounts  # /account/*: password, certificate, terms (issue 14)
    from fmd_simulator.enrolment_web import with_enrolment  # subscription site and /enrol (issue 14)
    from fmd_simulator.soap.facade import with_soap  # the SOAP facade under /soap/ (issue 6)

    config = uvicorn.Config(
        with_enrolment(with_accounts(with_soap(app, mutual_tls=bool(client_ca)), app, app.accounts),  # type: ignore[attr-defined]
                       app.enrolment),  # type: ignore[attr-defined]
        http=GuardedHttpToolsProtocol, loop="uvloop", lifespan="on",
        log_level=log_level, access_log=False,
        server_header=False, proxy_headers=False, date_header=False, timeout_keep_alive=30,
        ssl_certfile=tls_cert, ssl_keyfile=tls_key, ssl_ca_certs=client_ca,
        ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE)
    return uvicorn.Server(config)
