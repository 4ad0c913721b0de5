"""What the outbox commands (``sync``, ``attention``, ``export``) share: options and opening.

The outbox URL and the service come from the same configuration as ``fmd-terminal run``
(``--config``, then the environment, then flags), so the commands work on the running terminal's
database without repeating its settings.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_outbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (as for run)")
    parser.add_argument("--outbox", metavar="URL", help="sqlite://PATH (default: the configuration's)")


def load_config(args: argparse.Namespace, **extra: Any) -> Any:
    from fmd_terminal import config

    overrides = {"outbox": getattr(args, "outbox", None)}
    overrides.update(extra)
    return config.load(getattr(args, "config", None), overrides=overrides)


def open_configured_outbox(args: argparse.Namespace) -> Any:
    from fmd_terminal.outbox.factory import open_outbox

    return open_outbox(load_config(args).outbox)
