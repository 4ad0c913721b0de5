"""A real Mosquitto on a loopback port, for the tests, the benchmark and the two-counter demo.

``running_site(directory, site, devices)`` writes a site broker (``site_broker.write_site``: its own
CA, per-device certificates, the generated ACL) on a free 127.0.0.1 port, starts ``mosquitto -c``
on it and stops it on exit; ``running_central`` does the same for a central broker. ``SiteBroker.stop()`` / ``start()`` take it down and bring it back on
the same port (the "broker down and back" tests).
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fmd_provision.errors import ProvisionError
from fmd_provision.site_broker import write_site

START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SiteBroker:
    """A site broker's directory and its ``mosquitto`` process."""

    def __init__(self, directory: Path, site: str, port: int) -> None:
        self.directory = Path(directory)
        self.site = site
        self.port = port
        self.host = "127.0.0.1"
        self.process: subprocess.Popen | None = None

    @property
    def ca(self) -> str:
        return str(self.directory / "ca.crt")

    def identity(self, name: str) -> tuple[str, str]:
        """(certificate, key) paths of a device or reader."""
        return str(self.directory / "devices" / f"{name}.crt"), str(self.directory / "devices" / f"{name}.key")

    def start(self) -> SiteBroker:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise ProvisionError("mosquitto is not installed: apt-get install mosquitto (make system-packages)")
        self.process = subprocess.Popen([binary, "-c", str(self.directory / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < end:
            if self.process.poll() is not None:
                said = self.process.stderr.read().decode() if self.process.stderr else ""
                raise ProvisionError(f"mosquitto stopped at start: {said[-400:]}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                return self
            time.sleep(0.02)
        self.stop()
        raise ProvisionError(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None


@contextlib.contextmanager
def running_site(directory: Path, site: str, devices: list[str], readers: Sequence[str] = (),
                 port: int | None = None, more_sites: dict[str, list[str]] | None = None,
                 **options: Any) -> Iterator[SiteBroker]:
    """A started site broker in ``directory`` (written afresh); stopped on exit. ``options`` go to
    ``write_site`` (``central`` and ``central_ca``: a bridge to a central broker)."""
    port = port or free_port()
    write_site(directory, site, list(devices), port, readers=list(readers), more_sites=more_sites,
               run_as=getpass.getuser(), **options)
    with _started(SiteBroker(directory, site, port)) as broker:
        yield broker


@contextlib.contextmanager
def running_central(directory: Path, sites: list[str], readers: Sequence[str] = (),
                    port: int | None = None) -> Iterator[SiteBroker]:
    """A started central broker (``fmd-provision central-broker``) in ``directory``; stopped on exit."""
    from fmd_provision.central_broker import write_central

    port = port or free_port()
    write_central(directory, list(sites), port, readers=list(readers), run_as=getpass.getuser())
    with _started(SiteBroker(directory, "central", port)) as broker:
        yield broker


@contextlib.contextmanager
def _started(broker: SiteBroker) -> Iterator[SiteBroker]:
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
