"""The settings a person changes on the terminal itself (issue 15: the web console's settings page).

The configuration file (``/etc/fmd-terminal/fmd-terminal.toml``) is the installer's: the service may
not write it (its unit's ``ProtectSystem=strict``; the file root:fmd 0640 in a root:fmd 0750 folder),
so that nothing the service runs can replace a file beside it, such as the key that checks updates.
What the console saves (mode, language, scanner URL, indicators: ``KEYS``) goes to ``settings.toml``
in the terminal's state folder instead: ``$STATE_DIRECTORY``, which systemd sets from the unit's
``StateDirectory=`` (``/var/lib/fmd-terminal``, also the folder used without it).

``config.load`` reads it after the configuration file, for those four keys only, each checked by the
one validation (``Config.validate``); command-line flags still win over both. A settings file that
cannot be read, is not TOML, names another key, holds a value the validation refuses, or that group
or others may write, is ignored as a whole: the configuration file's values are used, the file is
left as it is, and ``run`` and ``doctor`` say so in one line (``settings_ignored``).

``save`` replaces the file atomically, readable and writable by the terminal's user only (0600): a
temporary file beside it, flushed to disk, renamed over it, then the folder flushed, so a power cut
leaves the old file or the new one, never half of one. The text is parsed back before the rename.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fmd_terminal.config import Config, read_toml
from fmd_terminal.durable import fsync_directory
from fmd_terminal.errors import ConfigError
from fmd_terminal.outbox.texts import Phrase

KEYS = ("mode", "lang", "scanner", "indicators")
DEFAULT_FOLDER = "/var/lib/fmd-terminal"  # the unit's StateDirectory=fmd-terminal
NAME = "settings.toml"
_LOCK = threading.Lock()  # two console requests never write the file at once


def location(environ: Mapping[str, str]) -> Path:
    """``settings.toml`` in ``$STATE_DIRECTORY`` (its first folder), else in ``DEFAULT_FOLDER``."""
    folder = environ.get("STATE_DIRECTORY", "").split(":")[0] or DEFAULT_FOLDER
    return Path(folder) / NAME


def _ignored(path: Path, config: Config, problem: ConfigError) -> ConfigError:
    why = Phrase(problem.text_id, **problem.fields) if problem.text_id else str(problem)
    return ConfigError.text("settings_ignored", path=str(path), main=config.source, why=why)


def read(path: Path, config: Config) -> dict[str, Any]:
    """The settings at ``path``, each checked as ``config`` (the configuration file's) would be; ``{}``
    when there is no such file; ``ConfigError`` (``settings_ignored``) when it cannot be used."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise _ignored(path, config, ConfigError.text("config_unreadable", path=repr(str(path)),
                                                      why=error.strerror)) from error
    try:
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError.text("settings_open", path=str(path), mode=f"{stat.S_IMODE(mode):04o}")
        values = read_toml(path)
        for key in values:
            if key not in KEYS:
                raise ConfigError.text("config_unknown_key", source=str(path), key=repr(key), known=", ".join(KEYS))
        replace(config, **values).validate(tuple(values))
    except ConfigError as problem:
        raise _ignored(path, config, problem) from problem
    return values


def apply(config: Config, environ: Mapping[str, str]) -> Config:
    """``config`` (as its file gives it) with the settings file's values in place of the file's;
    ``from_settings`` names them (each with the file's value it replaces), ``settings_problem`` says
    why the settings file was ignored."""
    path = location(environ)
    try:
        values = read(path, config)
    except ConfigError as problem:
        return replace(config, settings_file=str(path), settings_problem=problem)
    return replace(config, settings_file=str(path), from_settings={key: getattr(config, key) for key in values},
                   **values)


def text_of(values: Mapping[str, str], main: str) -> str:
    """The file's text: a comment saying what it is, then one ``key = "value"`` line per setting (a
    JSON string is a TOML basic string)."""
    lines = [f"# Saved by the terminal's web console: these replace the same keys of {main}.",
             "# Delete this file to go back to that file's values.", ""]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def save(path: str | Path, values: Mapping[str, str], main: str = "") -> None:
    """Write ``values`` (already validated) as the settings file at ``path``, atomically, mode 0600;
    ``ConfigError`` (``config_unsaved``) naming the file when it cannot be written."""
    target = Path(path)
    text = text_of(values, main)
    if tomllib.loads(text) != dict(values):
        raise ConfigError.text("config_unsaved", path=str(target), why="the written text reads otherwise")
    with _LOCK:
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fchmod(out.fileno(), 0o600)
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            fsync_directory(target.parent)
        except OSError as error:
            raise ConfigError.text("config_unsaved", path=str(target), why=error.strerror or str(error)) from error
