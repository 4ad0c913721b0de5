"""The command table of fmd-terminal (ARCHITECTURE.md: a CLI as a table of commands)."""

import subprocess
import sys

from fmd_terminal import cli


def test_every_command_of_the_table_has_its_module_and_help():
    parser, modules = cli.build_parser()
    assert set(modules) == set(cli.COMMANDS)
    for name, module in modules.items():
        assert callable(module.add_arguments) and callable(module.execute), name
        assert name in parser.format_help()


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "fmd-terminal" in capsys.readouterr().out


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "fmd_terminal", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("fmd-terminal ")
