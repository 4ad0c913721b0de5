"""``fmd-provision``: from parts on a desk to a fleet of terminals (issue 7).

A table of commands (ARCHITECTURE.md, modelled on mpremote): each lives in ``fmd_provision.<module>``
and exposes ``add_arguments(parser)`` and ``execute(args) -> int``. One ``except`` in ``main`` prints
``fmd-provision: message`` to stderr; no tracebacks for user errors.

Exit codes (documented in the README):
  0  success
  2  usage error (argparse)
  3  bad input: a missing, unreadable or invalid file or value; a key file readable by others
  4  bad target: not FAT, not mounted, not writable, or already there
  5  the Pi cannot be reached over SSH, or the install on it failed
  130 interrupted (Ctrl+C)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

from fmd_provision.errors import ProvisionError

PROG = "fmd-provision"

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "new-device": ("fmd_provision.bundle_command", "write a device bundle: configuration, key, CSR or certificate"),
    "write-boot": ("fmd_provision.boot", "write first-boot settings (cloud-init) onto a boot partition or image"),
    "bundle": ("fmd_provision.release_bundle", "sign a release bundle (wheels, pinned hashes, SBOM) for fmd-terminal update"),
    "deploy": ("fmd_provision.deploy", "install or update the terminal on a running Pi over SSH"),
    "sheet": ("fmd_provision.sheet", "render a printable PDF: test packs, mode barcodes, scanner set-up"),
    "image-config": ("fmd_provision.image_config", "everything to turn a stock Raspberry Pi OS image into a terminal"),
    "site-broker": ("fmd_provision.site_broker", "a site's MQTT broker: configuration, ACL, device certificates, bridge"),
    "central-broker": ("fmd_provision.central_broker", "the central MQTT broker the sites bridge their health to"),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fmd-scan-terminal")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog=PROG, description="Provision FMD scan terminals")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, Any] = {}
    for name, (module_name, text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:  # a command still being built is simply not listed
            if error.name != module_name:
                raise
            continue
        module.add_arguments(sub.add_parser(name, help=text, description=text))
        modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(modules[args.command].execute(args) or 0)
    except KeyboardInterrupt:
        return 130
    except ProvisionError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
