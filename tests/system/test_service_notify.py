"""The real `fmd-terminal run` process talks sd_notify to a fake systemd (SCANNERS-AND-HARDWARE.md, section 6).

A datagram socket bound in tmp_path stands in for systemd's NOTIFY_SOCKET; the terminal runs on its
twins (scripted scanner, recording screen, offline service, memory outbox) and stops when the script
ends. The unit's Type=notify and WatchdogSec= rely on exactly these messages.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

PACK = "]d201034009523213021728110810Z8182Q9\x1d218otDzbRwmLkJj4"


def terminal_command():
    script = Path(sys.executable).parent / "fmd-terminal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fmd_terminal"]


def test_terminal_reports_ready_status_watchdog_and_stopping(tmp_path):
    scans = tmp_path / "scans.jsonl"
    scans.write_text(json.dumps({"raw": PACK}) + "\n")
    address = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(address))
        env = dict(os.environ, NOTIFY_SOCKET=str(address), WATCHDOG_USEC="2000000")
        env.pop("WATCHDOG_PID", None)  # unset: the watchdog is the process's own
        result = subprocess.run(
            [*terminal_command(), "run", "--scanner", f"script://{scans}", "--screen", "recording://",
             "--indicators", "none://", "--service", "scripted://offline", "--outbox", "memory://"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        systemd.setblocking(False)
        messages = []
        while True:
            try:
                messages.append(systemd.recv(4096).decode())
            except BlockingIOError:
                break
    assert messages[0] == "READY=1"
    assert messages[-1] == "STOPPING=1"
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert statuses and all("\n" not in s for s in statuses)
    assert len(statuses) >= 2  # one at start-up, one after the scan
    assert "WATCHDOG=1" in messages[1:-1]
