"""``fmd-terminal doctor``: check scanner, screen, pins, permissions, service, certificate, clock, storage.

Takes the same ``--config`` and flags as ``run`` and first applies the same validation
(``config_rules``): a key that breaks its rule is a ``FAIL`` line in place of the check that uses it.
Then it opens each adapter the way ``run`` would, one at a time, then closes it; a scanner that is
not plugged in fails (issue 12). Prints one line per check (``ok``, ``WARN`` or ``FAIL``) and, for
each problem, what to do about it: each class of the service's answer has its own fix
(``service_fix``). The summary counts ok, warnings and failures. What it prints is in ``--lang``
(else ``FMD_LANG``, else French). Exit code 0 when nothing failed, 1 otherwise (warnings do not fail).
"""

from __future__ import annotations

import argparse
import shutil
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fmd_terminal.commands import run as run_command
from fmd_terminal.outbox.texts import Texts

OK, WARN, FAIL = "ok", "WARN", "FAIL"
MIN_FREE_BYTES = 64 * 1024 * 1024  # OFFLINE-QUEUE.md 2.3: keep a reserve for the outbox
CERT_WARN_DAYS = 30  # VERIFICATION-SERVICE.md 8: warn well before the client certificate's end date
DAY_S = 86400


class Check:
    __slots__ = ("name", "status", "detail", "fix", "fix_word")

    def __init__(self, name: str, status: str, detail: str, fix: str = "", fix_word: str = "fix") -> None:
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
        self.fix_word = fix_word

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name:<13} {self.detail}"
        return text + (f"\n      {'':<13} {self.fix_word}: {self.fix}" if self.fix else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    run_command.add_arguments(parser)


# the check that uses each configuration key (a key's problem takes the check's line)
CHECK_OF_KEY = {"scanner": "scanner", "screen": "screen", "indicators": "pins", "service": "service",
                "client_id": "service", "client_secret": "service", "client_key": "service", "ca_bundle": "service",
                "client_cert": "certificate", "outbox": "storage"}
SCANNER_WAIT_S = 1.0  # how long the doctor lets a scanner's reader thread try to open the device


def _check(texts: Texts, name: str, status: str, detail_id: str, fix_id: str = "", /, **fields: Any) -> Check:
    return Check(name, status, texts(detail_id, **fields), texts(fix_id, **fields) if fix_id else "", texts("fix"))


def _opened(texts: Texts, name: str, url: str, opener: Callable[[str], Any], fix_id: str) -> Check:
    from fmd_terminal.errors import TerminalError

    try:
        device = opener(url)
    except TerminalError as error:
        return Check(name, FAIL, error.in_language(texts.lang), texts(fix_id), texts("fix"))
    except ImportError as error:
        return _check(texts, name, FAIL, "d_library", "fix_library", url=url, library=error.name)
    try:
        missing = _absent(device)
    finally:
        device.close()
    if missing is not None:
        return _check(texts, name, FAIL, "d_scanner_missing", fix_id, url=url, why=missing)
    return _check(texts, name, OK, "d_opened", url=url)


def _absent(device: Any) -> str | None:
    """Why a scanner is not there (``missing()``), once its reader thread had time to open it."""
    missing = getattr(device, "missing", None)
    if missing is None:
        return None
    connected = getattr(getattr(device, "source", device), "connected", lambda: True)
    deadline = time.monotonic() + SCANNER_WAIT_S
    while not connected() and missing() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return missing()


def check_scanner(config: Any, texts: Texts) -> Check:
    from fmd_terminal.scanners.factory import open_scanner

    return _opened(texts, "scanner", config.scanner, open_scanner, "fix_scanner")


def check_screen(config: Any, texts: Texts) -> Check:
    from fmd_terminal.screens.factory import open_screen

    return _opened(texts, "screen", config.screen, open_screen, "fix_screen")


def check_pins(config: Any, texts: Texts) -> Check:
    from fmd_terminal.indicators.factory import open_indicators

    return _opened(texts, "pins", config.indicators, open_indicators, "fix_pins")


def check_permissions(config: Any, texts: Texts | None = None) -> Check:
    texts = texts or Texts()
    if not config.source:
        return _check(texts, "permissions", OK, "d_no_file")
    path = Path(config.source)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o002:
        return Check("permissions", FAIL, texts("d_world_writable", path=path, mode=f"{mode:04o}"),
                     f"chmod o-w {path}", texts("fix"))
    return _check(texts, "permissions", OK, "d_private", path=path, mode=f"{mode:04o}")


def service_fix(answer: Any) -> str:
    """The fix for one class of the service's answer (issue 12: each class its own fix line).

    A wrong secret (401/403, ``FE_AU_``) -> the credentials; a wrong base path (404/422, or a token
    request that the path does not know) -> the URL's path; the service's certificate not trusted ->
    ``ca_bundle`` and the clock; our client certificate refused -> the certificate; busy or 5xx ->
    later; no connection, no answer -> the network.
    """
    from fmd_core import op_states
    from fmd_core.service import NO_ANSWER

    error = answer.transport_error or ""
    if error == "token_unavailable":
        return "fix_busy" if "HTTP 5" in (answer.detail or "") else "fix_path"
    if error == "tls_untrusted" or error in op_states._CLOCK_TLS:
        return "fix_server_cert"
    klass = op_states.classify(answer)
    if klass == op_states.UNKNOWN:
        return "fix_network" if answer.transport == NO_ANSWER else "fix_busy"
    return {op_states.PAUSE_AUTH: "fix_secret", op_states.PAUSE_CERT: "fix_client_cert",
            op_states.PAUSE_SOFTWARE: "fix_path", op_states.RETRY_LATER: "fix_busy",
            op_states.NOT_SENT_CLASS: "fix_network"}.get(klass, "fix_service_other")


def check_service(config: Any, texts: Texts | None = None) -> Check:
    from fmd_core.service import ANSWERED
    from fmd_terminal.app import open_configured_service
    from fmd_terminal.errors import TerminalError

    texts = texts or Texts()
    try:
        client = open_configured_service(config)
    except TerminalError as error:
        fix = "" if error.text_id else texts("fix_credentials")
        return Check("service", FAIL, error.in_language(texts.lang), fix, texts("fix"))
    try:
        started = time.monotonic()
        answer = client.ping()
        took_ms = (time.monotonic() - started) * 1000
    finally:
        client.close()
    if answer.transport == ANSWERED and answer.http_status is not None and answer.http_status < 400:
        return _check(texts, "service", OK, "d_answered", url=config.service, ms=f"{took_ms:.0f}")
    why = answer.transport_error or f"HTTP {answer.http_status} {answer.operation_code or ''}".strip()
    if answer.detail:
        why += f" ({answer.detail})"
    return _check(texts, "service", FAIL, "d_not_answered", service_fix(answer), url=config.service, why=why)


def check_certificate(config: Any, now_s: float | None = None, texts: Texts | None = None) -> Check:
    """The client certificate's validity (VERIFICATION-SERVICE.md section 8, "Certificate expiry").

    FAIL outside its validity period (the service refuses it and the queue pauses: OFFLINE-QUEUE.md
    4.3, ``pause_cert``); WARN within ``CERT_WARN_DAYS`` of its end date, while there is time to renew.
    """
    from fmd_terminal.verification.transport import certificate_validity

    texts = texts or Texts()
    path = config.client_cert
    if not path:
        return _check(texts, "certificate", OK, "d_no_cert")
    validity = certificate_validity(path)
    if validity is None:
        return _check(texts, "certificate", FAIL, "d_cert_unreadable", "fix_cert_renew", path=path)
    now_s = time.time() if now_s is None else now_s
    not_before, not_after = validity

    def day(seconds: float) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(seconds))

    if now_s > not_after:
        return _check(texts, "certificate", FAIL, "d_cert_expired", "fix_cert_renew", path=path, day=day(not_after))
    if now_s < not_before:
        return _check(texts, "certificate", FAIL, "d_cert_not_yet", "fix_cert_clock", path=path, day=day(not_before))
    days_left = int((not_after - now_s) // DAY_S)
    if days_left < CERT_WARN_DAYS:
        return _check(texts, "certificate", WARN, "d_cert_expires", "fix_cert_renew", path=path,
                      day=day(not_after), days=days_left)
    return _check(texts, "certificate", OK, "d_cert_valid", path=path, day=day(not_after))


def check_clock(now_s: float | None = None, synced: bool | None = None, texts: Texts | None = None) -> Check:
    from fmd_terminal.outbox.clock import kernel_clock_synced

    texts = texts or Texts()
    now_s = time.time() if now_s is None else now_s
    synced = kernel_clock_synced() if synced is None else synced
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now_s))
    if time.gmtime(now_s).tm_year < 2025:
        return _check(texts, "clock", FAIL, "d_clock_wrong", "fix_clock_set", when=when)
    if not synced:
        return _check(texts, "clock", WARN, "d_clock_unsynced", "fix_clock_sync", when=when)
    return _check(texts, "clock", OK, "d_clock_ok", when=when)


def check_storage(config: Any, texts: Texts | None = None) -> Check:
    from fmd_terminal.errors import TerminalError
    from fmd_terminal.outbox.factory import open_outbox
    from fmd_terminal.outbox.sqlite import check_directory

    texts = texts or Texts()
    parts = urlsplit(config.outbox)
    database = Path(unquote(parts.netloc + parts.path)) if parts.scheme == "sqlite" else None
    try:
        if database is not None:
            check_directory(str(database))
        if database is not None and not database.exists():
            pending = attention = 0  # the terminal creates it at its first start
        else:
            # Attached: a running terminal may have it open, so no start-up transition may run and a
            # damaged file is reported, never moved aside (OFFLINE-QUEUE.md 2.3, 4.2 #9).
            outbox = open_outbox(config.outbox, attach=True)
            try:
                pending, attention = outbox.pending_count(), outbox.attention_count()
            finally:
                outbox.close()
    except TerminalError as error:  # the message names the fix (storage_damaged, storage_read_only, ...)
        return Check("storage", FAIL, error.in_language(texts.lang))
    detail = texts("d_storage", url=config.outbox, pending=pending, attention=attention)
    if database is not None:
        free = shutil.disk_usage(database.parent).free
        detail += ", " + texts("d_free", mb=free // (1024 * 1024))
        if free < MIN_FREE_BYTES:
            return Check("storage", FAIL, detail, texts("fix_free"), texts("fix"))
    if attention:
        return Check("storage", WARN, detail, texts("fix_attention"), texts("fix"))
    return Check("storage", OK, detail)


def check_account(config: Any, texts: Texts, now_s: float | None = None) -> list[Check]:
    """Password age and terms to accept (issue 14, item 5): WARN 30, 7 and 1 days ahead, FAIL once past;
    from the account status the service last gave (``fmd-terminal account status`` refreshes it)."""
    from fmd_terminal import config as terminal_config
    from fmd_terminal import credential_health

    directory = terminal_config.enrolment_path(config)
    now_s = time.time() if now_s is None else now_s
    checks = []
    for due, step, left in credential_health.notices(credential_health.dues(config, directory), now_s):
        if due.kind in ("password", "terms"):
            when = time.strftime("%Y-%m-%d", time.gmtime(due.until))
            detail = f"d_{due.kind}_expired" if step == 0 else f"d_{due.kind}_due"
            checks.append(_check(texts, due.kind, FAIL if step == 0 else WARN, detail, f"fix_{due.kind}",
                                 when=when, left=left))
    return checks


def check_configuration(config: Any, texts: Texts) -> list[Check]:
    """The one validation ``run`` applies (``config_rules``): a problem per line, named by its check."""
    from fmd_terminal.config_rules import problems

    return [Check(CHECK_OF_KEY.get(str(p.fields.get("key", "service")).split(".")[0], "configuration"), FAIL,
                  p.in_language(texts.lang)) for p in problems(config)]


def check_settings(config: Any, texts: Texts) -> list[Check]:
    """Where the settings saved on the terminal come from (``settings_file``): a line per key its
    settings file sets in place of the configuration file's value; a warning when it was ignored."""
    from fmd_terminal.config_rules import shown

    if config.settings_problem is not None:
        return [Check("settings", WARN, config.settings_problem.in_language(texts.lang))]
    return [_check(texts, "settings", OK, "d_setting_from", key=key, value=shown(key, getattr(config, key)),
                   path=config.settings_file, before=shown(key, before), main=config.source)
            for key, before in config.from_settings.items()]


def run_checks(config: Any, texts: Texts | None = None) -> list[Check]:
    texts = texts or Texts()
    found = check_configuration(config, texts)
    refused = {check.name for check in found}
    if refused & {"certificate", "service"}:
        refused.add("account")  # its dates come from the certificate and the service's account
    checks: list[tuple[str, Callable[[], Check | list[Check]]]] = [
        ("scanner", lambda: check_scanner(config, texts)), ("screen", lambda: check_screen(config, texts)),
        ("pins", lambda: check_pins(config, texts)), ("permissions", lambda: check_permissions(config, texts)),
        ("service", lambda: check_service(config, texts)),
        ("certificate", lambda: check_certificate(config, texts=texts)),
        ("account", lambda: check_account(config, texts)),
        ("clock", lambda: check_clock(texts=texts)), ("storage", lambda: check_storage(config, texts))]
    if not found:
        found.append(_check(texts, "configuration", OK, "d_config_ok"))
    found += check_settings(config, texts)
    results: list[Check] = []
    for name, run in checks:
        if name not in refused:
            outcome = run()
            results.extend(outcome if isinstance(outcome, list) else [outcome])
    return found + results


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal import config as config_module

    texts = Texts(getattr(args, "lang", None))
    settings = config_module.load(args.config, overrides=run_command.overrides_of(args))
    checks = run_checks(settings, texts)
    for check in checks:
        print(check.line())
    counts = {status: sum(1 for c in checks if c.status == status) for status in (OK, WARN, FAIL)}
    failed = list(dict.fromkeys(c.name for c in checks if c.status == FAIL))
    summary = texts("d_summary", ok=counts[OK], warn=counts[WARN], fail=counts[FAIL])
    print(summary + (f"; {texts('d_fix', names=', '.join(failed))}" if failed else ""))
    sys.stdout.flush()
    return 1 if failed else 0
