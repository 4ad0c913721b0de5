"""``fmd-provision new-device``: a device bundle, the files one terminal needs for its identity.

A bundle is a directory (mode 0700) holding:

- ``fmd-terminal.toml``: the terminal's configuration (keys of ``fmd_terminal.config``, see
  ``device/system/fmd-terminal.example.toml``), pointing at the installed paths in ``etc/fmd-terminal``;
- ``device.key``: the terminal's private key, an ECDSA P-256 key generated here (mode 0600, never
  logged, never printed), or an imported key, refused unless it is mode 0600 already;
- ``device.csr``: a certificate signing request for the national system's or the pharmacy's CA
  (subject CN = device id), or ``device.crt`` when a signed certificate is imported with its key;
- ``ca.crt`` (optional): the CA that signs the verification service's TLS certificate;
- ``secrets.toml`` (optional, 0600): ``client_id`` and ``client_secret`` for the service's login.

The bundle is built in a temporary directory beside the target and renamed into place, so a failure
leaves nothing behind (issue 7, "Bad input"). ``install.sh`` copies it to ``etc/fmd-terminal`` with
the key readable by the service user only.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from fmd_provision.errors import InputError, TargetError
from fmd_provision.files import PRIVATE, PUBLIC, read_input_file, read_private_key_file, write_directory

INSTALLED_DIR = "/etc/fmd-terminal"
STATE_DIR = "/var/lib/fmd-terminal"
CONFIG_NAME = "fmd-terminal.toml"
KEY_NAME = "device.key"
CSR_NAME = "device.csr"
CERT_NAME = "device.crt"
CA_NAME = "ca.crt"
SECRETS_NAME = "secrets.toml"

# Device URLs of the reference build (hardware/README.md); each may be overridden by a flag.
# Scanner set to the US keyboard country (SCANNERS-AND-HARDWARE.md 1.2: the policy for every scanner).
DEFAULT_DEVICES = {
    "scanner": "evdev:///dev/input/fmd-scanner?layout=us",
    "screen": "ssd1306://i2c/1/0x3c",
    "indicators": "gpio://?green=17&amber=27&red=22&buzzer=18&active_high=1",
    "outbox": "sqlite://" + STATE_DIR + "/outbox.db",
}


def _toml_string(value: str) -> str:
    """A TOML basic string (TOML 1.0, "Basic strings"): backslash, quote and controls escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def render_config(
    device_id: str,
    service_url: str,
    lang: str,
    devices: dict[str, str],
    has_ca: bool,
    has_secrets: bool,
) -> str:
    """The ``fmd-terminal.toml`` text of a bundle (keys of ``fmd_terminal.config``).

    ``client_cert`` is always named: with a CSR, the signed certificate is saved as ``device.crt``
    in the bundle before it is installed.
    """
    lines = [
        f"# FMD scan terminal {device_id}: written by fmd-provision new-device.",
        f"lang = {_toml_string(lang)}",
    ]
    for key in ("scanner", "screen", "indicators", "outbox"):
        lines.append(f"{key} = {_toml_string(devices[key])}")
    lines += ["", "[service]", f"url = {_toml_string(service_url)}"]
    if has_secrets:
        lines.append(f"secrets_file = {_toml_string(SECRETS_NAME)}")
    else:
        lines.append(f"client_id = {_toml_string(device_id)}")
    lines.append(f"client_key = {_toml_string(INSTALLED_DIR + '/' + KEY_NAME)}")
    lines.append(f"client_cert = {_toml_string(INSTALLED_DIR + '/' + CERT_NAME)}")
    if has_ca:
        lines.append(f"ca_bundle = {_toml_string(INSTALLED_DIR + '/' + CA_NAME)}")
    return "\n".join(lines) + "\n"


def _check_device_id(device_id: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    if not device_id or len(device_id) > 64 or not set(device_id) <= allowed:
        raise InputError(
            f"device id {device_id!r} is not usable: expected 1 to 64 letters, digits, '-', '_' or '.'"
        )


# Service URL schemes the terminal opens (fmd_terminal.verification.factory): REST and the SOAP blueprint.
TLS_SCHEMES = ("https", "nmvs-soap+https")


def check_service_url(url: str) -> None:
    """``https://HOST/...`` (REST) or ``nmvs-soap+https://HOST/...`` (France MVS and the other SOAP
    blueprint systems, as the README gives it); ``http://`` only to a loopback address (a simulator on
    this machine), since the terminal's secret would otherwise cross the network in clear."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    scheme = parts.scheme.lower() if parts else ""
    if scheme in TLS_SCHEMES and host:
        return
    if scheme == "http" and host and _is_loopback(host):
        return
    if scheme in ("http", "nmvs-soap+http") and host:
        raise InputError(f"service URL {url!r} is plain http:// to {host}: the terminal's secret would cross the "
                         "network in clear; use https:// (http:// only to 127.0.0.1 or ::1, for a simulator)")
    raise InputError(f"service URL {url!r} is not usable: expected https://HOST/... or nmvs-soap+https://HOST/... "
                     "(France MVS), or http://127.0.0.1:PORT for a local simulator")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def generate_key_and_csr(device_id: str, organization: str, country: str) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key (PKCS#8 PEM) and a CSR for it, subject CN=device id (RFC 2986)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, device_id)]
    if organization:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if country:
        names.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def check_imported_pair(cert_pem: bytes, key_pem: bytes, cert_path: Path, key_path: Path) -> None:
    """Refuse a certificate and key that cannot be read or do not belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise InputError(f"certificate {str(cert_path)!r} is not a PEM X.509 certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise InputError(
            f"key file {str(key_path)!r} is not an unencrypted PEM private key"
        ) from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if cert.public_key().public_bytes(encoding, public) != key.public_key().public_bytes(encoding, public):
        raise InputError(f"certificate {str(cert_path)!r} does not belong to key {str(key_path)!r}")


def _read_secrets(path: Path) -> bytes:
    data = read_private_key_file(path, "secrets file")
    try:
        secrets = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"secrets file {str(path)!r} is not valid TOML: {error}") from None
    missing = [key for key in ("client_id", "client_secret") if not secrets.get(key)]
    if missing:
        raise InputError(f"secrets file {str(path)!r} lacks {' and '.join(missing)}")
    return data


def new_device(
    out: Path,
    device_id: str,
    service_url: str,
    *,
    lang: str = "fr",
    organization: str = "",
    country: str = "",
    cert: Path | None = None,
    key: Path | None = None,
    ca: Path | None = None,
    secrets: Path | None = None,
    devices: dict[str, str] | None = None,
    force: bool = False,
) -> list[str]:
    """Write the bundle to ``out``; return the names of the files written."""
    _check_device_id(device_id)
    check_service_url(service_url)
    if (cert is None) != (key is None):
        raise InputError("--cert and --key go together: give both to import a certificate, or neither")
    out = Path(out)
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise TargetError(f"{str(out)!r} already exists and is not empty (use --force to replace it)")
    chosen = dict(DEFAULT_DEVICES)
    chosen.update({name: url for name, url in (devices or {}).items() if url})

    files: dict[str, tuple[bytes, int]] = {}
    if cert is not None and key is not None:
        key_pem = read_private_key_file(key)
        cert_pem = read_input_file(cert, "certificate")
        check_imported_pair(cert_pem, key_pem, cert, key)
        files[CERT_NAME] = (cert_pem, PUBLIC)
    else:
        key_pem, csr_pem = generate_key_and_csr(device_id, organization, country)
        files[CSR_NAME] = (csr_pem, PUBLIC)
    files[KEY_NAME] = (key_pem, PRIVATE)
    if ca is not None:
        files[CA_NAME] = (read_input_file(ca, "CA certificate"), PUBLIC)
    if secrets is not None:
        files[SECRETS_NAME] = (_read_secrets(secrets), PRIVATE)
    config = render_config(
        device_id, service_url, lang, chosen, ca is not None, secrets is not None
    )
    files[CONFIG_NAME] = (config.encode("utf-8"), PUBLIC)
    write_directory(out, dict(files))
    return sorted(files)


def read_bundle(path: Path) -> dict[str, tuple[bytes, int]]:
    """The files of a bundle with the mode each must keep; refuse a bundle without config or key."""
    path = Path(path)
    if not (path / CONFIG_NAME).is_file():
        raise InputError(f"{str(path)!r} is not a device bundle: {CONFIG_NAME} is missing")
    files = {CONFIG_NAME: (read_input_file(path / CONFIG_NAME, "configuration"), PUBLIC)}
    files[KEY_NAME] = (read_private_key_file(path / KEY_NAME), PRIVATE)
    for name, mode in ((CERT_NAME, PUBLIC), (CSR_NAME, PUBLIC), (CA_NAME, PUBLIC), (SECRETS_NAME, PRIVATE)):
        if (path / name).is_file():
            if mode == PRIVATE:
                files[name] = (read_private_key_file(path / name, "bundle file"), mode)
            else:
                files[name] = (read_input_file(path / name, "bundle file"), mode)
    return files
