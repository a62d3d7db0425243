"""Entry point of the ``clearlake`` command.

Every module of this package that defines ``register(app)`` adds its commands; they are
found automatically, so a new command group never edits this file.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import typer

import clearlake.cli as cli_package
from clearlake.errors import ClearlakeError
from clearlake.settings import load_settings


def _warnings_to_log() -> None:
    """Framework warnings (Dagster's Beta/Preview notices…) go to a log file, not the terminal.

    Normal command output shows Clearlake's own messages only; the log is under
    CLEARLAKE_HOME/logs/warnings.log for whoever wants them.
    """
    logging.captureWarnings(True)
    logger = logging.getLogger("py.warnings")
    logger.propagate = False
    try:
        folder = load_settings().home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        logger.addHandler(logging.FileHandler(folder / "warnings.log"))
    except (OSError, ClearlakeError):
        logger.addHandler(logging.NullHandler())


_warnings_to_log()  # before the command modules import Dagster

app = typer.Typer(
    name="clearlake",
    help=(
        "Clearlake: a continuous-evaluation platform on Dagster.\n\n"
        "Replicate production into the lake, evaluate every commit of an algorithm "
        "against its baseline, render reports, launch experiments. Settings come from "
        "CLEARLAKE_* environment variables (default: everything local under ./.clearlake)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module_info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
    if module_info.name == "main":
        continue
    module = importlib.import_module(f"clearlake.cli.{module_info.name}")
    register = getattr(module, "register", None)
    if register is not None:
        register(app)


def main() -> None:
    """Run the CLI; a ClearlakeError prints its message (no stack trace) and exits 2.

    Click's standalone mode prints usage errors (unknown option, missing command) with
    the help hint and exits 2 itself; typer vendors its own copy of click, so those
    errors are not ``click.ClickException`` and must not be caught here.
    """
    try:
        app()
    except ClearlakeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as exc:  # storage the settings name is unusable: a user's fix, not a bug
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
