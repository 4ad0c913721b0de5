"""The one validation of the terminal's configuration (issue 12), used by ``run``, ``doctor`` and the commands.

Every key has a rule: its type (a TOML ``true`` is not a number, a number is not a URL), its range or
its allowed values. ``problems(config)`` lists what breaks a rule, each as a ``ConfigError`` whose
message names the key, the value and what is allowed, in the person's language (``outbox.texts``).
The service URL must be ``https://`` (or ``nmvs-soap+https://``): plain ``http://`` is accepted only
to a loopback address (127.0.0.0/8, ``::1``, ``localhost``), since the client secret and the bearer
token would otherwise cross the network in clear. A key file the configuration names for the site
ledger (its MQTT client key ``key``, the site's hashing key ``site_key``) must be readable by its owner
only (``private_file``). The web console's ``[console]`` table (issue 15) is checked here too: its
address, and HTTPS with the device's own certificate beyond loopback.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fmd_core.modes import MODES, ROLES
from fmd_terminal.errors import ConfigError
from fmd_terminal.i18n import LANGUAGES
from fmd_terminal.outbox.texts import Phrase
from fmd_terminal.urls import is_loopback

# key -> (lowest, highest) seconds
SECONDS = {"duplicate_window_s": (0.0, 3600.0), "result_hold_s": (1.0, 3600.0), "live_deadline_s": (0.1, 60.0)}
TIMEOUTS = {"connect": (0.1, 300.0), "read": (0.1, 300.0), "total": (0.1, 600.0)}
MAX_SHORT_EXPIRY_DAYS = 3650
TEXT_KEYS = ("button", "events_jsonl", "notes_dir", "receipts_dir", "client_id", "client_secret", "client_cert", "client_key", "ca_bundle")
SECRET_KEYS = ("client_secret",)
# the rest are seconds or rates; gather_count may be 0 (no receiving bulks, issue 17)
SYNC_WHOLE = ("bulk_threshold", "batch_size", "outstanding", "breaker_threshold", "gather_count")


def _schemes(key: str) -> tuple[str, ...]:
    """The URL schemes an adapter exists for (the factories' own tables)."""
    if key == "scanner":
        from fmd_terminal.scanners.factory import SCHEMES
    elif key == "screen":
        from fmd_terminal.screens.factory import SCREENS as SCHEMES
    elif key == "indicators":
        from fmd_terminal.indicators.factory import INDICATORS as SCHEMES
    elif key == "outbox":
        from fmd_terminal.outbox.factory import OUTBOXES as SCHEMES
    else:
        from fmd_terminal.verification.factory import SCHEMES
    return tuple(sorted(SCHEMES))


def shown(key: str, value: Any) -> str:
    """A value as the person wrote it in TOML (``true``, ``"three"``, ``5``); secrets are never shown."""
    if key in SECRET_KEYS:
        return "***"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return f'"{text}"'
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def bad(key: str, value: Any, allowed: Phrase) -> ConfigError:
    return ConfigError.text("config_bad", key=key, value=shown(key, value), allowed=allowed)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(key: str, value: Any, low: float, high: float, phrase: str = "allowed_seconds") -> ConfigError | None:
    if not is_number(value) or not low <= value <= high:
        return bad(key, value, Phrase(phrase, low=f"{low:g}", high=f"{high:g}"))
    return None


def _url(key: str, value: Any) -> ConfigError | None:
    schemes = _schemes(key)
    allowed = Phrase("allowed_url", schemes=", ".join(s + "://" for s in schemes))
    if not isinstance(value, str) or not value:
        return bad(key, value, allowed)
    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes:
        return bad(key, value, allowed)
    if key == "service" and parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
        return ConfigError.text("config_http", key=key, value=shown(key, value))
    if key == "service" and parts.scheme.lower().endswith("https") and not parts.hostname:
        return bad(key, value, allowed)
    return None


def private_file(key: str, path: str) -> ConfigError | None:
    """A key file that group or others can read is refused, with the ``chmod`` that fixes it; a file
    that cannot be read is left to whoever opens it (its own message names the path)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return ConfigError.text("config_key_open", key=key, path=path, mode=f"{stat.S_IMODE(mode):04o}")
    return None


LEDGER_KEYS = ("key", "site_key")  # the site ledger URL's key files (``fmd_terminal.ledger``)


def ledger_keys(url: str) -> list[ConfigError]:
    """The site ledger's key files (README, "Site ledger") that group or others can read."""
    query = parse_qs(urlsplit(url).query)
    found = [private_file(f"ledger {name}", query[name][-1]) for name in LEDGER_KEYS if query.get(name)]
    return [problem for problem in found if problem is not None]


def _table(key: str, value: Any, rules: Mapping[str, tuple[float, float]],
           phrase: str = "allowed_seconds") -> list[ConfigError]:
    if not isinstance(value, Mapping):
        return [bad(key, value, Phrase("allowed_table", keys=", ".join(rules)))]
    found = []
    for name, item in value.items():
        if name not in rules:
            found.append(bad(f"{key}.{name}", item, Phrase("allowed_keys", keys=", ".join(rules))))
            continue
        low, high = rules[name]
        if name in SYNC_WHOLE and (not isinstance(item, int) or isinstance(item, bool) or not low <= item):
            found.append(bad(f"{key}.{name}", item, Phrase("allowed_whole", low=f"{low:g}")))
        elif name not in SYNC_WHOLE and (problem := _number(f"{key}.{name}", item, low, high, phrase)) is not None:
            found.append(problem)
    return found


def _sync_rules() -> dict[str, tuple[float, float]]:
    from fmd_terminal.outbox.sync import SyncSettings

    return {name: (1.0 if name in SYNC_WHOLE and name != "gather_count" else 0.0, 86_400.0)
            for name in SyncSettings.__slots__}


def _gather(sync: Any) -> list[ConfigError]:
    """A receiving bulk carries at most ``batch_size`` items, so ``gather_count`` may not exceed it
    (issue 17; the defaults are 100 and 200)."""
    from fmd_terminal.outbox.sync import SyncSettings

    if not isinstance(sync, Mapping):
        return []
    defaults = SyncSettings()
    count, size = sync.get("gather_count", defaults.gather_count), sync.get("batch_size", defaults.batch_size)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (count, size)) and count > size:
        return [ConfigError.text("config_gather", count=count, size=size)]
    return []


def split_listen(value: Any) -> tuple[str, int] | None:
    """``"host:port"`` (an IPv6 host in brackets) as (host, port), or None when it is not one."""
    if not isinstance(value, str):
        return None
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or int(port) > 65535:
        return None
    return host, int(port)


def console_problems(table: Any) -> list[ConfigError]:
    """The ``[console]`` table's rules (issue 15): known keys, ``listen`` as host:port, texts for the
    paths, a session of at most 8 h, certificate and key together, and both beyond loopback (plain
    ``http://`` only on loopback). An empty table is no console."""
    from fmd_terminal.console import KEYS, MAX_SESSION_S

    if not isinstance(table, Mapping):
        return [bad("console", table, Phrase("allowed_table", keys=", ".join(KEYS)))]
    found = [bad(f"console.{name}", item, Phrase("allowed_keys", keys=", ".join(KEYS)))
             for name, item in table.items() if name not in KEYS]
    if not table:
        return found
    address = split_listen(table.get("listen", ""))
    if address is None:
        found.append(bad("console.listen", table.get("listen", ""), Phrase("allowed_listen")))
    minutes = table.get("session_minutes", 15)
    if not is_number(minutes) or not 0 < minutes * 60 <= MAX_SESSION_S:
        found.append(bad("console.session_minutes", minutes, Phrase("allowed_minutes", high=f"{MAX_SESSION_S // 60}")))
    for name in ("state_dir", "certificate", "key"):
        if not isinstance(table.get(name, ""), str):
            found.append(bad(f"console.{name}", table[name], Phrase("allowed_text")))
    if found:
        return found
    if bool(table.get("certificate")) != bool(table.get("key")):
        found.append(ConfigError.text("config_console_pair", key="console.certificate"))
    elif address is not None and not is_loopback(address[0]) and not table.get("certificate"):
        found.append(ConfigError.text("config_console_tls", key="console.listen",
                                      value=shown("console.listen", table["listen"])))
    return found


def problems(config: Any, keys: tuple[str, ...] | None = None) -> list[ConfigError]:
    """Every rule ``config`` breaks among ``keys`` (all keys when None), in the order of the file."""
    wanted = set(keys) if keys is not None else None

    def asked(key: str) -> bool:
        return wanted is None or key in wanted

    found: list[ConfigError | None] = []
    for key in ("scanner", "screen", "indicators", "outbox"):
        if asked(key):
            found.append(_url(key, getattr(config, key)))
    if asked("service"):
        found.append(ConfigError.text("no_service") if config.service == "" else _url("service", config.service))
    if asked("mode") and config.mode not in MODES:
        found.append(bad("mode", config.mode, Phrase("allowed_choice", choices=", ".join(MODES))))
    if asked("role") and config.role not in ("", *ROLES):  # issue 17
        found.append(bad("role", config.role, Phrase("allowed_choice", choices=", ".join(ROLES))))
    if asked("short_expiry_days") and (not isinstance(config.short_expiry_days, int) or isinstance(
            config.short_expiry_days, bool) or not 0 <= config.short_expiry_days <= MAX_SHORT_EXPIRY_DAYS):
        found.append(bad("short_expiry_days", config.short_expiry_days,
                         Phrase("allowed_days", high=MAX_SHORT_EXPIRY_DAYS)))
    if asked("usb_notes") and (not isinstance(config.usb_notes, str) or (
            config.usb_notes and not PurePosixPath(config.usb_notes).is_absolute())):
        found.append(bad("usb_notes", config.usb_notes, Phrase("allowed_mount")))
    if asked("lang") and config.lang not in LANGUAGES:
        found.append(bad("lang", config.lang, Phrase("allowed_choice", choices=", ".join(LANGUAGES))))
    for key, (low, high) in SECONDS.items():
        if asked(key):
            found.append(_number(key, getattr(config, key), low, high))
    for key in TEXT_KEYS:
        if asked(key) and not isinstance(getattr(config, key), str):
            found.append(bad(key, getattr(config, key), Phrase("allowed_text")))
    result = [problem for problem in found if problem is not None]
    if asked("timeouts"):
        result += _table("service.timeouts", config.timeouts, TIMEOUTS)
    if asked("sync"):
        found_sync = _table("sync", config.sync, _sync_rules(), "allowed_number")
        result += found_sync or _gather(config.sync)
    if asked("ledger") and isinstance(config.ledger, str) and config.ledger:
        result += ledger_keys(config.ledger)
    if asked("console"):
        result += console_problems(config.console)
    return result


def check(config: Any, keys: tuple[str, ...] | None = None) -> Any:
    """Raise the first problem of ``config`` among ``keys`` (``ConfigError``, exit 3); else return it."""
    found = problems(config, keys)
    if found:
        raise found[0]
    return config
