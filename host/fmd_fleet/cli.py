"""``fmd-fleet``: subscribe to the fleet's health, keep the latest state, serve metrics and a page.

  fmd-fleet --broker HOST:PORT --ca CA --cert CRT --key KEY [--listen 127.0.0.1:9108] [--share GROUP]

``/metrics``: Prometheus (prometheus_client); ``/``: the fleet page, red rows first (``?lang=fr|en|de``).
It listens on 127.0.0.1 unless told otherwise. ``--share``: an MQTT 5 shared subscription
(``$share/GROUP/fmd/+/+/health``), so several fmd-fleet instances split one clustered broker's stream.

Exit codes: 0 stopped by a signal or Ctrl+C; 2 usage; 3 bad input (a certificate file, the address).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fmd_fleet.state import Fleet

PROG = "fmd-fleet"
TOPIC = "fmd/+/+/health"
log = logging.getLogger(__name__)


class FleetError(Exception):
    """Bad input to fmd-fleet: a certificate that cannot be read, an address that cannot be used."""

    exit_code = 3


def subscribe(fleet: Fleet, host: str, port: int, ca: str, cert: str, key: str, share: str | None = None,
              client_id: str = "fmd-fleet") -> Any:
    """A started paho client feeding ``fleet`` (reconnects by itself)."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    try:
        client.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
    except (OSError, ValueError) as error:
        raise FleetError(f"cannot read the certificate files ({ca}, {cert}): {error}") from None
    topic = f"$share/{share}/{TOPIC}" if share else TOPIC
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic, qos=1)

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        fleet.update(message.topic, bytes(message.payload))

    client.on_message = on_message
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    return client


def serve(fleet: Fleet, host: str, port: int) -> ThreadingHTTPServer:
    """The HTTP server of ``/metrics`` and ``/`` (started on its own thread)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from fmd_fleet.metrics import FleetCollector
    from fmd_fleet.page import language, render

    registry = CollectorRegistry()
    registry.register(FleetCollector(fleet))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            if url.path == "/metrics":
                body, kind = generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
            elif url.path == "/":
                lang = language(parse_qs(url.query).get("lang", [None])[0], self.headers.get("Accept-Language"))
                body, kind = render(fleet.rows(), lang).encode(), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as error:
        raise FleetError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    threading.Thread(target=server.serve_forever, name="fmd-fleet-http", daemon=True).start()
    return server


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description="The fleet's health: Prometheus metrics and a page.")
    parser.add_argument("--broker", type=_address, required=True, help="HOST:PORT of the (central) broker")
    parser.add_argument("--ca", required=True, help="the broker's CA certificate")
    parser.add_argument("--cert", required=True, help="fmd-fleet's client certificate")
    parser.add_argument("--key", required=True, help="its private key")
    parser.add_argument("--listen", type=_address, default=("127.0.0.1", 9108), help="default 127.0.0.1:9108")
    parser.add_argument("--share", help="MQTT 5 shared-subscription group (several fmd-fleet instances)")
    parser.add_argument("--client-id", default="fmd-fleet")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    try:
        fleet = Fleet()
        (host, port), (listen_host, listen_port) = args.broker, args.listen
        client = subscribe(fleet, host, port, args.ca, args.cert, args.key, args.share, args.client_id)
        server = serve(fleet, listen_host, listen_port)
        print(f"{PROG}: metrics on http://{args.listen[0]}:{server.server_address[1]}/metrics", flush=True)
        while not stop.wait(1.0):
            pass
        server.shutdown()
        client.loop_stop()
    except FleetError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 0
    return 0
