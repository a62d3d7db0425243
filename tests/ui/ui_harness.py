"""Helpers of the UI test: the real Dagster UI, a reports server, headless Chromium.

Reports are materialised into the instance first, in process (the real report definitions;
the report tests' stand-in evaluation outputs for a candidate of ``arrival_delay``),
then ``dagster-webserver`` serves the real workspace and a plain HTTP server serves
``CLEARLAKE_HOME`` so that ``/reports/`` is what the Data API serves.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from clearlake.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
REPORT_TESTS = PROJECT_ROOT / "tests" / "reports"
"""Where ``report_harness`` (definitions with stand-in evaluation outputs) lives."""
DAY = "2013-01-15"
TASK = "arrival_delay"
CANDIDATE = "flight-delays@1a2b3c4"


@dataclass(frozen=True)
class UiEnv:
    ui_url: str
    reports_url: str
    home: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """In its own process group: dagster-webserver ignores SIGTERM otherwise."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the process group this fixture started (and nothing else)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def materialize(
    defs: dg.Definitions, instance: dg.DagsterInstance, *keys: str, partition: str | None
) -> None:
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k.split("/")) for k in keys],
        partition_key=partition,
    )
    assert result.success, f"materialising {keys} failed"
