"""The real Dagster UI on an embedded instance, a reports server, headless Chromium.

Reports are materialised into the instance first (the real definitions for the lake
report and the gallery; the report tests' stand-in evaluation outputs for a candidate),
then ``dagster-webserver`` serves the real workspace and a plain HTTP server serves
``CLEARLAKE_HOME`` so that ``/reports/`` is what the Data API serves.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository

from clearlake.lake.store import LakeStore
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
STAND_INS = PROJECT_ROOT / "tests" / "reports" / "report_definitions.py"
DAY = "2013-01-15"
CANDIDATE = "delay_model@1a2b3c4"


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
            pytest.fail(f"{process.args} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def materialize(
    repo: ReconstructableRepository, instance: dg.DagsterInstance, *keys: str, partition: str | None
) -> None:
    run_config: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
    result = dg.execute_job(
        repo.get_reconstructable_job("__ASSET_JOB"),
        instance,
        asset_selection=[dg.AssetKey(k.split("/")) for k in keys],
        tags={"dagster/partition": partition} if partition else None,
        run_config=run_config,
    )
    assert result.success, f"materialising {keys} failed"


@pytest.fixture(scope="module")
def ui_env(
    tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore, sample_db: str
) -> Iterator[UiEnv]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium: run `make browser`.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("ui-home")
    shutil.copytree(sample_lake.root, home / "lake")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    reports_port, ui_port = free_port(), free_port()
    reports_url = f"http://127.0.0.1:{reports_port}/reports"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARLAKE_HOME", str(home))
        patch.setenv("CLEARLAKE_LAKE_URL", (home / "lake").as_uri())
        patch.setenv("CLEARLAKE_SOURCE_URL", sample_db)
        patch.setenv("CLEARLAKE_REPORTS_URL", reports_url)
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        real = ReconstructableRepository.for_module(
            "assets.definitions", "defs", working_directory=str(PROJECT_ROOT)
        )
        stand_ins = ReconstructableRepository.for_file(
            str(STAND_INS), "defs", working_directory=str(PROJECT_ROOT)
        )
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions("candidates", [CANDIDATE])
            materialize(real, instance, "reports/lake_health", partition=DAY)
            materialize(
                stand_ins,
                instance,
                "evaluation/candidate_comparison",
                "reports/candidate_report",
                partition=CANDIDATE,
            )
            materialize(stand_ins, instance, "evaluation/leaderboard", partition=None)
            materialize(real, instance, "reports/report_gallery", partition=None)
        reports_log, ui_log = home / "reports-server.log", home / "webserver.log"
        server = start(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(home),
                str(reports_port),
            ],
            reports_log,
        )
        webserver = start(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-h",
                "127.0.0.1",
                "-p",
                str(ui_port),
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
            ],
            ui_log,
        )
        try:
            ui_url = f"http://127.0.0.1:{ui_port}"
            wait_for(f"{reports_url}/index.html", server, reports_log, timeout=30)
            wait_for(f"{ui_url}/server_info", webserver, ui_log, timeout=120)
            nux = httpx.post(f"{ui_url}/graphql", json={"query": "mutation { setNuxSeen }"})
            assert nux.json() == {"data": {"setNuxSeen": True}}
            yield UiEnv(ui_url=ui_url, reports_url=reports_url, home=home)
        finally:
            stop(webserver)
            stop(server)
