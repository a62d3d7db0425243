"""``clearlake ui``: the Dagster UI (webserver + daemon) on the embedded instance."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import dagster as dg
import typer

from clearlake.cli.runs import sweep
from clearlake.settings import PROJECT_ROOT, ensure_dagster_home, load_settings


def ui(
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Start `dagster dev` on Clearlake's workspace and instance (Ctrl-C stops it)."""
    home = ensure_dagster_home(load_settings())
    sweep(dg.DagsterInstance.get())  # before the daemon: no ghost run holds the queue
    typer.echo(f"Dagster UI on http://{host}:{port} (instance {home})")
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml")]
    command += ["-h", host, "-p", str(port)]
    raise typer.Exit(subprocess.call(command, cwd=PROJECT_ROOT, env=dict(os.environ)))


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
