"""Signed release bundles: ``fmd-provision bundle`` signs, ``fmd-terminal update`` verifies and switches.

Real parts: Ed25519 keys and signatures (cryptography), the tar bundle, ``python -m venv``, pip
installing tiny wheels built by the test (``release_fakes``) from the bundle only (``--no-index``,
hashes required), the new release's own ``fmd-terminal doctor``, the ``venv`` symbolic link. The
power-cut tests run the update in its own process and kill it with SIGKILL as each step begins.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from release_fakes import tiny_wheels

from fmd_provision.cli import main as provision_main
from fmd_provision.errors import InputError
from fmd_provision.release_bundle import build_bundle, new_key
from fmd_terminal import release, update
from fmd_terminal.errors import UpdateError

DOCTOR = ["fmd-terminal", "doctor", "--config", "/etc/fmd-terminal/fmd-terminal.toml"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    public = new_key(directory / "release.key")
    other = new_key(directory / "other.key")
    return {"private": directory / "release.key", "public": public.read_bytes(),
            "other": directory / "other.key", "other_public": other.read_bytes()}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, keys):
    """Signed bundles of versions 1.0.0, 1.1.0, 1.0.5 and 1.2.0 (whose doctor fails)."""
    root = tmp_path_factory.mktemp("bundles")
    made = {}
    for version, doctor_exit in (("1.0.0", 0), ("1.1.0", 0), ("1.0.5", 0), ("1.2.0", 1)):
        wheels = tiny_wheels(root / f"wheels-{version}", version, doctor_exit)
        made[version] = build_bundle(keys["private"], wheels, root / "out", with_sbom=version == "1.1.0")
    return made


def apply(bundle, prefix, keys, **kwargs):
    return update.apply_update(bundle, prefix=prefix, public_key_pem=keys["public"], doctor=DOCTOR,
                               python=sys.executable, **kwargs)


def running(prefix):
    """What ``/opt/fmd-terminal/venv/bin/fmd-terminal --version`` says: the version the unit would start."""
    result = subprocess.run([str(prefix / "venv" / "bin" / "fmd-terminal"), "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def snapshot(prefix):
    return {str(path.relative_to(prefix)): (os.readlink(path) if path.is_symlink() else path.stat().st_size)
            for path in sorted(prefix.rglob("*")) if "__pycache__" not in path.parts}


@pytest.fixture
def installed(tmp_path, bundles, keys):
    """A prefix running version 1.0.0."""
    prefix = tmp_path / "opt"
    assert apply(bundles["1.0.0"], prefix, keys) == "1.0.0"
    return prefix


@pytest.fixture(scope="module")
def untouched(tmp_path_factory, bundles, keys):
    """A prefix running version 1.0.0 shared by the tests that must leave it as it is (checked by each)."""
    prefix = tmp_path_factory.mktemp("untouched") / "opt"
    apply(bundles["1.0.0"], prefix, keys)
    return prefix


def test_the_bundle_is_signed_pinned_and_names_every_file(bundles, keys):
    with tarfile.open(bundles["1.1.0"]) as archive:
        names = archive.getnames()
        manifest = archive.extractfile(release.MANIFEST).read()
        signature = archive.extractfile(release.SIGNATURE).read()
        pinned = archive.extractfile(release.REQUIREMENTS).read().decode()
    assert names[:2] == [release.MANIFEST, release.SIGNATURE]
    document = release.verified_manifest(manifest, signature, keys["public"])
    assert document["version"] == "1.1.0"
    assert sorted(document["files"]) == sorted(set(names) - {release.MANIFEST, release.SIGNATURE})
    lines = pinned.splitlines()
    assert [line.split()[0] for line in lines] == ["fmd-scan-terminal==1.1.0", "tinydep==1.0"]
    assert all(" --hash=sha256:" in line for line in lines)


def test_the_bundle_carries_the_cyclonedx_sbom_of_its_environment(bundles, keys, tmp_path):
    with tarfile.open(bundles["1.1.0"]) as archive:
        sbom = json.loads(archive.extractfile(release.SBOM).read())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    components = {(c["name"], c["version"]) for c in sbom["components"]}
    assert components == {("fmd-scan-terminal", "1.1.0"), ("tinydep", "1.0")}
    assert {c["purl"] for c in sbom["components"]} == {"pkg:pypi/fmd-scan-terminal@1.1.0", "pkg:pypi/tinydep@1.0"}
    prefix = tmp_path / "opt"
    apply(bundles["1.1.0"], prefix, keys)
    assert json.loads((prefix / "venv" / release.SBOM).read_text()) == sbom  # kept beside what it describes


def test_install_switch_and_fall_back(installed, bundles, keys):
    prefix = installed
    assert running(prefix) == "1.0.0"
    assert os.readlink(prefix / "venv") == "releases/1.0.0"
    assert (prefix / "version-floor").read_text() == "1.0.0\n"
    assert apply(bundles["1.1.0"], prefix, keys) == "1.1.0"
    assert running(prefix) == "1.1.0"
    assert os.readlink(prefix / "previous") == "releases/1.0.0"
    assert sorted(p.name for p in (prefix / "releases").iterdir()) == ["1.0.0", "1.1.0"]
    assert not (prefix / "staging").exists()
    assert update.rollback(prefix) == "1.0.0"
    assert running(prefix) == "1.0.0"
    assert os.readlink(prefix / "previous") == "releases/1.1.0"


def tampered(bundle, tmp_path, change):
    """A copy of ``bundle`` with its members changed by ``change(name, data) -> data | None``."""
    out = tmp_path / ("tampered-" + bundle.name)
    with tarfile.open(bundle) as source, tarfile.open(out, "w:") as target:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            if data is not None:
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
        extra = change("wheels/extra-1.0-py3-none-any.whl", None)
        if extra is not None:
            info = tarfile.TarInfo("wheels/extra-1.0-py3-none-any.whl")
            info.size = len(extra)
            target.addfile(info, io.BytesIO(extra))
    return out


def flip_last_byte(data):
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda name, data: flip_last_byte(data) if name.endswith("tinydep-1.0-py3-none-any.whl") else data,
         "is not the file that was signed"),
        (lambda name, data: data.replace(b"1.1.0", b"9.1.0") if name == release.MANIFEST else data,
         "signature does not verify"),
        (lambda name, data: flip_last_byte(data) if name == release.SIGNATURE else data,
         "signature does not verify"),
        (lambda name, data: b"import os\n" if data is None else data,
         "files its signed manifest does not name"),
        (lambda name, data: None if name == release.SIGNATURE else data, "manifest.sig is missing"),
    ],
    ids=["changed-wheel", "changed-manifest", "changed-signature", "added-file", "no-signature"],
)
def test_a_tampered_bundle_is_refused_and_nothing_changes(change, message, untouched, bundles, keys, tmp_path):
    before = snapshot(untouched)
    with pytest.raises(UpdateError, match=message):
        apply(tampered(bundles["1.1.0"], tmp_path, change), untouched, keys)
    assert snapshot(untouched) == before
    assert running(untouched) == "1.0.0"


def test_a_bundle_signed_with_another_key_is_refused(untouched, keys, tmp_path):
    before = snapshot(untouched)
    other = build_bundle(keys["other"], tiny_wheels(tmp_path / "w", "1.1.0"), tmp_path / "out", with_sbom=False)
    with pytest.raises(UpdateError, match="signature does not verify"):
        apply(other, untouched, keys)
    assert snapshot(untouched) == before


def test_a_downgrade_is_refused_even_after_a_rollback(installed, bundles, keys):
    apply(bundles["1.1.0"], installed, keys)
    with pytest.raises(UpdateError, match="version 1.0.5 is older than the running version 1.1.0"):
        apply(bundles["1.0.5"], installed, keys)
    with pytest.raises(UpdateError, match="1.1.0 is already running"):
        apply(bundles["1.1.0"], installed, keys)
    update.rollback(installed)  # the operator's own fall-back is allowed...
    with pytest.raises(UpdateError, match="version 1.0.5 is below the lowest version allowed here, 1.1.0"):
        apply(bundles["1.0.5"], installed, keys)  # ...but no bundle below the floor goes in again
    assert running(installed) == "1.0.0"


def test_a_release_whose_doctor_fails_is_never_switched_to(installed, bundles, keys):
    with pytest.raises(UpdateError, match=r"fmd-terminal doctor \(1\.2\.0\) failed \(exit 1\): doctor of 1\.2\.0"):
        apply(bundles["1.2.0"], installed, keys)
    assert running(installed) == "1.0.0"
    assert not (installed / "releases/1.2.0" / update.COMPLETE).exists()
    apply(bundles["1.1.0"], installed, keys)  # the next update clears the half-made release
    assert sorted(p.name for p in (installed / "releases").iterdir()) == ["1.0.0", "1.1.0"]


def update_process(bundle, prefix, key_file, crash_at=None):
    env = {**os.environ, "FMD_UPDATE_CRASH_AT": crash_at or ""}
    return subprocess.run(
        [sys.executable, "-m", "fmd_terminal", "-v", "update", str(bundle), "--prefix", str(prefix),
         "--key", str(key_file), "--python", sys.executable],
        env=env, capture_output=True, text=True, timeout=300,
    )


def test_a_power_cut_at_each_step_leaves_a_version_that_runs(installed, bundles, keys, tmp_path):
    """The update is killed as each step begins, one after the other on the same terminal: every
    attempt starts from what the one before left, as after successive power cuts."""
    key_file = tmp_path / "release.pub"
    key_file.write_bytes(keys["public"])
    for step in update.STEPS:
        killed = update_process(bundles["1.1.0"], installed, key_file, crash_at=step)
        assert killed.returncode == -9, (step, killed.stderr)
        assert f"update: {step}" in killed.stderr
        # Up to the switch, the old release runs untouched; from the switch on, the new one does.
        assert running(installed) == ("1.1.0" if step == "prune" else "1.0.0"), step
        assert (installed / os.readlink(installed / "venv") / update.COMPLETE).exists(), step
    again = update_process(bundles["1.1.0"], installed, key_file)
    assert again.returncode == 3 and "la version 1.1.0 est déjà en service" in again.stderr  # French by default
    assert os.readlink(installed / "previous") == "releases/1.0.0"
    assert running(installed) == "1.1.0"
    assert not (installed / "staging").exists()


def test_an_update_completes_after_a_power_cut_before_its_doctor(installed, bundles, keys, tmp_path):
    key_file = tmp_path / "release.pub"
    key_file.write_bytes(keys["public"])
    killed = update_process(bundles["1.1.0"], installed, key_file, crash_at="doctor")
    assert killed.returncode == -9
    assert (installed / "releases/1.1.0/bin/fmd-terminal").exists()  # installed, never checked nor switched
    assert running(installed) == "1.0.0"
    done = update_process(bundles["1.1.0"], installed, key_file)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fmd-terminal : version 1.1.0 installée, le terminal l'utilise désormais"
    assert running(installed) == "1.1.0"
    assert not (installed / "staging").exists()


def test_the_cli_refuses_a_tampered_bundle_in_one_line(untouched, bundles, keys, tmp_path):
    key_file = tmp_path / "release.pub"
    key_file.write_bytes(keys["public"])
    before = snapshot(untouched)
    bad = tampered(bundles["1.1.0"], tmp_path, lambda n, d: flip_last_byte(d) if n == release.SIGNATURE else d)
    result = update_process(bad, untouched, key_file)
    assert snapshot(untouched) == before
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith(  # one line, French by default
        "fmd-terminal: la signature du paquet n'est pas valable : il a été modifié après signature")
    assert "Traceback" not in result.stderr


def test_provision_bundle_cli_makes_a_key_then_a_bundle(tmp_path, capsys):
    key = tmp_path / "keys" / "release.key"
    key.parent.mkdir()
    assert provision_main(["bundle", "--new-key", str(key)]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert provision_main(["bundle", "--new-key", str(key)]) == 4  # never overwritten
    wheels = tiny_wheels(tmp_path / "wheels", "2.0.0")
    out = str(tmp_path / "dist")
    assert provision_main(["bundle", "--key", str(key), "--wheels", str(wheels), "--out", out, "--no-sbom"]) == 0
    bundle = tmp_path / "dist" / "fmd-terminal-2.0.0.tar"
    manifest, _members, archive = update.read_bundle(bundle, Path(str(key) + ".pub").read_bytes())
    archive.close()
    assert manifest["version"] == "2.0.0"
    key.chmod(0o644)
    assert provision_main(["bundle", "--key", str(key), "--wheels", str(wheels), "--out", out, "--no-sbom"]) == 3
    assert "expected 0600" in capsys.readouterr().err


def test_a_wheel_directory_without_the_terminal_is_refused(tmp_path, keys):
    wheels = tiny_wheels(tmp_path / "wheels", "2.0.0")
    next(wheels.glob("fmd_scan_terminal-*.whl")).unlink()
    with pytest.raises(InputError, match="exactly one version of fmd-scan-terminal, found none"):
        build_bundle(keys["private"], wheels, tmp_path / "out", with_sbom=False)


@pytest.mark.parametrize(("older", "newer"), [("1.9", "1.10"), ("1.0.0", "1.0.1"), ("0.9.9", "1"), ("1.0", "1.0.0.1")])
def test_versions_compare_as_numbers(older, newer):
    assert release.parse_version(older) < release.parse_version(newer)
    assert release.parse_version("1.0") == release.parse_version("1.0.0")
    with pytest.raises(UpdateError, match="a dotted number"):
        release.parse_version("1.0rc1")
