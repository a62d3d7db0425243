"""`clearlake ui` gives a working link to the reports: it starts the report server (the Data
API) beside `dagster dev`, prints its address, and stops both, every process of both, when
it is stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest
from live_api import CLI, MASK_KEY, free_port

from clearlake.lake.store import LakeStore


def _descendants(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(pid).children(recursive=True)
    return []


def _wait_for_login_redirect(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with contextlib.suppress(httpx.TransportError):
            answer = httpx.get(url, headers={"Accept": "text/html"}, timeout=2)
            assert (answer.status_code, answer.headers["location"]) == (
                303,
                "/login?next=%2Freports%2F",
            )
            return
        time.sleep(0.2)
    pytest.fail(f"the report server did not answer at {url}:\n{log.read_text()[-3000:]}")


def test_ui_starts_the_report_server_and_stops_everything(
    tmp_path: Path, sample_lake: LakeStore
) -> None:
    """SIGTERM (what CI and process managers send); Ctrl-C's SIGINT takes the same handler."""
    api_port, ui_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLAKE_", "DAGSTER_"))}
    env.update(
        CLEARLAKE_HOME=str(tmp_path / "home"),
        CLEARLAKE_LAKE_URL=sample_lake.url,
        CLEARLAKE_API_MASK_KEY=MASK_KEY,
    )
    log = tmp_path / "ui.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [CLI, "ui", "--port", str(ui_port), "--api-port", str(api_port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # as a terminal would: its own group, signalled alone
        )
    try:
        reports = f"http://127.0.0.1:{api_port}/reports/"
        _wait_for_login_redirect(reports, process, log)
        assert f"Reports on {reports} (sign in with a Data API token)" in log.read_text()
        deadline = time.monotonic() + 120  # dagster dev starts its webserver, daemon, code server
        while time.monotonic() < deadline:
            children = _descendants(process.pid)
            names = " ".join(" ".join(p.cmdline()) for p in children)
            if all(n in names for n in ("dagster_webserver", "dagster._daemon", "api grpc")):
                break
            time.sleep(0.5)
        assert "api serve" in names and "dagster_webserver" in names, names
        assert "dagster._daemon" in names and "api grpc" in names, names
        process.send_signal(signal.SIGTERM)  # to `clearlake ui` only: it must stop the others
        assert process.wait(timeout=60) == 0, log.read_text()
        _gone, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        with pytest.raises(httpx.TransportError):
            httpx.get(reports, timeout=2)
        for port in (ui_port, api_port):  # nothing left holding a port
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
        assert "SIGTERM: stopping the Dagster UI and everything it started" in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
