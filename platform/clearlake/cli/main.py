"""Entry point of the ``clearlake`` command.

Commands are loaded lazily: ``COMMANDS`` names the module and attribute of each, and a
command's module is imported only when that command runs or help lists it (Click's
documented LazyGroup pattern, on Typer's group class). Command modules import Dagster,
pandas and pyarrow inside their command functions, never at the top: ``clearlake --help``
then costs ~0.2 s of CPU instead of ~2 s (benchmarks/cli_startup.py), and
tests/cli/test_startup.py fails if a heavy library creeps back into a help path.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import clearlake.cli as cli_package
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings

COMMANDS: dict[str, str] = {
    "build": "clearlake.cli.build:build",
    "demo": "clearlake.cli.demo:demo",
    "submit": "clearlake.cli.evaluation:submit",
    "why": "clearlake.cli.evaluation:why",
    "diff": "clearlake.cli.evaluation:diff",
    "leaderboard": "clearlake.cli.leaderboard:leaderboard",
    "candidates": "clearlake.cli.candidates:candidates_app",
    "compare": "clearlake.cli.compare:compare",
    "monitor": "clearlake.cli.monitor:monitor",
    "ui": "clearlake.cli.ui:ui",
    "api": "clearlake.cli.api:api_app",
    "config": "clearlake.cli.config:config_app",
    "drops": "clearlake.cli.drops:drops_app",
    "experiment": "clearlake.cli.experiment:experiment_app",
    "gate": "clearlake.cli.gate:gate_app",
    "sample-db": "clearlake.cli.lake:sample_db_app",
    "lake": "clearlake.cli.lake:lake_app",
    "reports": "clearlake.cli.reports:reports_app",
}
"""Every command: name → ``module:attribute`` (a command function or a ``typer.Typer``)."""

SUPPORT_MODULES = frozenset({"main", "output", "process_group", "runs"})
"""Modules of this package that hold no command."""


def load_command(name: str, target: str) -> Any:
    """Import ``module:attribute`` and make it the Click command ``name``, exactly as
    ``app.command(name)`` or ``app.add_typer(found, name=name)`` would have."""
    module_name, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module_name), attribute)
    holder = typer.Typer()
    holder.callback()(_no_options)  # a group, even around a single command
    if isinstance(found, typer.Typer):
        holder.add_typer(found, name=name)
    else:
        holder.command(name)(found)
    group = typer.main.get_command(holder)
    return group.commands[name]  # type: ignore[attr-defined]


def _no_options() -> None:
    pass


class LazyCommands(TyperGroup):
    """A Typer group whose commands are imported on first use (see the module docstring)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name, COMMANDS[cmd_name])
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        known = self.list_commands(ctx)
        if args and not args[0].startswith("-") and args[0] not in known:
            import difflib

            close = difflib.get_close_matches(args[0], known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {args[0]!r}.{hint}")
        return super().resolve_command(ctx, args)


def _warnings_to_log() -> None:
    """Framework warnings (Dagster's Beta/Preview notices…) go to a log file, not the terminal.

    Normal command output shows Clearlake's own messages only; the log is under
    CLEARLAKE_HOME/logs/warnings.log for whoever wants them.
    """
    import logging

    logging.captureWarnings(True)
    logger = logging.getLogger("py.warnings")
    if logger.handlers:  # set once per process (CliRunner invokes many times)
        return
    logger.propagate = False
    try:
        folder = load_settings().home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        logger.addHandler(logging.FileHandler(folder / "warnings.log", delay=True))
    except (OSError, ClearlakeError):
        logger.addHandler(logging.NullHandler())


app = typer.Typer(
    name="clearlake",
    cls=LazyCommands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback(
    help=(
        "Clearlake: a continuous-evaluation platform on Dagster.\n\n"
        "Replicate production into the lake, evaluate every commit of an algorithm against its "
        "baseline, render reports, launch experiments. Settings come from CLEARLAKE_* "
        "environment variables (default: everything local under ./.clearlake)."
    )
)
def clearlake(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
) -> None:
    """The options every command takes (the help is above: Typer would keep this
    docstring's line breaks)."""
    global _debug
    _debug = debug
    _warnings_to_log()  # before the command runs, and with it Dagster's imports


_debug = False
"""``--debug`` was given: :func:`main` re-raises errors instead of printing one line."""


def _unlisted_command_modules() -> list[str]:
    """Modules of this package with a ``register(app)`` but no entry in ``COMMANDS``: still
    loaded (eagerly, so their commands work) until they are listed there."""
    listed = {target.partition(":")[0].rsplit(".", 1)[-1] for target in COMMANDS.values()}
    folder = Path(cli_package.__file__).parent
    return sorted(
        path.stem
        for path in folder.glob("*.py")
        if path.stem not in listed and path.stem not in SUPPORT_MODULES | {"__init__"}
    )


for _name in _unlisted_command_modules():
    _register = getattr(importlib.import_module(f"clearlake.cli.{_name}"), "register", None)
    if _register is not None:
        _register(app)


def main() -> None:
    """Run the CLI; a ClearlakeError prints its message (no stack trace) and exits 2, and so
    does an unusable storage; ``--debug`` re-raises instead, with the traceback.

    Click's standalone mode prints usage errors (unknown option, missing command) with
    the help hint and exits 2 itself; typer vendors its own copy of click, so those
    errors are not ``click.ClickException`` and must not be caught here.
    """
    try:
        app()
    except ClearlakeError as exc:
        if _debug:
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as exc:  # storage the settings name is unusable: a user's fix, not a bug
        if _debug:
            raise
        typer.secho(f"error: {storage_problem(exc)}", fg=typer.colors.RED, err=True)
        sys.exit(2)


def storage_problem(exc: OSError) -> str:
    """One line for a file-system or object-store error (a missing S3 bucket, an unwritable
    CLEARLAKE_HOME): what failed, and which settings to check."""
    if exc.strerror and exc.filename:
        what = f"{exc.strerror}: {exc.filename}"
    else:
        what = " ".join(str(exc).split()) or type(exc).__name__
    return (
        f"{what}. Check CLEARLAKE_HOME, CLEARLAKE_LAKE_URL and the storage they name "
        "(exists, writable, credentials)."
    )


if __name__ == "__main__":
    main()
