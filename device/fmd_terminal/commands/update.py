"""``fmd-terminal update BUNDLE``: install a signed release bundle, switch once its doctor passes.

Run as root on the terminal (``sudo fmd-terminal update fmd-terminal-1.2.0.tar --restart``). The
bundle's signature is checked with ``/etc/fmd-terminal/release.pub``; an older version than the
running one is refused; the new release gets its own environment and runs ``fmd-terminal doctor``
with the terminal's configuration before ``/opt/fmd-terminal/venv`` is switched to it
(``fmd_terminal.update``). ``--rollback`` switches back to the release the last update replaced.
Exit code 0 when switched, 3 when the bundle is refused or the install failed (the old version
keeps running).
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PREFIX = Path("/opt/fmd-terminal")
DEFAULT_KEY = Path("/etc/fmd-terminal/release.pub")
DEFAULT_CONFIG = Path("/etc/fmd-terminal/fmd-terminal.toml")
SERVICE = "fmd-terminal.service"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", nargs="?", type=Path, help="the release bundle (fmd-terminal-VERSION.tar)")
    parser.add_argument("--rollback", action="store_true", help="switch back to the previous release")
    parser.add_argument("--prefix", type=Path, default=DEFAULT_PREFIX, help=f"install prefix (default {DEFAULT_PREFIX})")
    parser.add_argument("--key", type=Path, default=DEFAULT_KEY, help=f"release public key (default {DEFAULT_KEY})")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help=f"configuration the new release's doctor checks (default {DEFAULT_CONFIG})")
    parser.add_argument("--python", default="python3", help="interpreter the new environment is made from")
    parser.add_argument("--restart", action="store_true", help=f"restart {SERVICE} after the switch")


def _restart() -> None:
    import subprocess

    from fmd_terminal.errors import UpdateError

    result = subprocess.run(["systemctl", "restart", SERVICE], capture_output=True, text=True)
    if result.returncode != 0:
        raise UpdateError.text("update_restart", service=SERVICE, why=result.stderr.strip())


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal import update
    from fmd_terminal.errors import ConfigError
    from fmd_terminal.outbox.texts import Texts

    texts = Texts()  # FMD_LANG, else French (update has no --lang)

    if args.rollback:
        version = update.rollback(args.prefix)
        print(texts("update_back", version=version))
    else:
        if args.bundle is None:
            raise ConfigError.text("update_needs")
        try:
            key = args.key.read_bytes()
        except OSError as error:
            raise ConfigError.text("update_key_unreadable", path=repr(str(args.key)), why=error.strerror) from None
        version = update.apply_update(
            args.bundle, prefix=args.prefix, public_key_pem=key, python=args.python,
            doctor=["fmd-terminal", "doctor", "--config", str(args.config)],
        )
        print(texts("update_switched", version=version))
    if args.restart:
        _restart()
    return 0
