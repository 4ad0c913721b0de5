"""``fmd-simulator``: serve the verification-service simulator, or write seed data as JSON lines.

Commands (a table, as mpremote does): ``serve`` and ``seed``. Exit codes: 0 success; 2 usage error;
3 configuration error (clients file, TLS files, port, faults); 4 storage error; 130 interrupted.
``serve`` prints ``listening on http(s)://HOST:PORT`` on stdout once it accepts connections, so a parent
process that passed ``--port 0`` can learn the port.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from fmd_simulator import seeding
from fmd_simulator.errors import ConfigurationError, SimulatorError, StoreError

log = logging.getLogger(__name__)


def cmd_serve(args: argparse.Namespace) -> int:
    from fmd_simulator.connector import start_connector
    from fmd_simulator.server import bind, build_app, make_server

    faults = json.loads(args.faults) if args.faults else None
    if faults is not None and not isinstance(faults, dict):
        raise ConfigurationError("--faults must be a JSON object")
    app = build_app(db=args.db, clients=args.clients, market=args.market, seed_packs=args.seed_packs,
                    seed=args.seed, faults=faults, allow_reused_trx_ids=args.allow_reused_trx_ids,
                    double_scan_alert=args.double_scan_alert, admin_token=args.admin_token,
                    pck19_alert=args.pck19_alert, lock_undo_days=args.lock_undo_days,
                    enrol_ca=(args.enrol_ca_cert, args.enrol_ca_key) if args.enrol_ca_cert else None)
    app.enrolment.service_url = args.enrol_service_url  # type: ignore[attr-defined]
    server = make_server(app, args.tls_cert, args.tls_key, args.client_ca, args.log_level)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    scheme = "https" if args.tls_cert else "http"
    shown = f"[{host}]" if ":" in host else host
    original_startup = server.startup
    args.account = app.enrolment.connector_account  # type: ignore[attr-defined]
    try:
        connector = start_connector(args, scheme, port)
    except ConfigurationError:
        sock.close()
        raise

    async def startup(sockets=None):  # type: ignore[no-untyped-def]
        await original_startup(sockets=sockets)
        print(f"listening on {scheme}://{shown}:{port}", flush=True)
        if connector is not None:
            print(f"connector listening on https://{args.connector_host}:{connector.port}", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        if connector is not None:
            connector.stop()
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.letters:  # the onboarding letters ``serve --seed S`` accepts (issue 14)
        from fmd_simulator.enrolment import letters

        for letter in letters(args.seed, args.letters):
            out.write(json.dumps({"letter": letter.as_dict()}, ensure_ascii=False) + "\n")
    for record in seeding.generate(args.packs, args.seed, args.market):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fmd-simulator", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the simulator over HTTP(S)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (0: any free port; default 8080)")
    s.add_argument("--db", default=None, help="SQLite file (default: in memory, lost at exit)")
    s.add_argument("--seed-packs", type=int, default=0, help="seed N packs at start-up")
    s.add_argument("--seed", type=int, default=0, help="seed of the generated data (default 0)")
    s.add_argument("--market", default="FR", choices=seeding.MARKETS, help="home market (default FR)")
    s.add_argument("--clients", default=None, help="JSON file of clients (default: the demo clients)")
    s.add_argument("--tls-cert", default=None, help="server certificate (PEM): serve HTTPS")
    s.add_argument("--tls-key", default=None, help="server private key (PEM)")
    s.add_argument("--client-ca", default=None, help="CA bundle: require client certificates (mutual TLS)")
    s.add_argument("--faults", default=None, help="initial fault settings, JSON as for PUT /admin/faults")
    s.add_argument("--admin-token", default=None, help="allow /admin/* from anywhere with X-Admin-Token")
    s.add_argument("--double-scan-alert", action="store_true", help="NMVS_NC_PCK_23 raises A7")
    s.add_argument("--pck19-alert", default="always", choices=("always", "intermarket", "never"),
                   help="when NMVS_NC_PCK_19 raises A7 (default always)")
    s.add_argument("--lock-undo-days", type=float, default=None, help="undo window of a lock (default: none)")
    s.add_argument("--allow-reused-trx-ids", action="store_true",
                   help="TEST ONLY: execute requests whose client transaction id was used before")
    s.add_argument("--enrol-ca-cert", default=None, help="CA certificate signing enrolled terminals (default: a new CA)")
    s.add_argument("--enrol-ca-key", default=None, help="that CA's private key (PEM)")
    s.add_argument("--enrol-service-url", default=None, help="service URL given to enrolled terminals (default: this one)")
    s.add_argument("--connector-port", type=int, default=None,
                   help="also serve the connector route (CPS-card certificates) on this port (0: any free port)")
    s.add_argument("--connector-host", default="127.0.0.1", help="address of the connector (default 127.0.0.1)")
    s.add_argument("--cps-ca", default=None, help="CA bundle of the health-professional cards the connector accepts")
    s.add_argument("--connector-cert", default=None, help="the connector's server certificate (default: --tls-cert)")
    s.add_argument("--connector-key", default=None, help="that certificate's private key (default: --tls-key)")
    s.add_argument("--connector-upstream-ca", default=None,
                   help="CA bundle verifying this simulator's certificate from the connector (default: the system's)")
    s.add_argument("--connector-client-cert", default=None,
                   help="the connector's client certificate towards this simulator (with --client-ca)")
    s.add_argument("--connector-client-key", default=None, help="that certificate's private key")
    s.add_argument("--connector-log", default=None, help="append the connector's connection log (JSON lines) here")
    s.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    s.set_defaults(func=cmd_serve)
    d = sub.add_parser("seed", help="write deterministic packs as JSON lines on stdout")
    d.add_argument("--packs", type=int, default=100, help="number of packs (default 100)")
    d.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    d.add_argument("--market", default="FR", choices=seeding.MARKETS, help="market (default FR)")
    d.add_argument("--letters", type=int, default=0, help="also print N onboarding letters (subscription demo)")
    d.set_defaults(func=cmd_seed)
    return p


EXIT_CODES: dict[type[BaseException], int] = {ConfigurationError: 3, StoreError: 4, SimulatorError: 3}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "warning").upper(), format="%(name)s: %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except (SimulatorError, ValueError) as exc:
        print(f"fmd-simulator: {exc}", file=sys.stderr)
        return EXIT_CODES.get(type(exc), 3)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
