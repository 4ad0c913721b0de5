"""The fmd-provision command table and its exit codes, through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fmd_provision.cli import COMMANDS


def run_cli(*args):
    script = shutil.which("fmd-provision", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "fmd_provision.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert set(COMMANDS) == {"new-device", "bundle", "write-boot", "deploy", "sheet", "image-config", "site-broker",
                             "central-broker"}


def test_no_command_prints_help_and_exits_2():
    result = run_cli()
    assert result.returncode == 2
    assert "usage: fmd-provision" in result.stdout


@pytest.mark.parametrize("args", [["new-device"], ["write-boot"], ["sheet"], ["frobnicate"]])
def test_usage_errors_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
