"""``fmd-provision new-device``: the command-line side of ``fmd_provision.bundle``."""

from __future__ import annotations

import argparse
from pathlib import Path

from fmd_provision import bundle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="bundle directory to create")
    parser.add_argument("--device-id", required=True, help="terminal id: certificate CN and client id")
    parser.add_argument("--service", required=True, help="verification service URL (https://...)")
    parser.add_argument("--lang", default="fr", choices=("fr", "en", "de"), help="screen language")
    parser.add_argument("--organization", default="", help="pharmacy name for the CSR subject (O=)")
    parser.add_argument("--country", default="", help="two-letter country for the CSR subject (C=)")
    parser.add_argument("--cert", type=Path, help="import this signed certificate (PEM) instead of a CSR")
    parser.add_argument("--key", type=Path, help="the imported certificate's private key (PEM, mode 0600)")
    parser.add_argument("--ca", type=Path, help="CA certificate of the verification service (PEM)")
    parser.add_argument("--secrets", type=Path, help="TOML file (mode 0600) with client_id and client_secret")
    for name, url in bundle.DEFAULT_DEVICES.items():
        parser.add_argument(f"--{name}", default="", help=f"{name} URL (default {url})")
    parser.add_argument("--force", action="store_true", help="replace an existing bundle")


def execute(args: argparse.Namespace) -> int:
    if args.country and (len(args.country) != 2 or not args.country.isalpha()):
        from fmd_provision.errors import InputError

        raise InputError(f"country {args.country!r} must be two letters (ISO 3166-1), e.g. FR")
    written = bundle.new_device(
        args.out,
        args.device_id,
        args.service,
        lang=args.lang,
        organization=args.organization,
        country=args.country.upper(),
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        secrets=args.secrets,
        devices={name: getattr(args, name) for name in bundle.DEFAULT_DEVICES},
        force=args.force,
    )
    print(f"{args.out}: {', '.join(written)}")
    if bundle.CSR_NAME in written:
        print(f"next: have {args.out / bundle.CSR_NAME} signed, save the certificate as {args.out / bundle.CERT_NAME}")
    return 0
