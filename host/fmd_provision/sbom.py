"""The CycloneDX SBOM of a release: made from the environment its wheels install into, offline.

The wheels of a release bundle are installed into a scratch virtual environment exactly as a
terminal installs them (``pip --no-index``, the bundle's hash-pinned ``requirements.txt``), then
``cyclonedx-py environment`` (the CycloneDX project's own generator, PyPI ``cyclonedx-bom``) lists
what is installed there: one component per distribution with its version, package URL and licence
(EU Cyber Resilience Act, Annex I part II (1): a software bill of materials of the product's
components). ``--output-reproducible``: the same wheels give the same bytes. A bundle that holds
only another platform's wheels (aarch64 on an x86 computer) cannot be installed here: add this
computer's wheels too (the requirements carry each platform's hash).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from fmd_provision.errors import InputError

TIMEOUT_S = 600


def _run(command: list[str], what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise InputError(f"{what} did not finish within {TIMEOUT_S} s") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise InputError(f"{what} failed: {' | '.join(lines[-2:]) or 'no message'}")
    return result


def environment_sbom(wheel_dir: Path, requirements: bytes) -> bytes:
    """The CycloneDX 1.6 JSON SBOM of the environment ``requirements`` make from ``wheel_dir``."""
    with tempfile.TemporaryDirectory(prefix="fmd-sbom-") as scratch:
        venv = Path(scratch) / "venv"
        pinned = Path(scratch) / "requirements.txt"
        pinned.write_bytes(requirements)
        _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], "making the SBOM's environment")
        _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
              "--no-index", "--no-cache-dir", "--find-links", str(wheel_dir), "--require-hashes", "-r", str(pinned)],
             "installing the wheels for the SBOM (are this computer's wheels in the directory too?)")
        result = _run([sys.executable, "-m", "cyclonedx_py", "environment", "--output-reproducible",
                       "--spec-version", "1.6", "--output-format", "JSON", "--output-file", "-",
                       str(venv / "bin" / "python")], "cyclonedx-py environment")
    try:
        document = json.loads(result.stdout)
    except ValueError:
        raise InputError("cyclonedx-py environment wrote something that is not JSON") from None
    if document.get("bomFormat") != "CycloneDX":
        raise InputError("cyclonedx-py environment wrote no CycloneDX document")
    return result.stdout
