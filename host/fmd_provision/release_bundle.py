"""``fmd-provision bundle``: a signed release bundle the terminals install with ``fmd-terminal update``.

    fmd-provision bundle --new-key release.key          # once: release.key (0600) and release.key.pub
    fmd-provision bundle --key release.key --wheels wheels/ --out dist/

``--wheels`` is a directory of wheels: the terminal's own (``fmd_scan_terminal-VERSION-*.whl``, which
gives the bundle its version) and every dependency to install with it, for each platform served
(``pip wheel`` / ``pip download --only-binary=:all: --platform ...`` of the pinned device
requirements). The bundle (``fmd_terminal.release`` describes its format) pins each wheel with its
SHA-256 in ``requirements.txt``, carries the CycloneDX SBOM of the environment the wheels make
(``fmd_provision.sbom``), and signs the manifest of all of it with the Ed25519 release key. The
public key, ``release.key.pub``, goes onto each terminal as ``/etc/fmd-terminal/release.pub``
(``install.sh`` copies it from the device bundle). The private key stays off the terminals.
"""

from __future__ import annotations

import argparse
import io
import re
import tarfile
from pathlib import Path

from fmd_provision.errors import InputError, TargetError
from fmd_provision.files import PRIVATE, PUBLIC, read_input_file, read_private_key_file, write_atomic
from fmd_terminal import release
from fmd_terminal.errors import UpdateError

# PEP 427 wheel file name: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
_WHEEL = re.compile(r"(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl")


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (``Fmd_Scan.Terminal`` -> ``fmd-scan-terminal``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def new_key(path: Path) -> Path:
    """Write a new Ed25519 private key to ``path`` (0600) and its public key beside it; return the latter."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    public = path.with_name(path.name + ".pub")
    for existing in (path, public):
        if existing.exists():
            raise TargetError(f"{str(existing)!r} already exists: a release key is never overwritten")
    key = Ed25519PrivateKey.generate()
    write_atomic(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()), PRIVATE)
    write_atomic(public, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo), PUBLIC)
    return public


def load_private_key(path: Path):  # noqa: ANN201 (cryptography's Ed25519PrivateKey)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = read_private_key_file(path, "release key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError(f"release key {str(path)!r} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"release key {str(path)!r} is not an Ed25519 key (make one with --new-key)")
    return key


def read_wheels(directory: Path) -> dict[str, bytes]:
    """``wheels/NAME.whl`` -> bytes for every wheel in ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"wheel directory {str(directory)!r} does not exist")
    wheels = {f"{release.WHEELS}/{path.name}": read_input_file(path, "wheel")
              for path in sorted(directory.glob("*.whl"))}
    if not wheels:
        raise InputError(f"{str(directory)!r} holds no wheel (*.whl): build them with pip wheel")
    return wheels


def requirements(wheels: dict[str, bytes]) -> tuple[str, bytes]:
    """The project's version and a hash-pinned requirements file naming every wheel (pip's hash mode)."""
    pins: dict[tuple[str, str], list[str]] = {}
    for name, data in wheels.items():
        match = _WHEEL.fullmatch(Path(name).name)
        if match is None:
            raise InputError(f"{Path(name).name!r} is not a wheel file name (PEP 427)")
        key = (canonical_name(match["name"]), match["version"])
        pins.setdefault(key, []).append(release.sha256_hex(data))
    versions = [version for (project, version) in pins if project == release.PROJECT]
    if len(versions) != 1:
        raise InputError(
            f"the wheel directory must hold exactly one version of {release.PROJECT}, found {versions or 'none'}"
        )
    lines = []
    for (project, version), digests in sorted(pins.items()):
        hashes = " ".join(f"--hash=sha256:{digest}" for digest in sorted(set(digests)))
        lines.append(f"{project}=={version} {hashes}")
    return versions[0], ("\n".join(lines) + "\n").encode("ascii")


def build_bundle(key_path: Path, wheel_dir: Path, out: Path, *, with_sbom: bool = True) -> Path:
    """Write ``out/fmd-terminal-VERSION.tar``, signed with the key at ``key_path``; return its path.

    ``with_sbom``: add the CycloneDX SBOM of the environment the wheels make (``fmd_provision.sbom``).
    """
    key = load_private_key(key_path)
    wheels = read_wheels(wheel_dir)
    version, pinned = requirements(wheels)
    files = {release.REQUIREMENTS: pinned, **wheels}
    if with_sbom:
        from fmd_provision.sbom import environment_sbom

        files[release.SBOM] = environment_sbom(Path(wheel_dir), pinned)
    try:
        manifest = release.render_manifest(version, files)
    except UpdateError as error:
        raise InputError(str(error)) from None
    signature = key.sign(manifest)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as archive:
        for name, data in [(release.MANIFEST, manifest), (release.SIGNATURE, signature), *sorted(files.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TargetError(f"cannot create {str(out)!r}: {error.strerror}") from None
    path = out / f"fmd-terminal-{version}.tar"
    write_atomic(path, buffer.getvalue(), PUBLIC)
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new-key", type=Path, metavar="KEY", help="create a release key pair: KEY and KEY.pub")
    parser.add_argument("--key", type=Path, help="the Ed25519 release key (PEM, mode 0600) that signs")
    parser.add_argument("--wheels", type=Path, help="directory of the wheels to ship (the terminal's and its deps)")
    parser.add_argument("--out", type=Path, help="directory to write fmd-terminal-VERSION.tar into")
    parser.add_argument("--no-sbom", action="store_true", help="leave the CycloneDX SBOM out (not for releases)")


def execute(args: argparse.Namespace) -> int:
    if args.new_key is not None:
        public = new_key(args.new_key)
        print(f"{args.new_key}: release key (keep it off the terminals); {public}: install as release.pub")
        return 0
    missing = [flag for flag, value in (("--key", args.key), ("--wheels", args.wheels), ("--out", args.out))
               if value is None]
    if missing:
        raise InputError(f"bundle needs {', '.join(missing)} (or --new-key KEY to make a release key)")
    path = build_bundle(args.key, args.wheels, args.out, with_sbom=not args.no_sbom)
    print(f"{path}: signed release bundle")
    return 0
