"""Shared helpers for the fmd-provision tests: run the CLI in-process and capture its output."""

from __future__ import annotations

import pytest

from fmd_provision.cli import main


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def provision(capsys):
    """Call ``fmd-provision ARGS...``; returns a ``Run`` with exit code, stdout and stderr."""

    def run(*args: str) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
