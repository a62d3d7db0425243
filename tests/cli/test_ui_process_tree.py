"""``clearlake ui`` stopped by a signal stops everything it started and frees its port.

A real ``clearlake ui`` (dagster dev: webserver, daemon, code server) on a tiny project;
SIGTERM to the CLI process alone, as a process manager sends it. SIGINT (Ctrl-C) goes
through the same handler; it is checked on a real process tree below, without Dagster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import psutil
import pytest

CLI = [sys.executable, "-c", "from clearlake.cli.main import main; main()"]
CONFIG = """\
project:
  name: ui-stop
sources:
  orders:
    partition: {column: ordered_on, first_day: 2024-03-01, last_day: 2024-03-02}
    keys: [order_id]
    columns:
      order_id: string not null
      ordered_on: date32 not null
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def tree(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def kill_all(processes: list[psutil.Process]) -> None:
    """Clean-up after a failure: only the processes this test started, by pid."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@pytest.mark.slow
def test_sigterm_stops_webserver_daemon_and_code_server_and_frees_the_port(
    tmp_path: Path,
) -> None:
    config = tmp_path / "clearlake.yaml"
    config.write_text(CONFIG)
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "CLEARLAKE_CONFIG": str(config),
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}",
        "CLEARLAKE_LAKE_URL": (home / "lake").as_uri(),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        ui = subprocess.Popen(
            [*CLI, "ui", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    started: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while True:
            assert ui.poll() is None, f"clearlake ui exited early:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no UI on :{port}:\n{log.read_text()[-3000:]}"
            started = tree(ui.pid)
            names = " ".join(" ".join(p.cmdline()) for p in started)
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).is_success
            except httpx.HTTPError:
                answered = False
            if answered and "dagster_webserver" in names and "api grpc" in names:
                break
            time.sleep(0.5)
        assert "dagster._daemon" in names, names
        assert len(started) >= 4, names  # dagster dev, webserver, daemon, code server(s)

        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert alive(started) == [], log.read_text()[-3000:]
        assert port_free(port)
        assert "SIGTERM: stopping the Dagster UI" in log.read_text()
    finally:
        if ui.poll() is None:
            ui.kill()
        kill_all(started)


TREE = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path
    from clearlake.cli.process_group import StopRequested, start_group, stop_group, stop_on_signals
    # a child that ignores SIGTERM and a grandchild in the same group
    inner = "import signal, subprocess, sys, time; "
    inner += "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    inner += "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    inner += "time.sleep(600)"
    with stop_on_signals():
        child = start_group([sys.executable, "-c", inner], cwd=Path.cwd())
        print(child.pid, flush=True)
        try:
            child.wait()
        except StopRequested as request:
            print(request, flush=True)
        finally:
            stop_group(child, grace=2.0)
    print("stopped", flush=True)
    """
)


def test_sigint_stops_a_group_whose_members_ignore_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            child = psutil.Process(int(parent.stdout.readline()))
            deadline = time.monotonic() + 30
            while not child.children() and time.monotonic() < deadline:
                time.sleep(0.05)
            started = [child, *child.children(recursive=True)]
            assert len(started) == 2
            parent.send_signal(signal.SIGINT)
            out, _ = parent.communicate(timeout=30)
            assert out.split() == ["SIGINT", "stopped"]
            assert alive(started) == []
        finally:
            parent.kill()
