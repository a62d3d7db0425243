"""A CLI run killed with -9 is marked failed by the next CLI start: no ghost stays STARTED."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

CLI = [sys.executable, "-c", "from clearlake.cli.main import main; main()"]


def runs_by_status(home: Path) -> dict[str, list[str]]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        found: dict[str, list[str]] = {}
        for record in instance.get_run_records():
            found.setdefault(record.dagster_run.status.value, []).append(record.dagster_run.run_id)
        return found


def test_kill_9_of_a_replication_leaves_no_run_started(tmp_path: Path, sample_db: str) -> None:
    source = tmp_path / "production.sqlite"
    shutil.copy(sample_db.removeprefix("sqlite:///"), source)
    dagster_home = tmp_path / "home" / "dagster"
    env = {
        **os.environ,
        "CLEARLAKE_HOME": str(tmp_path / "home"),
        "CLEARLAKE_SOURCE_URL": f"sqlite:///{source}",
        "DAGSTER_HOME": str(dagster_home),
    }
    victim = subprocess.Popen(
        [*CLI, "lake", "replicate", "flights"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (dagster_home / "dagster.yaml").exists() or "STARTED" not in runs_by_status(
        dagster_home
    ):
        if victim.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the replication never reached STARTED")
        time.sleep(0.2)
    time.sleep(1.0)  # mid-run: writing partitions
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    (ghost,) = runs_by_status(dagster_home)["STARTED"]

    after = subprocess.run(
        [*CLI, "lake", "replicate", "weather", "--end", "2013-01-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert after.returncode == 0, after.stderr
    assert f"run {ghost} was left unfinished by a killed process: marked failed" in after.stderr
    statuses = runs_by_status(dagster_home)
    assert "STARTED" not in statuses
    assert ghost in statuses["FAILURE"] and len(statuses["SUCCESS"]) == 1
