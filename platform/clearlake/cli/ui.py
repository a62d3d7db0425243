"""``clearlake ui``: the Dagster UI (webserver + daemon) on the embedded instance.

While it runs, an edit of the project's configuration (or of a feature's SQL) is
validated and the code location reloaded (:mod:`clearlake.config_reload`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Annotated

import typer

from clearlake.settings import PROJECT_ROOT, ensure_dagster_home, load_settings


def ui(
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Start `dagster dev` on Clearlake's workspace and instance (Ctrl-C stops it).

    Edits of the project's clearlake.yaml (and its feature SQL) are reloaded into the UI;
    an invalid edit prints its error and the UI keeps the previous definitions.
    """
    import dagster as dg

    from clearlake.cli.runs import sweep
    from clearlake.config_reload import ConfigWatcher, reload_location

    settings = load_settings()
    home = ensure_dagster_home(settings)
    sweep(dg.DagsterInstance.get())  # before the daemon: no ghost run holds the queue
    typer.echo(f"Dagster UI on http://{host}:{port} (instance {home})")
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml")]
    command += ["-h", host, "-p", str(port)]
    watcher = ConfigWatcher(settings.config_path, lambda: reload_location(host, port))
    stop = threading.Event()
    thread = threading.Thread(
        target=watcher.run, args=(stop, typer.echo, 1.0), name="config-watcher", daemon=True
    )
    thread.start()
    try:
        code = subprocess.call(command, cwd=PROJECT_ROOT, env=dict(os.environ))
    finally:
        stop.set()
    raise typer.Exit(code)
