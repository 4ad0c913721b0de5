"""A signed release bundle: its format, its version order and its signature check.

A release bundle is one uncompressed tar file (``fmd-terminal-VERSION.tar``) holding:

- ``manifest.json``: ``{"format": 1, "project": ..., "version": ..., "files": {NAME: {"sha256": HEX,
  "size": N}}}``, naming every other member with its SHA-256 digest;
- ``manifest.sig``: the Ed25519 signature (RFC 8032) of ``manifest.json``'s exact bytes, made by
  ``fmd-provision bundle`` with the release key; the terminal holds the public key;
- ``requirements.txt``: every wheel pinned with ``--hash=sha256:...`` (pip's hash-checking mode);
- ``wheels/*.whl``: the terminal and its Python dependencies, installed with ``pip --no-index``;
- ``sbom.cdx.json``: the CycloneDX software bill of materials of the environment the wheels make.

The signature covers the manifest, the manifest covers each file: a changed byte anywhere is refused
(ETSI EN 303 645 provision 5.3-2, authenticated updates). Versions are dotted numbers (``1.4.0``),
compared as tuples, so an older bundle is refused (anti-rollback, 5.3-7 of the same standard).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fmd_terminal.errors import UpdateError

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
REQUIREMENTS = "requirements.txt"
SBOM = "sbom.cdx.json"
WHEELS = "wheels"
PROJECT = "fmd-scan-terminal"
# A member's name: one of the fixed files, or a wheel file name (PEP 427) under wheels/.
_MEMBER = re.compile(r"(requirements\.txt|sbom\.cdx\.json|wheels/[A-Za-z0-9_.+!-]+\.whl)")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.10.0"`` -> ``(1, 10, 0)``; trailing zeros do not count (``1.0 == 1.0.0``)."""
    if not isinstance(text, str) or not _VERSION.fullmatch(text):
        raise UpdateError.text("bundle_version", version=repr(text))
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_manifest(version: str, files: dict[str, bytes], project: str = PROJECT) -> bytes:
    """The manifest's bytes (sorted keys, so the same files always give the same bytes)."""
    parse_version(version)
    for name in files:
        if not _MEMBER.fullmatch(name):
            raise UpdateError(f"{name!r} cannot go into a release bundle")
    document = {
        "format": FORMAT,
        "project": project,
        "version": version,
        "files": {name: {"sha256": sha256_hex(data), "size": len(data)} for name, data in sorted(files.items())},
    }
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def load_public_key(pem: bytes) -> Any:
    """An Ed25519 public key from its PEM text; ``UpdateError`` for anything else."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise UpdateError.text("release_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateError.text("release_key")
    return key


def verified_manifest(manifest: bytes, signature: bytes, public_key_pem: bytes) -> dict[str, Any]:
    """The manifest, once its signature verifies with the release key and its content is well formed."""
    from cryptography.exceptions import InvalidSignature

    key = load_public_key(public_key_pem)
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise UpdateError.text("bundle_signature") from None
    try:
        document = json.loads(manifest)
    except ValueError:
        raise UpdateError.text("bundle_manifest", why="JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UpdateError.text("bundle_format", format=repr(document.get("format") if isinstance(document, dict)
                                                            else None))
    files = document.get("files")
    if not isinstance(files, dict) or REQUIREMENTS not in files:
        raise UpdateError.text("bundle_lacks", name=REQUIREMENTS)
    for name, entry in files.items():
        if not _MEMBER.fullmatch(name) or not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise UpdateError.text("bundle_manifest", why=repr(name))
    parse_version(document.get("version", ""))
    return document
