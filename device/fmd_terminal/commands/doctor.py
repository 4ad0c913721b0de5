"""``fmd-terminal doctor``: check scanner, screen, pins, permissions, service, certificate, clock, storage.

Takes the same ``--config`` and flags as ``run`` and opens each adapter the way ``run`` would, one at a
time, then closes it. Prints one line per check (``ok``, ``WARN`` or ``FAIL``) and, for each problem,
what to do about it. Exit code 0 when nothing failed, 1 otherwise (warnings do not fail).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fmd_terminal.commands import run as run_command

OK, WARN, FAIL = "ok", "WARN", "FAIL"
MIN_FREE_BYTES = 64 * 1024 * 1024  # OFFLINE-QUEUE.md 2.3: keep a reserve for the outbox
CERT_WARN_DAYS = 30  # VERIFICATION-SERVICE.md 8: warn well before the client certificate's end date
DAY_S = 86400


class Check:
    __slots__ = ("name", "status", "detail", "fix")

    def __init__(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name:<11} {self.detail}"
        return text + (f"\n      {'':<11} fix: {self.fix}" if self.fix else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    run_command.add_arguments(parser)


def _opened(name: str, url: str, opener: Callable[[str], Any], fix: str) -> Check:
    from fmd_terminal.errors import TerminalError

    try:
        device = opener(url)
    except TerminalError as error:
        return Check(name, FAIL, str(error), fix)
    except ImportError as error:
        return Check(name, FAIL, f"{url}: library missing ({error.name})", "make venv (installs the device extra)")
    device.close()
    return Check(name, OK, f"{url} opened")


def check_scanner(config: Any) -> Check:
    from fmd_terminal.scanners.factory import open_scanner

    return _opened("scanner", config.scanner, open_scanner,
                   "plug the scanner in; the user needs group 'input' (evdev) or 'dialout' (serial); "
                   "see device/system udev rules")


def check_screen(config: Any) -> Check:
    from fmd_terminal.screens.factory import open_screen

    return _opened("screen", config.screen, open_screen,
                   "check the OLED wiring and address (i2cdetect -y 1), enable I2C, group 'i2c'")


def check_pins(config: Any) -> Check:
    from fmd_terminal.indicators.factory import open_indicators

    return _opened("pins", config.indicators, open_indicators,
                   "check the BCM pin numbers in the indicators URL and group 'gpio'")


def check_permissions(config: Any) -> Check:
    if not config.source:
        return Check("permissions", OK, "no configuration file (defaults and flags)")
    path = Path(config.source)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o002:
        return Check("permissions", FAIL, f"{path} is writable by everyone ({mode:04o})", f"chmod o-w {path}")
    return Check("permissions", OK, f"{path} mode {mode:04o}; secrets private")


def check_service(config: Any) -> Check:
    from fmd_core.service import ANSWERED
    from fmd_terminal.app import open_configured_service
    from fmd_terminal.errors import TerminalError

    if not config.service:
        return Check("service", FAIL, "no service URL", "set [service] url or --service URL")
    try:
        client = open_configured_service(config)
    except TerminalError as error:
        return Check("service", FAIL, str(error), "set FMD_CLIENT_ID and FMD_CLIENT_SECRET or a secrets_file")
    try:
        started = time.monotonic()
        answer = client.ping()
        took_ms = (time.monotonic() - started) * 1000
    finally:
        client.close()
    if answer.transport == ANSWERED and answer.http_status is not None and answer.http_status < 400:
        return Check("service", OK, f"{config.service} answered in {took_ms:.0f} ms")
    why = answer.transport_error or f"HTTP {answer.http_status} {answer.operation_code or ''}".strip()
    return Check("service", FAIL, f"{config.service} not reachable: {why}",
                 "check the network, the URL and the client certificate; scans are still recorded offline")


def check_certificate(config: Any, now_s: float | None = None) -> Check:
    """The client certificate's validity (VERIFICATION-SERVICE.md section 8, "Certificate expiry").

    FAIL outside its validity period (the service refuses it and the queue pauses: OFFLINE-QUEUE.md
    4.3, ``pause_cert``); WARN within ``CERT_WARN_DAYS`` of its end date, while there is time to renew.
    """
    from fmd_terminal.verification.transport import certificate_validity

    path = config.client_cert
    if not path:
        return Check("certificate", OK, "no client certificate configured")
    fix = "ask the national organisation for a renewed client certificate; set client_cert and client_key"
    validity = certificate_validity(path)
    if validity is None:
        return Check("certificate", FAIL, f"{path} is not a readable PEM certificate", fix)
    now_s = time.time() if now_s is None else now_s
    not_before, not_after = validity

    def day(seconds: float) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(seconds))

    if now_s > not_after:
        return Check("certificate", FAIL, f"{path} expired on {day(not_after)}", fix)
    if now_s < not_before:
        return Check("certificate", FAIL, f"{path} not valid before {day(not_before)}",
                     "check the clock; else install a certificate that is valid now")
    days_left = int((not_after - now_s) // DAY_S)
    if days_left < CERT_WARN_DAYS:
        return Check("certificate", WARN, f"{path} expires on {day(not_after)}, in {days_left} days", fix)
    return Check("certificate", OK, f"{path} valid until {day(not_after)}")


def check_clock(now_s: float | None = None, synced: bool | None = None) -> Check:
    from fmd_terminal.outbox.clock import kernel_clock_synced

    now_s = time.time() if now_s is None else now_s
    synced = kernel_clock_synced() if synced is None else synced
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now_s))
    if time.gmtime(now_s).tm_year < 2025:
        return Check("clock", FAIL, f"the clock says {when}", "connect to a network with NTP, or set the time")
    if not synced:
        return Check("clock", WARN, f"{when}, not synchronised",
                     "enable systemd-timesyncd or chrony; the undo limit needs a trusted time")
    return Check("clock", OK, f"{when}, synchronised")


def check_storage(config: Any) -> Check:
    from fmd_terminal.errors import TerminalError
    from fmd_terminal.outbox.factory import open_outbox

    parts = urlsplit(config.outbox)
    database = Path(unquote(parts.netloc + parts.path)) if parts.scheme == "sqlite" else None
    where = database.parent if database is not None else None
    if where is not None and not os.access(where, os.W_OK):
        return Check("storage", FAIL, f"{where} is not writable", f"create {where} owned by the terminal's user")
    if database is not None and not database.exists():
        pending = attention = 0  # the terminal creates it at its first start
    else:
        try:
            # Attached: a running terminal may have it open, so no start-up transition may run and a
            # damaged file is reported, never moved aside (OFFLINE-QUEUE.md 2.3, 4.2 #9).
            outbox = open_outbox(config.outbox, attach=True)
        except TerminalError as error:
            return Check("storage", FAIL, str(error), "restore the outbox from its backup or move the damaged file away")
        try:
            pending, attention = outbox.pending_count(), outbox.attention_count()
        finally:
            outbox.close()
    detail = f"{config.outbox}: {pending} pending, {attention} need attention"
    if where is not None:
        free = shutil.disk_usage(where).free
        detail += f", {free // (1024 * 1024)} MB free"
        if free < MIN_FREE_BYTES:
            return Check("storage", FAIL, detail, "free space on the data partition")
    if attention:
        return Check("storage", WARN, detail, "fmd-terminal attention (resolve them)")
    return Check("storage", OK, detail)


def check_account(config: Any, now_s: float | None = None) -> list[Check]:
    """Password age and terms to accept (issue 14, item 5): WARN 30, 7 and 1 days ahead, FAIL once past;
    from the account status the service last gave (``fmd-terminal account status`` refreshes it)."""
    from fmd_terminal import config as terminal_config
    from fmd_terminal import credential_health

    directory = terminal_config.enrolment_path(config)
    now_s = time.time() if now_s is None else now_s
    fixes = {"password": "fmd-terminal account password (a new password, made on the terminal)",
             "terms": "read the new terms, then fmd-terminal account terms"}
    checks = []
    for due, step, left in credential_health.notices(credential_health.dues(config, directory), now_s):
        if due.kind in fixes:
            when = time.strftime("%Y-%m-%d", time.gmtime(due.until))
            detail = f"{due.kind} expired on {when}" if step == 0 else f"{due.kind} due on {when} ({left} day(s))"
            checks.append(Check(due.kind, FAIL if step == 0 else WARN, detail, fixes[due.kind]))
    return checks


def run_checks(config: Any) -> list[Check]:
    return [check_scanner(config), check_screen(config), check_pins(config), check_permissions(config),
            check_service(config), check_certificate(config), *check_account(config), check_clock(),
            check_storage(config)]


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal import config as config_module

    settings = config_module.load(args.config, overrides=run_command.overrides_of(args))
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    failed = [c.name for c in checks if c.status == FAIL]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed" + (f"; fix: {', '.join(failed)}" if failed else ""))
    sys.stdout.flush()
    return 1 if failed else 0
