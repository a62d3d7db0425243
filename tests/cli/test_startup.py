"""``clearlake --help`` and every command's help start without Dagster, pandas or pyarrow.

Those three cost ~1.8 s of CPU to import; help and argument errors need none of them.
The installed ``clearlake`` script runs in real subprocesses with Python's import log
(``PYTHONPROFILEIMPORTTIME``), which names every module the process imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clearlake.cli import main

HEAVY = ("dagster", "pandas", "pyarrow")
SCRIPT = Path(sys.executable).with_name("clearlake")


def imported(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real ``clearlake`` script; return its result and the top-level packages it
    imported."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "CLEARLAKE_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )
    modules = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, modules


@pytest.mark.parametrize("args", [["--help"], ["candidates", "--help"]])
def test_help_imports_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    result, modules = imported(args, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage: clearlake" in result.stdout
    assert "typer" in modules  # the import log was read: the assertion below can fail
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_every_command_help_imports_no_heavy_library(tmp_path: Path) -> None:
    """Each command and subcommand's ``--help``, in one fresh process: what help loads."""
    program = textwrap.dedent(
        """
        import sys
        from typer.testing import CliRunner
        from clearlake.cli.main import app

        def walk(group, ctx, path):
            for name in group.list_commands(ctx):
                command = group.get_command(ctx, name)
                yield path + [name]
                if hasattr(command, "list_commands"):
                    yield from walk(command, ctx, path + [name])

        import typer
        root = typer.main.get_command(app)
        ctx = root.make_context("clearlake", ["--help"], resilient_parsing=True)
        paths = list(walk(root, ctx, []))
        for path in paths:
            result = CliRunner().invoke(app, [*path, "--help"])
            assert result.exit_code == 0, (path, result.output)
        print(" ".join("/".join(p) for p in paths))
        print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))))
        """
    ).replace("HEAVY", repr(HEAVY))
    env = {**os.environ, "CLEARLAKE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    walked, heavy = [*result.stdout.splitlines(), ""][:2]
    for path in ("candidates", "gate/calibrate", "api/token/issue", "lake/days", "reports/list"):
        assert path in walked.split(), walked  # groups stay groups, even of one command
    assert heavy == "", f"help imported {heavy}: import it inside the command function"


def test_every_command_module_is_loaded_lazily() -> None:
    """A command module missing from ``COMMANDS`` is imported on every start (and may pull a
    heavy library into ``clearlake --help``): list it there."""
    assert main._unlisted_command_modules() == []


def test_unknown_command_suggests_a_lazy_one(tmp_path: Path) -> None:
    result, _ = imported(["candidate"], tmp_path)
    assert result.returncode == 2
    assert "No such command 'candidate'. Did you mean 'candidates'?" in result.stderr
