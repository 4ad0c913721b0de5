"""Start a real simulator for tests, benchmarks and demos: ``running_simulator(**options)``.

Usage::

    from fmd_simulator.testing import running_simulator

    with running_simulator(seed_packs=20) as sim:
        pack = sim.seeded_packs()[0]          # dict, as a line of ``fmd-simulator seed``
        sim.base_url                          # "http://127.0.0.1:<ephemeral port>"
        ...                                   # talk to it over HTTP like the terminal does
        sim.advance_days(10)                  # move the simulator clock (10-day undo rule, expiry)
        sim.set_faults({"outage": True})      # as PUT /admin/faults (section 8 of VERIFICATION-SERVICE.md)
        sim.alerts()                          # the alert log, list of dicts
        sim.history("GTIN", pack["productCode"], pack["serial"])   # state, reasons and full history

Options (all keyword):

- ``db``: SQLite file path, or None (default) for an in-memory database.
- ``seed_packs`` (default 0), ``seed`` (default 0): packs seeded at start-up for the home ``market``.
- ``market``: the home market, ``"FR"`` (default) or ``"DE"``. Packs seeded for another market (``sim.admin
  ("POST", "/admin/seed", {"packs": 5, "market": "DE"})``) are reachable only by single-pack intermarket calls.
- ``clients``: None for the demo clients (``pharmacy-demo``/``demo-secret``, ``pharmacy-other``/
  ``other-secret``, ``hospital-demo``/``hospital-secret``, ``wholesaler-demo``/``wholesaler-secret``), a JSON
  file path, or a list of ``{"client_id", "secret", "location_id", "role", "permissions"?}``.
- ``tls_cert``, ``tls_key`` (PEM paths): serve HTTPS; ``client_ca``: require client certificates (mutual TLS).
  The helpers then talk HTTPS, presenting ``admin_client_cert=(cert, key)`` if given, and always verify the
  server (certificate chain and host name) against ``tls_ca``, the CA that issued ``tls_cert`` (default:
  ``client_ca``). Only a test that serves an out-of-date certificate on purpose passes
  ``server_cert_dates_unchecked=True``: the chain and the host name are still verified, the dates are not.
- ``faults``: initial fault settings (dict as ``PUT /admin/faults``).
- ``allow_reused_trx_ids``: TEST ONLY, execute requests whose ``X-Client-Trx-Id`` was used before, so the
  terminal's tests can prove they do not rely on the server refusing duplicates.
- ``double_scan_alert``: ``NMVS_NC_PCK_23`` raises an A7 alert; ``pck19_alert``: ``"always"`` (default),
  ``"intermarket"`` or ``"never"``; ``lock_undo_days``: undo window of a lock (default: no limit).
- ``separate_process``: run ``fmd-simulator serve`` as a child process (default: a thread of this process).
  Needed by crash tests that kill the terminal while the simulator keeps running; ``sim.process`` is the
  ``subprocess.Popen`` then (``sim.restart()`` stops and starts it again on the same port and database).

The yielded ``RunningSimulator`` has ``base_url``, ``port``, ``request(method, path, json=None, headers=None,
body=None) -> (status, headers, body)`` (any call; body parsed from JSON when possible), ``admin(method, path,
json=None)`` (an administration call; returns the JSON body, raises ``SimulatorError`` on a status >= 400),
``token(client_id="pharmacy-demo", secret="demo-secret")``, ``seeded_packs()``, ``alerts()``, ``history(scheme,
product_code, serial)``, ``set_faults(dict)``, ``faults()``, ``advance_days(n)`` and ``set_clock(**fields)``.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

from fmd_simulator.errors import SimulatorError

STARTUP_TIMEOUT = 30.0
X509_V_FLAG_NO_CHECK_TIME = 0x200000  # OpenSSL >= 1.1.0: skip only the validity dates of the chain


class RunningSimulator:
    """Handle on a started simulator (see the module docstring)."""

    def __init__(self, host: str, port: int, tls: bool, admin_client_cert: tuple[str, str] | None = None,
                 admin_token: str | None = None, tls_ca: str | None = None,
                 server_cert_dates_unchecked: bool = False) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.base_url = f"{'https' if tls else 'http'}://{host}:{port}"
        self.admin_token = admin_token
        self.process: subprocess.Popen[str] | None = None
        self._ssl: ssl.SSLContext | None = None
        if tls:
            if not tls_ca:
                raise ValueError("running_simulator with tls_cert needs tls_ca (or client_ca): the CA that issued "
                                 "the server certificate, so the helpers can verify the server")
            self._ssl = ssl.create_default_context(cafile=tls_ca)  # chain and host name verified
            if server_cert_dates_unchecked:
                self._ssl.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
            if admin_client_cert:
                self._ssl.load_cert_chain(*admin_client_cert)
        self._restart: Any = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._ssl is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=60, context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        """One HTTP request on a fresh connection; the body is decoded from JSON when it is JSON."""
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            status, response_headers = response.status, {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()
        try:
            return status, response_headers, json.loads(data)
        except ValueError:
            return status, response_headers, data

    def admin(self, method: str, path: str, json: Any = None) -> Any:  # noqa: A002 - the brief's name
        headers = {"X-Admin-Token": self.admin_token} if self.admin_token else {}
        status, _, body = self.request(method, path, json, headers)
        if status >= 400:
            raise SimulatorError(f"{method} {path} answered {status}: {body!r}")
        return body

    def token(self, client_id: str = "pharmacy-demo", secret: str = "demo-secret") -> str:
        form = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        status, _, body = self.request("POST", "/identity/connect/token", body=form.encode(),
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise SimulatorError(f"token for {client_id!r} answered {status}: {body!r}")
        return body["access_token"]

    def seeded_packs(self) -> list[dict[str, Any]]:
        """Every pack the simulator holds, home market first, as the seed JSON lines (with ``raw``)."""
        return self.admin("GET", "/admin/packs")["packs"]

    def alerts(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/admin/alerts")["alerts"]

    def history(self, scheme: str, product_code: str, serial: str) -> dict[str, Any]:
        return self.admin("GET", f"/admin/packs/{quote(scheme)}/{quote(product_code)}/{quote(serial, safe='')}")

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        return self.admin("PUT", "/admin/faults", faults)

    def faults(self) -> dict[str, Any]:
        return self.admin("GET", "/admin/faults")

    def advance_days(self, days: float) -> dict[str, Any]:
        return self.admin("POST", "/admin/clock", {"advanceDays": days})

    def set_clock(self, **fields: Any) -> dict[str, Any]:
        """``now`` (ISO-8601), ``advanceDays``, ``frozen`` (bool), as ``POST /admin/clock``."""
        return self.admin("POST", "/admin/clock", fields)

    def restart(self) -> None:
        """Stop and start the server again on the same port and database (durability tests)."""
        self._restart()


def _wait_thread_started(server: Any, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SimulatorError("the simulator did not start")
        time.sleep(0.002)


@contextmanager
def _in_thread(options: dict[str, Any], sim_args: dict[str, Any]) -> Iterator[RunningSimulator]:
    from fmd_simulator.server import bind, build_app, make_server

    tls = {k: options.pop(k) for k in ("tls_cert", "tls_key", "client_ca")}
    state: dict[str, Any] = {}

    def start(port: int) -> int:
        app = build_app(**options)
        server = make_server(app, **tls)
        sock = bind("127.0.0.1", port)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                                  name="fmd-simulator")
        thread.start()
        _wait_thread_started(server, thread)
        state.update(server=server, thread=thread, sock=sock, app=app)
        return sock.getsockname()[1]

    def stop() -> None:
        state["server"].should_exit = True
        state["thread"].join(30)
        state["sock"].close()
        state["app"].store.close()

    port = start(0)
    sim = RunningSimulator("127.0.0.1", port, bool(tls["tls_cert"]), **sim_args)
    sim.app = state["app"]  # type: ignore[attr-defined]

    def restart() -> None:
        stop()
        start(port)
        sim.app = state["app"]  # type: ignore[attr-defined]

    sim._restart = restart
    try:
        yield sim
    finally:
        stop()


def _serve_command(options: dict[str, Any], port: int, clients_file: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "fmd_simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--seed-packs", str(options["seed_packs"]), "--seed", str(options["seed"]), "--market", options["market"]]
    for flag, key in (("--db", "db"), ("--tls-cert", "tls_cert"), ("--tls-key", "tls_key"),
                      ("--client-ca", "client_ca"), ("--admin-token", "admin_token")):
        if options.get(key):
            cmd += [flag, str(options[key])]
    if clients_file:
        cmd += ["--clients", clients_file]
    if options.get("faults"):
        cmd += ["--faults", json.dumps(options["faults"])]
    if options.get("allow_reused_trx_ids"):
        cmd.append("--allow-reused-trx-ids")
    if options.get("double_scan_alert"):
        cmd.append("--double-scan-alert")
    cmd += ["--pck19-alert", options["pck19_alert"]]
    if options.get("lock_undo_days") is not None:
        cmd += ["--lock-undo-days", str(options["lock_undo_days"])]
    return cmd


def _start_process(cmd: list[str]) -> tuple[subprocess.Popen[str], str, int]:
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(STARTUP_TIMEOUT)
    if not line or not line[0].startswith("listening on "):
        process.kill()
        _, err = process.communicate(timeout=10)
        raise SimulatorError(f"the simulator process did not start: {err.strip()[-2000:]}")
    url = line[0].split()[-1]
    return process, url, int(url.rsplit(":", 1)[1])


def _stop_process(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


@contextmanager
def _in_process(options: dict[str, Any], sim_args: dict[str, Any]) -> Iterator[RunningSimulator]:
    clients_file = None
    clients = options.get("clients")
    if clients is not None and not isinstance(clients, str):
        fd, clients_file = tempfile.mkstemp(prefix="fmd-sim-clients-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([c if isinstance(c, dict) else {"client_id": c.client_id, "secret": c.secret,
                                                      "location_id": c.location_id, "role": c.role,
                                                      "permissions": sorted(c.permissions)} for c in clients], f)
    elif isinstance(clients, str):
        clients_file = clients
    try:
        process, _, port = _start_process(_serve_command(options, 0, clients_file))
        sim = RunningSimulator("127.0.0.1", port, bool(options.get("tls_cert")), **sim_args)
        sim.process = process

        def restart() -> None:
            _stop_process(sim.process)  # type: ignore[arg-type]
            sim.process = _start_process(_serve_command(options, port, clients_file))[0]

        sim._restart = restart
        try:
            yield sim
        finally:
            _stop_process(sim.process)  # type: ignore[arg-type]
    finally:
        if clients_file and clients_file != clients:
            os.unlink(clients_file)


@contextmanager
def running_simulator(*, db: str | os.PathLike[str] | None = None, seed_packs: int = 0, seed: int = 0,
                      market: str = "FR", clients: Any = None, tls_cert: str | None = None,
                      tls_key: str | None = None, client_ca: str | None = None,
                      faults: dict[str, Any] | None = None, allow_reused_trx_ids: bool = False,
                      double_scan_alert: bool = False, pck19_alert: str = "always",
                      lock_undo_days: float | None = None, separate_process: bool = False,
                      admin_client_cert: tuple[str, str] | None = None,
                      admin_token: str | None = None, tls_ca: str | None = None,
                      server_cert_dates_unchecked: bool = False) -> Iterator[RunningSimulator]:
    """A real simulator on 127.0.0.1 and an ephemeral port (see the module docstring)."""
    options: dict[str, Any] = {
        "db": None if db is None else os.fspath(db), "seed_packs": seed_packs, "seed": seed, "market": market,
        "clients": clients, "faults": faults, "allow_reused_trx_ids": allow_reused_trx_ids,
        "double_scan_alert": double_scan_alert, "admin_token": admin_token, "pck19_alert": pck19_alert,
        "lock_undo_days": lock_undo_days,
        "tls_cert": None if tls_cert is None else os.fspath(tls_cert),
        "tls_key": None if tls_key is None else os.fspath(tls_key),
        "client_ca": None if client_ca is None else os.fspath(client_ca)}
    ca = tls_ca if tls_ca is not None else client_ca
    sim_args = {"admin_client_cert": admin_client_cert, "admin_token": admin_token,
                "tls_ca": None if ca is None else os.fspath(ca),
                "server_cert_dates_unchecked": server_cert_dates_unchecked}
    runner = _in_process if separate_process else _in_thread
    with runner(options, sim_args) as sim:
        yield sim
