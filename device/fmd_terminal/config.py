"""The terminal's configuration: a TOML file, the settings saved on the terminal, the environment, then
flags (each overrides the one before).

``device/system/fmd-terminal.example.toml`` shows every key. Service credentials come from the file
(``[service] client_id`` / ``client_secret``, or a separate ``secrets_file``) or from the environment
variables ``FMD_CLIENT_ID`` and ``FMD_CLIENT_SECRET``. A file that holds a secret must not be readable
by group or others (mode 0600 or 0400): such a file is refused with the command that fixes it, since
a leaked secret lets anyone decommission packs in the pharmacy's name. The settings a person saves in
the web console (mode, language, scanner, indicators) are read from the terminal's state folder after
the file (``settings_file``): the service never writes the configuration file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from fmd_core.modes import DEFAULT_MODE
from fmd_terminal.errors import ConfigError
from fmd_terminal.i18n import DEFAULT_LANGUAGE

# Flags of ``fmd-terminal run`` that override a key of the same name.
OVERRIDABLE = ("scanner", "screen", "indicators", "service", "outbox", "mode", "lang", "events_jsonl")


@dataclass(frozen=True)
class Config:
    scanner: str = "stdin://"
    screen: str = "console://"
    indicators: str = "none://"
    button: str = ""  # optional mode button, e.g. "gpio://?pin=5&pin_factory=mock"
    service: str = ""
    outbox: str = "memory://"
    mode: str = DEFAULT_MODE
    role: str = ""  # counter | reception | pui_dock (issue 17); "" keeps every mode
    short_expiry_days: int = 0  # receiving: a pack expiring sooner is flagged (0: never)
    notes_dir: str = ""  # receiving: where a scanned delivery note's file is looked up
    receipts_dir: str = ""  # receiving: where the summary's CSV and PDF are written at closing
    usb_notes: str = "/media/fmd-usb"  # receiving: where a USB stick of delivery notes is mounted ("": none)
    lang: str = DEFAULT_LANGUAGE
    events_jsonl: str = ""
    ledger: str = ""  # the site ledger and health, e.g. "mqtts://127.0.0.1:8883?site=...&device=..." (README)
    duplicate_window_s: float = 10.0
    result_hold_s: float = 15.0
    live_deadline_s: float = 3.0  # OFFLINE-QUEUE.md 5.1 step 6: "CHECKING" for up to 3 s
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    client_cert: str = ""
    client_key: str = ""  # a PEM file, or a key in a token: an RFC 7512 ``pkcs11:`` URI
    client_key_pin: str = field(default="", repr=False)  # the token's PIN, from the secrets file only
    ca_bundle: str = ""
    timeouts: Mapping[str, float] = field(default_factory=dict)
    sync: Mapping[str, float] = field(default_factory=dict)  # SyncSettings overrides ([sync] table)
    enrolment_dir: str = ""  # where ``fmd-terminal enrol`` writes the credentials (issue 14); relative to the file
    console: Mapping[str, Any] = field(default_factory=dict)  # the web console ([console] table, fmd_terminal.console)
    source: str = ""  # the file read, for messages
    settings_file: str = ""  # where the console's settings are saved and read (``settings_file``)
    from_settings: Mapping[str, Any] = field(default_factory=dict)  # key -> the file's value it replaced
    settings_problem: ConfigError | None = field(default=None, compare=False, repr=False)  # why it was ignored

    def validate(self, keys: tuple[str, ...] | None = None) -> Config:
        """Every key's type, range and allowed values (``config_rules``); raises the first problem."""
        from fmd_terminal.config_rules import check

        return check(self, keys)


def check_private(path: Path) -> None:
    """Refuse a file holding a secret that group or others can read."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError.text("config_secret_readable", path=path, mode=f"{stat.S_IMODE(mode):04o}")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError.text("config_unreadable", path=repr(str(path)), why=error.strerror) from error
    except UnicodeDecodeError as error:
        raise ConfigError.text("not_utf8", path=str(path), position=error.start + 1) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError.text("config_not_toml", path=repr(str(path)), why=error) from error


_TOP_KEYS = {f.name for f in fields(Config)} - {"service", "sync", "console", "client_id", "client_secret", "client_cert",
                                                  "client_key", "client_key_pin", "ca_bundle", "timeouts", "source",
                                                  "settings_file", "from_settings", "settings_problem"}
_SERVICE_KEYS = {"url", "client_id", "client_secret", "client_cert", "client_key", "ca_bundle", "timeouts",
                 "secrets_file"}


def _from_mapping(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    from fmd_terminal.config_rules import bad
    from fmd_terminal.outbox.texts import Phrase

    for key, value in data.items():
        if key in ("sync", "console"):
            values[key] = dict(value) if isinstance(value, Mapping) else value  # checked by validate()
            continue
        if key == "service":
            continue
        if key not in _TOP_KEYS:
            raise ConfigError.text("config_unknown_key", source=str(path), key=repr(key),
                                   known=", ".join(sorted(_TOP_KEYS | {"service", "sync", "console"})))
        values[key] = value
    service = data.get("service", {})
    if isinstance(service, str):
        service = {"url": service}
    if not isinstance(service, Mapping):
        raise bad("service", service, Phrase("allowed_table", keys=", ".join(sorted(_SERVICE_KEYS))))
    for key in service:
        if key not in _SERVICE_KEYS:
            raise ConfigError.text("config_unknown_key", source=str(path), key=repr(f"service.{key}"),
                                   known=", ".join(sorted(_SERVICE_KEYS)))
    if not isinstance(service.get("secrets_file", ""), str):
        raise bad("service.secrets_file", service["secrets_file"], Phrase("allowed_text"))
    if "url" in service:
        values["service"] = service["url"]
    for key in ("client_id", "client_cert", "client_key", "ca_bundle", "timeouts"):
        if key in service:
            values[key] = service[key]
    if service.get("client_secret"):
        check_private(path)
        values["client_secret"] = service["client_secret"]
    if service.get("secrets_file"):
        secrets_path = (path.parent / service["secrets_file"]).resolve()
        secrets = read_toml(secrets_path)
        check_private(secrets_path)
        for key in ("client_id", "client_secret", "client_key_pin"):
            if secrets.get(key):
                values[key] = secrets[key]
    return values


def load(path: str | None = None, *, environ: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None) -> Config:
    """File, then its settings file (``settings_file.apply``), then ``FMD_CLIENT_ID`` /
    ``FMD_CLIENT_SECRET``, then ``overrides`` (flags; None = not given)."""
    env = os.environ if environ is None else environ
    config = Config()
    if path:
        file_path = Path(path)
        try:
            config = replace(config, source=str(file_path), **_from_mapping(read_toml(file_path), file_path))
        except TypeError as error:
            raise ConfigError.text("config_shape", path=file_path, why=error) from error
        from fmd_terminal import settings_file

        config = settings_file.apply(config, env)
    if env.get("FMD_CLIENT_ID"):
        config = replace(config, client_id=env["FMD_CLIENT_ID"])
    if env.get("FMD_CLIENT_SECRET"):
        config = replace(config, client_secret=env["FMD_CLIENT_SECRET"])
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    kept = {key: value for key, value in config.from_settings.items() if key not in given}  # a flag wins
    return with_enrolment(replace(config, **given, from_settings=kept))


def enrolment_path(config: Config) -> Path | None:
    """The enrolment directory, relative paths taken from the configuration file's directory."""
    if not config.enrolment_dir:
        return None
    base = Path(config.source).parent if config.source else Path.cwd()
    return (base / config.enrolment_dir).resolve()


def with_enrolment(config: Config) -> Config:
    """Service settings an enrolment wrote (``<enrolment_dir>/service.toml``) fill what the file left empty."""
    directory = enrolment_path(config)
    written = directory / "service.toml" if directory else None
    if written is None or not written.exists():
        return config
    values = _from_mapping(read_toml(written), written)
    return replace(config, **{key: value for key, value in values.items() if not getattr(config, key)})
