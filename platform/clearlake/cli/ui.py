"""``clearlake ui``: the Dagster UI (webserver + daemon) and the report server (the Data API)
on the embedded instance.

Both run in their own process groups (``dagster dev`` ignores SIGTERM and SIGINT otherwise)
and are stopped together, by group, when this command gets SIGINT (Ctrl-C) or SIGTERM. The
report links in the UI are built from CLEARLAKE_PUBLIC_URL; when it is not set, it is the
report server started here. While it runs, an edit of the project's configuration (or of a
feature's SQL) is validated and the code location reloaded (:mod:`clearlake.config_reload`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import dagster as dg
import typer

from clearlake.cli.runs import sweep
from clearlake.config_reload import ConfigWatcher, reload_location
from clearlake.errors import ConfigurationError
from clearlake.settings import ENV_VARS, PROJECT_ROOT, ensure_dagster_home, load_settings

STOP_SECONDS = 20
"""How long a child may take to stop after SIGTERM before it is killed."""


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every child's process group at once, SIGKILL to those still running
    STOP_SECONDS later."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


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
    return _start(command, env)


def ui(
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    api_port: Annotated[
        int, typer.Option(help="Port of the report server (the Data API); 0: none.", min=0)
    ] = 8000,
) -> None:
    """Start `dagster dev` and the report server on Clearlake's workspace and instance.

    Ctrl-C (or SIGTERM) stops both. Edits of the project's clearlake.yaml (and its feature
    SQL) are reloaded into the UI; an invalid edit prints its error and the UI keeps the
    previous definitions.
    """
    settings = load_settings()
    home = ensure_dagster_home(settings)
    sweep(dg.DagsterInstance.get())  # before the daemon: no ghost run holds the queue
    env = dict(os.environ)
    if api_port and not env.get(ENV_VARS["public_url"]):
        env[ENV_VARS["public_url"]] = f"http://{host}:{api_port}"
    public = env.get(ENV_VARS["public_url"], settings.public_url).rstrip("/")
    children: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    watch_stop = threading.Event()
    try:
        server = _report_server(host, api_port, env) if api_port else None
        children += [server] if server else []
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
        ]
        dagster = _start([*command, "-h", host, "-p", str(port)], env)
        children.append(dagster)
        typer.echo(f"Dagster UI on http://{host}:{port} (instance {home})")
        typer.echo(f"Reports on {public}/reports/ (sign in with a Data API token)")
        watcher = ConfigWatcher(settings.config_path, lambda: reload_location(host, port))
        threading.Thread(
            target=watcher.run,
            args=(watch_stop, typer.echo, 1.0),
            name="config-watcher",
            daemon=True,
        ).start()
        while not stopping.is_set() and dagster.poll() is None:
            if server is not None and server.poll() is not None:
                typer.secho("The report server stopped; see its output above.", err=True)
                server = None
            time.sleep(0.2)
    finally:
        watch_stop.set()
        _stop(children)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    raise typer.Exit(0 if stopping.is_set() else (dagster.returncode or 0))


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
