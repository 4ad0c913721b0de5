"""A counter in a test: ``fmd-terminal run`` as a child process, scans written to its ``stdin://`` at
chosen moments, its events journal and console screen read as they come, with their times (issue 11).

The service URL points at a ``FaultProxy`` in front of the shared mutual-TLS simulator, so a test can
refuse connections or black-hole them; the simulator's own ``outage`` fault gives 503s.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

READY = "Prêt"


def service_section(sim: Any, protocol: str, port: int) -> str:
    url = f"nmvs-soap+https://127.0.0.1:{port}/soap" if protocol == "soap" else f"https://127.0.0.1:{port}"
    cert, key = sim.client_files
    return (f"[service]\nurl = {json.dumps(url)}\nca_bundle = {json.dumps(sim.pki.ca_bundle)}\n"
            f"client_cert = {json.dumps(cert)}\nclient_key = {json.dumps(key)}\n")


def journal_time(event: dict[str, Any]) -> float:
    return datetime.datetime.fromisoformat(event["time"]).timestamp()


class Counter:
    """One terminal; ``scan(raw)`` returns when it was written; ``verdict(n)`` waits for the n-th event."""

    def __init__(self, tmp_path: Any, sim: Any, protocol: str, port: int, settings: str = "") -> None:
        self.events_path = tmp_path / "events.jsonl"
        config = tmp_path / "terminal.toml"
        config.write_text(settings + "\n" + service_section(sim, protocol, port), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
        env.update(FMD_CLIENT_ID="pharmacy-demo", FMD_CLIENT_SECRET="demo-secret", PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "fmd_terminal", "run", "--config", str(config), "--scanner", "stdin://",
                   "--screen", "console://?color=0", "--indicators", "recording://",
                   "--outbox", f"sqlite://{tmp_path / 'outbox.db'}", "--events-jsonl", str(self.events_path)]
        self.started = time.time()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[tuple[float, str]] = []  # console lines with the time they came
        self.errors: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, None), daemon=True).start()

    def _read(self, stream: Any, into: list | None) -> None:
        for line in stream:
            if into is None:
                self.errors.append(line)
            else:
                into.append((time.time(), line.rstrip("\n")))

    def ready_at(self, timeout: float = 60) -> float:
        """When the idle screen was first drawn."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for at, line in list(self.lines):
                if READY in line:
                    return at
            assert self.process.poll() is None, "".join(self.errors)
            time.sleep(0.01)
        raise AssertionError("the terminal never showed its idle screen: " + "".join(self.errors)[-2000:])

    def scan(self, raw: str, at: float | None = None) -> float:
        """Write one scan (at the wall time ``at`` if given); returns when it was written."""
        if at is not None:
            time.sleep(max(0.0, at - time.time()))
        assert self.process.stdin is not None
        self.process.stdin.write(raw + "\n")
        self.process.stdin.flush()
        return time.time()

    def events(self) -> list[dict[str, Any]]:
        if not self.events_path.exists():
            return []
        return [json.loads(line) for line in self.events_path.read_text(encoding="utf-8").splitlines() if line]

    def wait_for(self, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            events = self.events()
            if predicate(events):
                return events
            assert self.process.poll() is None, "".join(self.errors)[-3000:]
            time.sleep(0.01)
        raise AssertionError(f"not seen in {timeout} s; journal: {self.events()}")

    def verdict(self, n: int, timeout: float = 60) -> dict[str, Any]:
        """The n-th "scan" event (0-based), once it is there."""
        scans = [e for e in self.wait_for(lambda ev: len([e for e in ev if e["event"] == "scan"]) > n, timeout)
                 if e["event"] == "scan"]
        return scans[n]

    def blocks_since(self, at: float) -> list[list[str]]:
        """Console screens drawn from wall time ``at`` on, each a list of its lines."""
        blocks, current = [], None
        for when, line in list(self.lines):
            if current is None and line.startswith("+") and when >= at:
                current = [line]
            elif current is not None:
                current.append(line)
                if line.startswith("+"):
                    blocks.append(current)
                    current = None
        return blocks

    def close(self) -> int:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            return self.process.wait(60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
