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
    deadline = time.monotonic() + 300  # a loaded CI machine loads the definitions slowly
    while not (dagster_home / "dagster.yaml").exists() or "STARTED" not in runs_by_status(
        dagster_home
    ):
        if victim.poll() is not None or time.monotonic() > deadline:
            pytest.fail(
                "the replication never reached STARTED "
                f"(exit code {victim.poll()}, runs {runs_by_status(dagster_home)})"
            )
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


MAKER = """
import os, sys
import dagster as dg
from clearlake.orchestration.run_sweep import owner_tags

@dg.asset
def thing() -> int:
    return 1

defs = dg.Definitions(assets=[thing], jobs=[dg.define_asset_job("make_thing")])
job = defs.resolve_job_def("make_thing")
with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    run = instance.create_run_for_job(job, tags={**owner_tags(), **dict([sys.argv[2].split("=")])})
    print(run.run_id, flush=True)
    os._exit(0)  # killed between creating its run and starting it
"""


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_a_run_whose_creator_died_before_it_started_is_swept(tmp_path: Path) -> None:
    """`kill -9` of a CLI between creating its run and starting it left it NOT_STARTED for
    ever; the creator's pid tag lets the next start sweep it (and nothing else)."""
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    made = subprocess.run(
        [sys.executable, "-c", MAKER, str(home), "who=dead"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    ghost = made.stdout.split()[0]
    from clearlake.orchestration.run_sweep import fail_dead_runs, owner_tags

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert status(instance, ghost) == dg.DagsterRunStatus.NOT_STARTED

        # A NOT_STARTED run of a live creator (this process) is not touched.
        @dg.asset
        def other() -> int:
            return 2

        defs = dg.Definitions(assets=[other], jobs=[dg.define_asset_job("make_other")])
        job = defs.resolve_job_def("make_other")
        alive = instance.create_run_for_job(job, tags=owner_tags())
        assert fail_dead_runs(instance) == [ghost]
        assert status(instance, ghost) == dg.DagsterRunStatus.FAILURE
        assert status(instance, alive.run_id) == dg.DagsterRunStatus.NOT_STARTED
