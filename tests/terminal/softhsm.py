"""A real SoftHSM2 token for the tests (Debian package ``softhsm2``): a token directory of its own, a key
imported with ``softhsm2-util``, and the RFC 7512 URI the terminal is configured with.

SoftHSM2 reads ``SOFTHSM2_CONF`` when the module is first initialised in a process, so the variable is
set for the whole test process (one token directory per pytest worker)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

from cryptography.hazmat.primitives import serialization

MODULE_CANDIDATES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
PIN = "4711-0815"


def module_path() -> str | None:
    return next((p for p in MODULE_CANDIDATES if os.path.exists(p)), None)


class SoftToken:
    """One initialised token; ``import_key`` puts a PEM private key into it and returns its URI."""

    def __init__(self, directory) -> None:
        self.directory = directory
        self.label = "fmd-" + uuid.uuid4().hex[:8]
        tokens = directory / "tokens"
        tokens.mkdir()
        conf = directory / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        self._util("--init-token", "--free", "--label", self.label, "--pin", PIN, "--so-pin", "12345678")

    def _util(self, *args: str) -> None:
        subprocess.run([shutil.which("softhsm2-util") or "softhsm2-util", *args], check=True,
                       capture_output=True, timeout=60)

    def import_key(self, key_pem: bytes, label: str, key_id: str) -> str:
        """Import the key (converted to PKCS#8, as softhsm2-util wants it); the PEM file is removed."""
        key = serialization.load_pem_private_key(key_pem, None)
        p8 = self.directory / f"{label}.p8"
        p8.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
        try:
            self._util("--import", str(p8), "--token", self.label, "--label", label, "--id", key_id, "--pin", PIN)
        finally:
            p8.unlink()
        return f"pkcs11:token={self.label};object={label};type=private?module-path={module_path()}"


_SHARED: dict[str, SoftToken] = {}


def shared_token(tmp_path_factory) -> SoftToken:
    """One token per test process: SoftHSM2 reads ``SOFTHSM2_CONF`` once, when a process first loads it."""
    if "token" not in _SHARED:
        _SHARED["token"] = SoftToken(tmp_path_factory.mktemp("softhsm"))
    return _SHARED["token"]
