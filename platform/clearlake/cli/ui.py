"""``clearlake ui``: the Dagster UI (webserver + daemon) and the report server (the Data API)
on the embedded instance.

Both run in their own process groups (:mod:`clearlake.cli.process_group`) and are stopped
together, every process of both, when this command gets SIGINT (Ctrl-C) or SIGTERM. The
report links in the UI are built from CLEARLAKE_PUBLIC_URL; when it is not set, it is the
report server started here. While it runs, an edit of the project's configuration (or of a
feature's SQL) is validated and the code location reloaded
(:mod:`clearlake.orchestration.config_reload`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from clearlake.cli.process_group import StopRequested, start_group, stop_group, stop_on_signals
from clearlake.errors import ConfigurationError
from clearlake.settings import ENV_VARS, PROJECT_ROOT, ensure_dagster_home, load_settings


def _report_server(host: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    from clearlake.cli.api import _check_port_free

    try:
        _check_port_free(host, port)
    except ConfigurationError as exc:
        typer.secho(
            f"warning: no report server started: {exc} (--api-port 0 starts none)",
            fg=typer.colors.YELLOW,
            err=True,
        )
        return None
    cli = str(Path(sys.executable).with_name("clearlake"))
    command = [cli, "api", "serve", "--host", host, "--port", str(port), "--log-level", "warning"]
    return start_group(command, cwd=PROJECT_ROOT, env=env)


def ui(
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    api_port: Annotated[
        int, typer.Option(help="Port of the report server (the Data API); 0: none.", min=0)
    ] = 8000,
) -> None:
    """Start `dagster dev` and the report server on Clearlake's workspace and instance.

    Ctrl-C (or SIGTERM) stops both, with the whole process tree (webserver, daemon, code
    servers, run workers). Edits of the project's clearlake.yaml (and its feature SQL) are
    reloaded into the UI; an invalid edit prints its error and the UI keeps the previous
    definitions.
    """
    import dagster as dg

    from clearlake.cli.runs import sweep
    from clearlake.orchestration.config_reload import ConfigWatcher, reload_location

    settings = load_settings()
    home = ensure_dagster_home(settings)
    sweep(dg.DagsterInstance.get())  # before the daemon: no ghost run holds the queue
    env = dict(os.environ)
    if api_port and not env.get(ENV_VARS["public_url"]):
        env[ENV_VARS["public_url"]] = f"http://{host}:{api_port}"
    public = env.get(ENV_VARS["public_url"], settings.public_url).rstrip("/")
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml")]
    command += ["-h", host, "-p", str(port)]
    watcher = ConfigWatcher(settings.config_path, lambda: reload_location(host, port))
    watch_stop = threading.Event()
    children: list[subprocess.Popen[bytes]] = []
    code = 0
    with stop_on_signals():
        try:
            server = _report_server(host, api_port, env) if api_port else None
            children += [server] if server else []
            dev = start_group(command, cwd=PROJECT_ROOT, env=env)
            children.append(dev)
            typer.echo(f"Dagster UI on http://{host}:{port} (instance {home})")
            if server is not None:
                typer.echo(f"Reports on {public}/reports/ (sign in with a Data API token)")
            threading.Thread(
                target=watcher.run,
                args=(watch_stop, typer.echo, 1.0),
                name="config-watcher",
                daemon=True,
            ).start()
            while dev.poll() is None:
                if server is not None and server.poll() is not None:
                    typer.secho("The report server stopped; see its output above.", err=True)
                    server = None
                time.sleep(0.2)
            code = dev.returncode or 0
        except StopRequested as request:
            typer.echo(f"{request}: stopping the Dagster UI and everything it started")
        finally:
            watch_stop.set()
            for child in children:
                stop_group(child)
    raise typer.Exit(code)
