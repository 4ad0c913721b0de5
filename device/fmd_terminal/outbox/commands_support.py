"""What the outbox commands (``sync``, ``attention``, ``export``) share: options, opening, language.

The outbox URL and the service come from the same configuration as ``fmd-terminal run``
(``--config``, then the environment, then flags), so the commands work on the running terminal's
database without repeating its settings. ``--lang`` (else ``FMD_LANG``, else French) chooses the
language of what they print for a person (``outbox.texts``).
"""

from __future__ import annotations

import argparse
from typing import Any

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
    return config.load(getattr(args, "config", None), overrides=overrides)


def open_configured_outbox(args: argparse.Namespace) -> Any:
    from fmd_terminal.outbox.factory import open_outbox

    return open_outbox(load_config(args).outbox)
