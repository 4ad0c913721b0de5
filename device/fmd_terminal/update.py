"""Install a signed release bundle next to the running version, switch only once it passes ``doctor``.

Layout under the prefix (``/opt/fmd-terminal``; ``install.sh`` makes the same one):

- ``releases/VERSION/``: one virtual environment per installed version (``--system-site-packages``,
  so Debian's python3-lgpio, python3-evdev... serve);
- ``venv``: a symbolic link to the running release (the unit's ``ExecStart`` goes through it);
- ``previous``: a link to the release before it, kept to fall back to (``update --rollback``);
- ``version-floor``: the highest version ever switched to; no bundle below it is installed again.

The steps (``STEPS``), each safe to interrupt (power cut, kill): the bundle's signature and every
file's digest are checked (``verify``, ``unpack`` into ``staging/``); the version must be above both
the running one and the floor (anti-rollback); a new environment is made in ``releases/VERSION``
(``venv``) and the wheels installed with pip from the bundle only, hashes required (``install``);
its own ``fmd-terminal doctor`` must pass (``doctor``); a ``.complete`` mark is written; then
``venv`` is replaced by a link to it with one ``rename(2)`` (``switch``), the old release becoming
``previous``; older releases are removed (``prune``). Until ``switch``, ``venv`` names the old
release and nothing of it has changed; a half-made release (no ``.complete``) is removed by the next
update. ``FMD_UPDATE_CRASH_AT=STEP`` kills the process with SIGKILL as that step begins: the
power-cut tests use it to stop the update at each step.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from fmd_terminal import release
from fmd_terminal.durable import fsync_directory
from fmd_terminal.errors import UpdateError

log = logging.getLogger(__name__)

STEPS = ("verify", "unpack", "venv", "install", "doctor", "switch", "prune")
COMPLETE = ".complete"
MAX_MEMBER_BYTES = 256 * 1024 * 1024
DOCTOR_TIMEOUT_S = 300
INSTALL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Layout:
    """The paths of the installed releases under ``prefix``."""

    prefix: Path

    @property
    def releases(self) -> Path:
        return self.prefix / "releases"

    @property
    def current(self) -> Path:
        return self.prefix / "venv"

    @property
    def previous(self) -> Path:
        return self.prefix / "previous"

    @property
    def staging(self) -> Path:
        return self.prefix / "staging"

    @property
    def floor(self) -> Path:
        return self.prefix / "version-floor"

    def linked_version(self, link: Path) -> str | None:
        """The version a link (``venv``, ``previous``) points to; None when it is no release link."""
        if not link.is_symlink():
            return None
        return Path(os.readlink(link)).name

    def floor_version(self) -> str | None:
        try:
            return self.floor.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None


def _step(name: str) -> None:
    log.info("update: %s", name)
    if os.environ.get("FMD_UPDATE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_durably(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file, fsync'd and renamed (so it is old or new, never torn)."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def point_link(link: Path, target: str) -> None:
    """Make ``link`` point to ``target`` in one ``rename(2)``: readers see the old or the new link."""
    temporary = link.with_name(link.name + ".new")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, link)
    fsync_directory(link.parent)


def read_bundle(path: Path, public_key_pem: bytes) -> tuple[dict, dict[str, tarfile.TarInfo], tarfile.TarFile]:
    """Open the bundle, check the manifest's signature; return the manifest, the members and the archive."""
    try:
        archive = tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError) as error:
        raise UpdateError.text("bundle_not", path=repr(str(path)), why=error) from None
    members = {member.name: member for member in archive.getmembers()}

    def small_file(name: str) -> bytes:
        member = members.get(name)
        if member is None or not member.isfile() or member.size > 1024 * 1024:
            raise UpdateError.text("bundle_member_missing", path=repr(str(path)), name=name)
        handle = archive.extractfile(member)
        assert handle is not None
        return handle.read()

    manifest = release.verified_manifest(small_file(release.MANIFEST), small_file(release.SIGNATURE), public_key_pem)
    return manifest, members, archive


def unpack(archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], manifest: dict, staging: Path) -> None:
    """Copy every file the manifest names into ``staging``, each checked against its digest."""
    import hashlib

    listed = manifest["files"]
    extra = sorted(set(members) - set(listed) - {release.MANIFEST, release.SIGNATURE})
    if extra:
        raise UpdateError.text("bundle_extra", names=", ".join(extra))
    shutil.rmtree(staging, ignore_errors=True)
    (staging / release.WHEELS).mkdir(parents=True)
    for name, entry in sorted(listed.items()):
        member = members.get(name)
        if member is None or not member.isfile() or member.size > MAX_MEMBER_BYTES:
            raise UpdateError.text("bundle_lacks", name=name)
        digest = hashlib.sha256()
        source = archive.extractfile(member)
        assert source is not None
        with open(staging / name, "wb") as target:
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
                target.write(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise UpdateError.text("bundle_digest", name=name)


def check_version(layout: Layout, version: str) -> None:
    """Refuse a version not above the running one and the floor (anti-rollback)."""
    new = release.parse_version(version)
    for text_id, known in (("update_downgrade", layout.linked_version(layout.current)),
                           ("update_below_floor", layout.floor_version())):
        if known is None:
            continue
        if new < release.parse_version(known):
            raise UpdateError.text(text_id, version=version, known=known)
        if new == release.parse_version(known) and text_id == "update_downgrade":
            raise UpdateError.text("update_same", version=version)


def _run(command: list[str], what: str, timeout: float) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UpdateError.text("update_step_slow", step=what, seconds=f"{timeout:.0f}") from None
    except OSError as error:
        raise UpdateError.text("update_step_start", step=what, why=error) from None
    if result.returncode != 0:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        raise UpdateError.text("update_step_failed", step=what, code=result.returncode,
                               output=" | ".join(lines[-3:]) or "-")


def _pip(python: str) -> list[str]:
    """pip of the running interpreter, or of ``python`` (Debian's python3-pip) when this one has none."""
    import importlib.util

    return [sys.executable, "-m", "pip"] if importlib.util.find_spec("pip") else [python, "-m", "pip"]


def remove_unfinished(layout: Layout) -> None:
    """Remove releases an interrupted update left without their ``.complete`` mark, and the staging area."""
    shutil.rmtree(layout.staging, ignore_errors=True)
    if layout.releases.is_dir():
        kept = {layout.linked_version(layout.current), layout.linked_version(layout.previous)}
        for directory in layout.releases.iterdir():
            if directory.name not in kept and not (directory / COMPLETE).exists():
                shutil.rmtree(directory, ignore_errors=True)


def apply_update(
    bundle: Path,
    *,
    prefix: Path,
    public_key_pem: bytes,
    doctor: list[str],
    python: str = "python3",
) -> str:
    """Install ``bundle`` under ``prefix`` and switch to it; return its version.

    ``doctor`` is the check run with the new release's ``bin/`` directory first (e.g.
    ``["fmd-terminal", "doctor", "--config", "/etc/fmd-terminal/fmd-terminal.toml"]``); ``python`` the
    interpreter the new environment is made from.
    """
    layout = Layout(Path(prefix))
    layout.releases.mkdir(parents=True, exist_ok=True)
    remove_unfinished(layout)
    _step("verify")
    manifest, members, archive = read_bundle(Path(bundle), public_key_pem)
    version = manifest["version"]
    target = layout.releases / version
    try:
        with archive:
            check_version(layout, version)
            _step("unpack")
            unpack(archive, members, manifest, layout.staging)
        shutil.rmtree(target, ignore_errors=True)
        _step("venv")
        _run([python, "-m", "venv", "--without-pip", "--system-site-packages", str(target)],
             "python -m venv", INSTALL_TIMEOUT_S)  # ``what``: the step as a command, the same in every language
        _step("install")
        _run([*_pip(python), "--python", str(target / "bin" / "python"), "install", "--quiet", "--no-index",
              "--no-cache-dir", "--find-links", str(layout.staging / release.WHEELS), "--require-hashes",
              "-r", str(layout.staging / release.REQUIREMENTS)], "pip install", INSTALL_TIMEOUT_S)
        if (layout.staging / release.SBOM).is_file():  # the SBOM stays beside the environment it describes
            shutil.copyfile(layout.staging / release.SBOM, target / release.SBOM)
        _step("doctor")
        _run([str(target / "bin" / doctor[0]), *doctor[1:]], f"{doctor[0]} {' '.join(doctor[1:2])} ({version})",
             DOCTOR_TIMEOUT_S)
        _write_durably(target / COMPLETE, (version + "\n").encode("ascii"))
    except BaseException:
        if version != layout.linked_version(layout.current) and not (target / COMPLETE).exists():
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(layout.staging, ignore_errors=True)
    _step("switch")
    old = layout.linked_version(layout.current)
    if old is not None:
        point_link(layout.previous, f"releases/{old}")
    point_link(layout.current, f"releases/{version}")
    _write_durably(layout.floor, (version + "\n").encode("ascii"))
    _step("prune")
    keep = {version, old}
    for directory in layout.releases.iterdir():
        if directory.name not in keep:
            shutil.rmtree(directory, ignore_errors=True)
    return version


def rollback(prefix: Path) -> str:
    """Switch back to ``previous`` (the release the last update replaced); return its version."""
    layout = Layout(Path(prefix))
    old = layout.linked_version(layout.previous)
    current = layout.linked_version(layout.current)
    if old is None or not (layout.releases / old / COMPLETE).exists():
        raise UpdateError.text("update_no_previous")
    point_link(layout.current, f"releases/{old}")
    if current is not None:
        point_link(layout.previous, f"releases/{current}")
    return old
