"""What the outbox commands (``sync``, ``attention``, ``export``, ``backup``) share: options, opening, language.

The outbox URL and the service come from the same configuration as ``fmd-terminal run``
(``--config``, then the environment, then flags), so the commands work on the running terminal's
database without repeating its settings. ``--lang`` (else ``FMD_LANG``, else French) chooses the
language of what they print for a person (``outbox.texts``).

Beside a running terminal (OFFLINE-QUEUE.md 2.1: the terminal's process owns the outbox):
``attention``, ``export`` and ``backup`` open it attached (``open_configured_outbox``), so they never
run the start-up transitions (#9 would make the terminal's in-flight ops ``uncertain``); ``sync``
refuses (``refuse_beside_terminal``), since a second sync worker would break "at most one request
per pack in flight" (section 6.1).
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import unquote, urlsplit

from fmd_terminal.i18n import LANGUAGES
from fmd_terminal.outbox.texts import LANG_HELP, Texts


def add_outbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (as for run)")
    parser.add_argument("--outbox", metavar="URL", help="sqlite://PATH (default: the configuration's)")
    parser.add_argument("--lang", choices=LANGUAGES, help=LANG_HELP)


def texts_of(args: argparse.Namespace) -> Texts:
    """The texts for a person in the language ``--lang`` / ``FMD_LANG`` / French chose."""
    return Texts(getattr(args, "lang", None))


def load_config(args: argparse.Namespace, **extra: Any) -> Any:
    from fmd_terminal import config

    overrides = {"outbox": getattr(args, "outbox", None)}
    overrides.update(extra)
    # the keys every outbox command uses are checked as run checks them (config_rules)
    return config.load(getattr(args, "config", None), overrides=overrides).validate(("outbox",))


def open_configured_outbox(args: argparse.Namespace, copy_dir: str | None = None) -> Any:
    """The configured outbox, attached: it must exist, and no start-up transition runs.

    ``copy_dir``: for a command that only reads, where a scratch copy goes when the outbox cannot be
    opened in place (a full disk: ``outbox.sqlite.open_sqlite_outbox``; ``""`` the temporary
    directory), e.g. the directory an export or a backup is written to. None: no copy.
    """
    from fmd_terminal.outbox.factory import open_outbox

    return open_outbox(load_config(args).outbox, attach=True, copy_dir=copy_dir)


def directory_of(target: str | None) -> str:
    """The directory a command writes ``target`` into ("" for standard output or nothing: the temporary one)."""
    import os

    if not target or target == "-":
        return ""
    return os.path.dirname(os.path.abspath(target))


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite://`` outbox URL, else None (``memory://`` and other schemes)."""
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    return path if parts.scheme == "sqlite" and path else None


def refuse_beside_terminal(url: str, texts: Texts, reason: str = "sync_beside") -> None:
    """Raise ``ConfigError`` (exit 3) when another connection has the outbox at ``url`` open.

    Two sync workers on one outbox (two terminals, or a terminal and ``sync``) would break "at most
    one request per pack in flight" (OFFLINE-QUEUE.md 6.1). ``reason`` names the text shown.

    The probe (``outbox.backup.terminal_has_open``) asks SQLite for an exclusive lock and changes
    nothing; a terminal started after it is not seen (the window is the time to open the outbox).
    """
    from fmd_terminal.errors import ConfigError
    from fmd_terminal.outbox.backup import terminal_has_open

    path = sqlite_path(url)
    if path is not None and terminal_has_open(path):
        raise ConfigError(texts(reason, path=path))
