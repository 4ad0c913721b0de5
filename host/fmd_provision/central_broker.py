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
from fmd_provision.site_broker import central_files, load_ca


def write_central(out: Path, sites: list[str], port: int, **options) -> Path:
    """Write (or rewrite, keeping its CA) a central broker's directory; returns ``out``."""
    out = Path(out)
    ca = load_ca(out) if (out / "ca.key").exists() else None
    write_directory(out, central_files(sites, port, out=out, ca=ca, **options))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", action="append", required=True, dest="sites",
                        help="a site whose bridge may write its health (repeat for each site)")
    parser.add_argument("--reader", action="append", default=[], dest="readers",
                        help="an identity that may read every site's health (fmd-fleet)")
    parser.add_argument("--port", type=int, default=8883, help="the broker's TLS port (default 8883)")
    parser.add_argument("--bind", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--run-as", default="mosquitto", help="the user the broker runs as (default mosquitto)")
    parser.add_argument("--out", type=Path, required=True, help="the directory to write (its CA is kept)")


def execute(args: argparse.Namespace) -> int:
    out = write_central(args.out, args.sites, args.port, bind=args.bind, readers=args.readers, run_as=args.run_as)
    print(f"central broker: {out / 'mosquitto.conf'} ({len(args.sites)} sites)")
    return 0
