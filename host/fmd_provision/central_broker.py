"""``fmd-provision central-broker``: the central broker the site brokers bridge their health to.

It writes a Mosquitto directory like a site broker's (README, "Fleet health"): its own CA, the
broker's certificate, the readers' certificates (``fmd-fleet``), and an ACL that lets each site's
bridge (``bridge-<site>``, whose certificate ``fmd-provision site-broker --central-dir`` issues from
this CA) write its own site's health and nothing else; readers read every site's health. Run it again
with the full ``--site`` list to add a site: an existing directory keeps its CA, so the bridges'
certificates stay valid.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fmd_provision.files import write_directory
from fmd_provision.site_broker import broker_arguments, central_files, load_ca


def write_central(out: Path, sites: list[str], port: int, **options) -> Path:
    """Write (or rewrite, keeping its CA) a central broker's directory; returns ``out``."""
    out = Path(out)
    ca = load_ca(out) if (out / "ca.key").exists() else None
    write_directory(out, central_files(sites, port, out=out, ca=ca, **options))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", action="append", required=True, dest="sites",
                        help="a site whose bridge may write its health (repeat for each site)")
    broker_arguments(parser, "an identity that may read every site's health (fmd-fleet)")
    parser.add_argument("--out", type=Path, required=True, help="the directory to write (its CA is kept)")


def execute(args: argparse.Namespace) -> int:
    out = write_central(args.out, args.sites, args.port, bind=args.bind, readers=args.readers, run_as=args.run_as)
    print(f"central broker: {out / 'mosquitto.conf'} ({len(args.sites)} sites)")
    return 0
