"""``fmd-provision site-broker``: a site's Mosquitto configuration, its ACL and its devices' certificates.

The site ledger and fleet health (README, "One site, many terminals") run on a Mosquitto broker per
site. Every terminal is known to it by a client certificate whose common name is the device id: the
listener requires a certificate (``require_certificate true``) and takes that name as the user name
(``use_identity_as_username true``), so the ACL written here binds each device to its own site:

  user <device>
  topic readwrite fmd/<site>/claim/#      the claims of the site (first echoed claim wins)
  topic readwrite fmd/<site>/ledger/#     the retained ledger of the site
  topic write fmd/<site>/<device>/health  its own health, and its last will

A reader (``fmd-fleet``) may read the site's health and nothing else. With ``--central HOST:PORT`` the
configuration gains a bridge that forwards the site's health (never claims or ledger) to a central
broker (``fmd-provision central-broker``, ``central_files``), under the identity ``bridge-<site>``:
its certificate is issued by the central broker's CA (``--central-dir``, the central's directory) and
written beside the others with that CA (``central-ca.crt``). The central broker trusts its own CA only,
so no site's CA can mint an identity there; its ACL lets ``bridge-<site>`` write that site's health
and nothing else.

Everything listens on the address given (127.0.0.1 unless configured); keys are written 0600.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from fmd_provision.errors import InputError
from fmd_provision.files import PRIVATE, PUBLIC, write_directory

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # MQTT topic level and certificate CN: no / + #
DEVICE_DAYS = 825
CA_DAYS = 3650


def _check_name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise InputError(f"{what} {value!r}: use letters, digits, '-' and '_' only (at most 64)")
    return value


def acl_text(site: str, devices: list[str], readers: Sequence[str] = ()) -> str:
    """The site's ACL (Mosquitto ``acl_file``): each device reaches its own site's topics only."""
    blocks = [f"# site {site}: written by fmd-provision site-broker; regenerate, do not edit"]
    for device in devices:
        blocks.append(f"user {device}\n"
                      f"topic readwrite fmd/{site}/claim/#\n"
                      f"topic readwrite fmd/{site}/ledger/#\n"
                      f"topic write fmd/{site}/{device}/health")
    for reader in readers:
        blocks.append(f"user {reader}\ntopic read fmd/{site}/+/health")
    return "\n\n".join(blocks) + "\n"


def central_acl_text(sites: list[str], readers: Sequence[str] = ()) -> str:
    """A central broker's ACL: each site's bridge writes its own site's health; readers read all."""
    blocks = [f"user bridge-{site}\ntopic write fmd/{site}/+/health" for site in sites]
    blocks += [f"user {reader}\ntopic read fmd/+/+/health" for reader in readers]
    return "\n\n".join(blocks) + "\n"


def broker_conf(directory: Path, port: int, bind: str = "127.0.0.1", acl: str = "acl",
                central: str | None = None, site: str | None = None, run_as: str = "mosquitto") -> str:
    """``mosquitto.conf`` for a TLS listener with client certificates and ``acl``; optional bridge.

    ``run_as``: the user Mosquitto drops to when started as root (it must be able to read the keys)."""
    d = Path(directory).resolve()
    text = (f"# written by fmd-provision site-broker\nper_listener_settings false\nallow_anonymous false\n"
            f"user {run_as}\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n"
            f"max_inflight_messages 1000\nmax_queued_messages 100000\n"
            f"listener {int(port)} {bind}\nprotocol mqtt\ncafile {d / 'ca.crt'}\n"
            f"certfile {d / 'broker.crt'}\nkeyfile {d / 'broker.key'}\nrequire_certificate true\n"
            f"use_identity_as_username true\nacl_file {d / acl}\n")
    if central:
        host, _, remote_port = central.rpartition(":")
        text += (f"\nconnection central-{site}\naddress {host}:{int(remote_port)}\n"
                 f"remote_clientid bridge-{site}\ncleansession false\n"
                 f"topic fmd/{site}/+/health out 1\n"
                 f"bridge_cafile {d / 'central-ca.crt'}\nbridge_certfile {d / 'devices' / f'bridge-{site}.crt'}\n"
                 f"bridge_keyfile {d / 'devices' / f'bridge-{site}.key'}\nbridge_insecure false\n")
    return text


class SiteCA:
    """A site's certificate authority (cryptography), issuing the broker's and the devices' certificates."""

    def __init__(self, name: str, key_pem: bytes | None = None, cert_pem: bytes | None = None) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._x509, self._hashes, self._ser, self._ec, self._oid = x509, hashes, serialization, ec, NameOID
        if key_pem and cert_pem:
            self.key = serialization.load_pem_private_key(key_pem, None)
            self.cert = x509.load_pem_x509_certificate(cert_pem)
            return
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"FMD site CA {name}")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .sign(self.key, hashes.SHA256()))

    def pem(self) -> tuple[bytes, bytes]:
        """(certificate, private key) of the CA, PEM."""
        return self.cert.public_bytes(self._ser.Encoding.PEM), self._key_pem(self.key)

    def _key_pem(self, key) -> bytes:
        return key.private_bytes(self._ser.Encoding.PEM, self._ser.PrivateFormat.PKCS8,
                                 self._ser.NoEncryption())

    def issue(self, common_name: str, server_names: tuple[str, ...] = (), days: int = DEVICE_DAYS) -> tuple[bytes, bytes]:
        """A leaf certificate for ``common_name`` (client; also server for ``server_names``): (cert, key) PEM."""
        x509, oid = self._x509, self._x509.oid.ExtendedKeyUsageOID
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(self._oid.COMMON_NAME, common_name)]))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([oid.CLIENT_AUTH, oid.SERVER_AUTH] if server_names
                                                        else [oid.CLIENT_AUTH]), critical=False))
        if server_names:
            alt: list = []
            for name in server_names:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(name)))
                except ValueError:
                    alt.append(x509.DNSName(name))
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(self.key, self._hashes.SHA256())
        return cert.public_bytes(self._ser.Encoding.PEM), self._key_pem(key)


def load_ca(directory: Path) -> SiteCA:
    """The CA of a broker directory written before (its ``ca.crt`` and ``ca.key``)."""
    directory = Path(directory)
    try:
        return SiteCA(directory.name, (directory / "ca.key").read_bytes(), (directory / "ca.crt").read_bytes())
    except OSError as error:
        raise InputError(f"{directory}: no broker CA there (ca.crt, ca.key): {error.strerror}") from None


def _leaf(files: dict[str, tuple[bytes, int | None]], ca: SiteCA, name: str) -> None:
    cert, key = ca.issue(name)
    files[f"devices/{name}.crt"] = (cert, PUBLIC)
    files[f"devices/{name}.key"] = (key, PRIVATE)


def _broker_files(ca: SiteCA, name: str, bind: str) -> dict[str, tuple[bytes, int | None]]:
    ca_cert, ca_key = ca.pem()
    broker_cert, broker_key = ca.issue(name, server_names=("localhost", bind))
    return {"ca.crt": (ca_cert, PUBLIC), "ca.key": (ca_key, PRIVATE),
            "broker.crt": (broker_cert, PUBLIC), "broker.key": (broker_key, PRIVATE)}


def central_files(sites: list[str], port: int, *, bind: str = "127.0.0.1", readers: Sequence[str] = (),
                  out: Path, ca: SiteCA | None = None, run_as: str = "mosquitto") -> dict[str, tuple[bytes, int | None]]:
    """Every file of a central broker's directory: its CA (kept when ``ca`` is given, so the bridges'
    certificates stay valid as sites are added), broker, readers, the ACL of ``sites``' bridges, conf."""
    for name in sites:
        _check_name(name, "site")
    for name in readers:
        _check_name(name, "reader")
    ca = ca or SiteCA("central")
    files = _broker_files(ca, "broker-central", bind)
    files["acl"] = (central_acl_text(list(sites), readers).encode(), PUBLIC)
    files["mosquitto.conf"] = (broker_conf(out, port, bind, run_as=run_as).encode(), PUBLIC)
    for name in readers:
        _leaf(files, ca, name)
    return files


def site_files(site: str, devices: list[str], port: int, *, bind: str = "127.0.0.1",
               readers: Sequence[str] = (), central: str | None = None, out: Path,
               ca: SiteCA | None = None, run_as: str = "mosquitto", more_sites: dict[str, list[str]] | None = None,
               central_ca: SiteCA | None = None) -> dict[str, tuple[bytes, int | None]]:
    """Every file of a site broker's directory, by relative name: CA, broker, devices, ACL, conf.

    ``more_sites``: other sites served by the same broker (a shared broker, the ACL tests).
    ``central_ca``: the central broker's CA (``load_ca``), required with ``central``: it issues the
    bridge's certificate."""
    if central and central_ca is None:
        raise InputError("a bridge to a central broker needs the central broker's directory (--central-dir), "
                         "whose CA issues the bridge's certificate")
    more = dict(more_sites or {})
    for name in [site, *more]:
        _check_name(name, "site")
    for name in [*devices, *readers, *(d for ds in more.values() for d in ds)]:
        _check_name(name, "device")
    ca = ca or SiteCA(site)
    files = _broker_files(ca, f"broker-{site}", bind)
    files.update({
        "site-ledger.key": (secrets.token_hex(32).encode() + b"\n", PRIVATE),  # hashes packs into topics
        "acl": ("\n".join([acl_text(site, devices, readers)] + [acl_text(s, d) for s, d in more.items()]).encode(),
                PUBLIC),
        "mosquitto.conf": (broker_conf(out, port, bind, central=central, site=site, run_as=run_as).encode(), PUBLIC),
    })
    for name in [*devices, *readers, *(d for ds in more.values() for d in ds)]:
        _leaf(files, ca, name)
    if central and central_ca is not None:
        _leaf(files, central_ca, f"bridge-{site}")
        files["central-ca.crt"] = (central_ca.pem()[0], PUBLIC)
    return files


def write_site(out: Path, site: str, devices: list[str], port: int, **options) -> Path:
    """Write a site broker's directory (whole or nothing); returns ``out``."""
    out = Path(out)
    files = site_files(site, devices, port, out=out, **options)
    write_directory(out, files)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help="the site's name (letters, digits, - and _)")
    parser.add_argument("--device", action="append", required=True, dest="devices",
                        help="a terminal's device id (repeat for each counter)")
    broker_arguments(parser, "an identity that may read the site's health (fmd-fleet)")
    parser.add_argument("--central", help="HOST:PORT of a central broker to bridge the site's health to")
    parser.add_argument("--central-dir", type=Path,
                        help="with --central: the central broker's directory (fmd-provision central-broker); "
                             "its CA issues the bridge's certificate")
    parser.add_argument("--out", type=Path, required=True, help="the directory to write")


def broker_arguments(parser: argparse.ArgumentParser, reader_help: str) -> None:
    """The options a site broker and a central broker share: readers, port, address, user."""
    parser.add_argument("--reader", action="append", default=[], dest="readers", help=reader_help)
    parser.add_argument("--port", type=int, default=8883, help="the broker's TLS port (default 8883)")
    parser.add_argument("--bind", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--run-as", default="mosquitto", help="the user the broker runs as (default mosquitto)")


def execute(args: argparse.Namespace) -> int:
    central_ca = load_ca(args.central_dir) if args.central and args.central_dir else None
    out = write_site(args.out, args.site, args.devices, args.port, bind=args.bind, readers=args.readers,
                     central=args.central, run_as=args.run_as, central_ca=central_ca)
    print(f"site broker for {args.site}: {out / 'mosquitto.conf'} ({len(args.devices)} devices)")
    if args.central:
        print(f"bridge to {args.central} as bridge-{args.site}: add {args.site} to the central broker's "
              f"--site list (fmd-provision central-broker)")
    return 0
