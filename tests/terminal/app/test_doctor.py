"""``fmd-terminal doctor``: one line per check and what to fix; exit 1 when a check fails."""

import os
import socket

from fmd_simulator.testing import running_simulator
from fmd_terminal.cli import main
from fmd_terminal.commands import doctor


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_doctor(capsys, monkeypatch, *flags):
    monkeypatch.setenv("FMD_CLIENT_ID", "pharmacy-demo")
    monkeypatch.setenv("FMD_CLIENT_SECRET", "demo-secret")
    code = main(["doctor", "--screen", "recording://?render=0", "--indicators", "recording://", *flags])
    return code, capsys.readouterr().out


def test_everything_healthy(capsys, monkeypatch, tmp_path):
    script = tmp_path / "s.jsonl"
    script.write_text("", encoding="utf-8")
    with running_simulator() as sim:
        code, out = run_doctor(capsys, monkeypatch, "--scanner", f"script://{script}", "--service", sim.base_url,
                               "--outbox", f"sqlite://{tmp_path / 'outbox.db'}")
    lines = {line.split()[1]: line.split()[0] for line in out.splitlines() if not line.startswith(" ")
             and "checks passed" not in line}
    assert lines.pop("clock") in ("ok", "WARN")  # the CI machine's clock may not be synchronised
    assert set(lines.values()) == {"ok"}, out
    assert code == 0 and "answered in" in out and "0 pending" in out


def test_problems_are_named_with_their_fix(capsys, monkeypatch, tmp_path):
    code, out = run_doctor(capsys, monkeypatch, "--scanner", "usb://scanner", "--service",
                           f"http://127.0.0.1:{free_port()}", "--outbox", "memory://")
    assert code == 1
    assert "FAIL  scanner" in out and "script://" in out  # the known schemes are listed
    assert "FAIL  service" in out and "refused" in out and "recorded offline" in out
    assert "fix: scanner, service" in out


def test_clock_checks():
    assert doctor.check_clock(now_s=0, synced=True).status == "FAIL"  # 1970: no RTC, no NTP yet
    assert doctor.check_clock(now_s=1_790_000_000, synced=False).status == "WARN"
    assert doctor.check_clock(now_s=1_790_000_000, synced=True).status == "ok"


def test_world_writable_configuration_fails(tmp_path):
    from fmd_terminal.config import load

    path = tmp_path / "t.toml"
    path.write_text('mode = "verify"\n', encoding="utf-8")
    os.chmod(path, 0o666)
    assert doctor.check_permissions(load(str(path), environ={})).status == "FAIL"
    os.chmod(path, 0o644)
    assert doctor.check_permissions(load(str(path), environ={})).status == "ok"
