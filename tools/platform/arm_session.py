"""`make test-arm`, after the root is built: install and run the terminal in an emulated arm64 Debian.

    nice -n 19 .venv/bin/python tools/platform/arm_session.py build/platform/trixie-arm64

Every program inside the root is an arm64 binary run by qemu-aarch64-static (binfmt_misc); the
simulator runs here on the host's loopback, which the chroot shares. In order:

1. the simulator starts on 127.0.0.1 with the demo's packs (one dispensed by another pharmacy, one
   batch recalled: ``fmd_terminal.demo``);
2. a provisioning bundle is made with ``fmd-provision new-device`` (an imported key and certificate,
   the secrets file, ``release.pub``; scanner ``script://`` as no scanner is plugged in, screen
   ``console://``, LEDs on gpiozero's mock pins);
3. the source tree goes to ``/opt/fmd-terminal/src`` as ``fmd-provision deploy`` puts it, and
   ``install.sh`` runs with the bundle (``FMD_NO_START=1``: no systemd runs in a chroot): Debian's
   packages through apt, the service user, the release environment, the configuration;
4. ``fmd-terminal doctor`` with the installed configuration, as the service user ``fmd``;
5. ``fmd-terminal run``, as ``fmd``, reading the demo's scans from the script: the lights and outcomes
   of the events journal and the simulator's record of the dispensed pack are checked;
6. ``systemd-analyze verify`` of the installed unit, inside the root.

Exits 0 when every step passed, 1 at the first that did not (its output is printed).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
CONFIG = "/etc/fmd-terminal/fmd-terminal.toml"
TERMINAL = "/opt/fmd-terminal/venv/bin/fmd-terminal"
# The demo's scans after its calibration code, and what each must show.
EXPECTED = [("green", "decommissioned"), ("green", "duplicate_scan"), ("red", None), ("red", "recalled"),
            ("red", "alert"), ("amber", None), ("amber", None)]


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def in_root(root: Path, command: str, *, user: str | None = None, timeout: float = 3600) -> str:
    """Run ``command`` with sh inside ``root``; print and return its output; exit 1 if it fails."""
    env = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
           "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]
    if os.environ.get("PIP_CERT"):
        env += ["PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt"]
    runner = ["runuser", "-u", user, "--"] if user else []
    result = subprocess.run(["chroot", str(root), *env, *runner, "sh", "-ec", command],
                            capture_output=True, text=True, timeout=timeout)
    output = (result.stdout + result.stderr).strip()
    print(output[-4000:] if output else "(no output)", flush=True)
    if result.returncode != 0:
        print(f"arm-session: FAILED (exit {result.returncode}): {command}", file=sys.stderr)
        sys.exit(1)
    return result.stdout + result.stderr


def self_signed(device_id: str, directory: Path) -> tuple[Path, Path]:
    """A key and a self-signed client certificate for the bundle (a real one comes from the national CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_path, cert_path = directory / "device.key", directory / "device.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def make_bundle(work: Path, service_url: str) -> Path:
    from fmd_provision.bundle import new_device
    from fmd_provision.release_bundle import new_key
    from fmd_terminal.demo import DEMO_CLIENT

    key, cert = self_signed("arm-emulated", work)
    secrets = work / "secrets.toml"
    secrets.write_text(f'client_id = "{DEMO_CLIENT[0]}"\nclient_secret = "{DEMO_CLIENT[1]}"\n')
    secrets.chmod(0o600)
    bundle = work / "bundle"
    devices = {"scanner": "script:///var/lib/fmd-terminal/scans.jsonl", "screen": "console://?color=0",
               "indicators": "gpio://?pin_factory=mock"}
    new_device(bundle, "arm-emulated", service_url, lang="en", cert=cert, key=key, secrets=secrets, devices=devices)
    with open(bundle / "fmd-terminal.toml", "a") as config:  # the breaker is closed at start; should a first
        config.write("\n[sync]\nprobe_gap_s = 0.05\n")   # request fail under qemu, the next scan probes at once
    new_key(work / "release.key")
    shutil.copyfile(work / "release.key.pub", bundle / "release.pub")
    return bundle


def main(argv: list[str]) -> int:
    from fmd_simulator.testing import running_simulator
    from fmd_terminal.demo import SEED, SEED_PACKS, demo_scans, prepare

    root = Path(argv[0]).resolve()
    timings: dict[str, float] = {}
    with running_simulator(seed_packs=SEED_PACKS, seed=SEED, separate_process=True) as sim, \
            tempfile.TemporaryDirectory(prefix="fmd-arm-") as scratch:
        began = step(f"simulator on {sim.base_url}; provisioning bundle")
        packs = sim.seeded_packs()
        prepare(sim, packs)
        scans = demo_scans(packs)[1:]  # no scanner profile here: the calibration code is left out
        bundle = make_bundle(Path(scratch), sim.base_url)
        print(f"bundle: {', '.join(sorted(p.name for p in bundle.iterdir()))}")
        target = root / "opt/fmd-terminal/src"
        shutil.rmtree(target, ignore_errors=True)
        listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=SRC,
                                 check=True, capture_output=True).stdout.decode().split("\0")
        for name in filter(None, listing):
            if (SRC / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(SRC / name, target / name)
        shutil.rmtree(root / "root/bundle", ignore_errors=True)
        shutil.copytree(bundle, root / "root/bundle")
        in_root(root, "uname -m; python3 --version; cat /etc/debian_version")

        began = step("install.sh from the provisioning bundle (apt, service user, release environment)")
        in_root(root, "apt-get update -q")
        in_root(root, "FMD_NO_START=1 sh /opt/fmd-terminal/src/device/system/install.sh /root/bundle")
        in_root(root, f"ls -l /opt/fmd-terminal /etc/fmd-terminal; {TERMINAL} --version; "
                      "/opt/fmd-terminal/venv/bin/python /opt/fmd-terminal/src/tools/platform/provenance.py")
        timings["install"] = time.monotonic() - began

        began = step("fmd-terminal doctor, as the service user")
        state = root / "var/lib/fmd-terminal"
        state.mkdir(parents=True, exist_ok=True)
        (state / "scans.jsonl").write_text("".join(json.dumps({"raw": raw}) + "\n" for _, raw in scans))
        in_root(root, "chown -R fmd:fmd /var/lib/fmd-terminal && chmod 0700 /var/lib/fmd-terminal")
        in_root(root, f"{TERMINAL} doctor --config {CONFIG}", user="fmd")
        timings["doctor"] = time.monotonic() - began

        began = step("fmd-terminal run, scripted, against the simulator on the host")
        in_root(root, f"{TERMINAL} run --config {CONFIG} --events-jsonl /var/lib/fmd-terminal/events.jsonl",
                user="fmd", timeout=900)
        events = [json.loads(line) for line in (state / "events.jsonl").read_text().splitlines()]
        shown = [(event["light"], event["outcome"]) for event in events if event["event"] == "scan"]
        print("scans:", shown)
        for (light, outcome), (want_light, want_outcome) in zip(shown, EXPECTED, strict=True):
            if light != want_light or (want_outcome is not None and outcome != want_outcome):
                print(f"arm-session: FAILED: expected {EXPECTED}, got {shown}", file=sys.stderr)
                return 1
        fresh = _fresh_pack(scans, packs)
        record = sim.history("GTIN", fresh["productCode"], fresh["serial"])
        if record["state"] != "Supplied" or len(record["history"]) != 1:
            print(f"arm-session: FAILED: the simulator's record of the dispensed pack: {record}", file=sys.stderr)
            return 1
        print(f"simulator: pack {fresh['productCode']} dispensed once ({record['history'][0]['operation']})")
        timings["run"] = time.monotonic() - began

        began = step("systemd-analyze verify of the installed unit")
        out = in_root(root, "systemd-analyze verify /etc/systemd/system/fmd-terminal.service 2>&1")
        ours = [line for line in out.splitlines() if "fmd-terminal.service" in line]
        if ours:
            print(f"arm-session: FAILED: systemd-analyze verify: {ours}", file=sys.stderr)
            return 1
        timings["verify"] = time.monotonic() - began
    print("\narm-session: passed; " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))
    return 0


def _fresh_pack(scans: list[tuple[str, str]], packs: list[dict]) -> dict:
    raw = scans[0][1]
    return next(pack for pack in packs if pack["raw"] == raw)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
