"""The terminal's own web console (issue 15): what a pharmacist and an installer do without SSH.

``fmd-terminal run`` starts it when the configuration has a ``[console]`` table::

    [console]
    listen = "127.0.0.1:8470"          # host:port; loopback: plain http
    state_dir = "/var/lib/fmd-terminal/console"   # admin password hash, setup code, audit trail
    # beyond loopback (the pharmacy's LAN) only over HTTPS with the device's own certificate:
    certificate = "/etc/fmd-terminal/console-cert.pem"
    key = "/etc/fmd-terminal/console-key.pem"
    session_minutes = 15               # a session ends after this long without a request (8 h at most)

Without the table nothing listens. An address beyond loopback without ``certificate`` and ``key``
is refused at start (plain ``http://`` only on loopback). An address already taken is logged and
the terminal runs on without its console: scanning never waits for it. The server, its pages and its security
are in ``console.server``, ``console.pages`` and ``console.security``.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmd_terminal.errors import ConfigError
from fmd_terminal.urls import is_loopback

log = logging.getLogger(__name__)

DEFAULT_STATE_DIR = "/var/lib/fmd-terminal/console"
KEYS = ("listen", "state_dir", "certificate", "key", "session_minutes")
MAX_SESSION_S = 8 * 3600


@dataclass(frozen=True)
class ConsoleSettings:
    host: str
    port: int
    state_dir: Path
    certificate: str = ""
    key: str = ""
    session_minutes: float = 15.0

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def scheme(self) -> str:
        return "https" if self.certificate else "http"


def settings_of(table: Mapping[str, Any]) -> ConsoleSettings | None:
    """The ``[console]`` table checked by the configuration's one validation (``config_rules``), or
    None when there is none (the console is off)."""
    from fmd_terminal.config_rules import console_problems, split_listen

    found = console_problems(table)
    if found:
        raise found[0]
    if not table:
        return None
    host, port = split_listen(table["listen"]) or ("", 0)
    return ConsoleSettings(host, port, Path(table.get("state_dir", DEFAULT_STATE_DIR)),
                           table.get("certificate", ""), table.get("key", ""),
                           float(table.get("session_minutes", 15)))


def reachable_host(host: str) -> str:
    """The host a person types (or a phone reads from the QR code) for a console listening on ``host``:
    itself, except for the wildcard addresses (all interfaces), for which the address of the interface
    of the default route is taken. A UDP socket's ``connect`` only chooses that route: nothing is sent.
    Without a route, the machine's host name."""
    import ipaddress
    import socket

    try:
        if not ipaddress.ip_address(host).is_unspecified:
            return host
    except ValueError:  # a host name
        return host
    family, probe = (socket.AF_INET6, "2001:db8::1") if ":" in host else (socket.AF_INET, "192.0.2.1")
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))
            return str(udp.getsockname()[0])
    except OSError:
        return socket.gethostname()


def _tls(settings: ConsoleSettings) -> ssl.SSLContext | None:
    if not settings.certificate:
        return None
    from fmd_terminal.config import check_private

    check_private(Path(settings.key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.certificate, settings.key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError.text("console_certificate", path=settings.certificate,
                               why=getattr(error, "strerror", None) or str(error)) from error
    return context


def _keep_every_level(day_log: logging.Handler, stack: contextlib.ExitStack) -> None:
    """Give ``day_log`` the terminal's records at every level (the logs of the day) while the journal
    (the root logger's handlers) keeps the level ``-v`` chose: that level moves from the root logger
    onto its handlers, and the terminal's logger passes DEBUG on. Undone when the console stops."""
    root, package = logging.getLogger(), logging.getLogger("fmd_terminal")
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(root.getEffectiveLevel())
            stack.callback(handler.setLevel, logging.NOTSET)
    stack.callback(package.setLevel, package.level)
    package.setLevel(logging.DEBUG)
    package.addHandler(day_log)
    stack.callback(package.removeHandler, day_log)


def start(config: Any, terminal: Any, stack: contextlib.ExitStack) -> Any:
    """Start the console ``config.console`` describes beside ``terminal``; the ``server.Console`` (its
    ``address``), or None when off. ``terminal`` None: the terminal waits for its enrolment, and the
    console serves its enrolment page until ``Console.attach`` gives it the terminal."""
    settings = settings_of(getattr(config, "console", None) or {})
    if settings is None:
        return None
    from fmd_terminal.console.security import Audit, Credentials, Sessions
    from fmd_terminal.console.server import Console, DayLog, serve

    context = _tls(settings)
    credentials = Credentials(settings.state_dir)
    day_log = DayLog(secrets=(config.client_secret, config.client_key_pin))
    _keep_every_level(day_log, stack)
    console = Console(terminal, config, credentials, Sessions(settings.session_minutes * 60, MAX_SESSION_S),
                      Audit(settings.state_dir / "audit.jsonl"), day_log, secure=context is not None)
    try:
        server, thread = serve(console, settings.host, settings.port, context)
    except OSError as error:  # the counter comes first: the terminal scans on without its console
        log.error("console: cannot listen on %s:%s (%s); the terminal runs without its console",
                  settings.host, settings.port, error.strerror)
        return None

    def stop() -> None:
        console.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)

    stack.callback(stop)
    host = reachable_host(settings.host)
    host = f"[{host}]" if ":" in host else host
    address = f"{settings.scheme}://{host}:{server.server_address[1]}/"
    if not credentials.is_set():
        log.warning("console: no admin password yet; set it at %ssetup with the code in %s", address,
                    credentials.setup_file)
    log.info("console at %s", address)
    console.address = address
    return console
