"""Commit pushed → verdict visible through the Data API, on the production-shaped stack,
beside the same commit through the in-process path of ``commit_to_verdict.py``.

* **Stack**: ``tests/stack/test_production_stack.py`` (PostgreSQL storage as the chart renders
  it, the lake on moto's S3 server, code-location server, Data API, webserver and daemon as
  separate processes, the repository served by ``git daemon``). Split: waiting for the
  sensor's tick (push → run created), run start (created → started: queue, launcher, run
  process), steps (started → comparison materialised), verdict to API (→ the gate headline
  on the commit's page, read through the Data API's ``/reports``: the verdict is visible).
  Recorded apart, not in the target: the report (comparison → report page served). Per
  step, from the run's event log: process start, set-up (definitions, resources), compute.
* **In-process**: the same configuration and the same commit content on the embedded default
  (SQLite storage, local lake): one in-process sensor tick, then ``dagster job execute`` of
  the evaluation job; commit → comparison materialised.

Target: stack push → verdict visible ≤ the sensor's minimum interval + 2 × in-process. Run:
``uv run python benchmarks/stack_loop.py`` (≈ 4 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
STACK_TESTS = ROOT / "tests" / "stack"
SENSOR_INTERVAL_SECONDS = 30  # assets/evaluation/automation.py: minimum_interval_seconds


def stack_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        timings = Path(folder) / "timings.json"
        started = time.time()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:logging",
                "-m",
                "slow",
                str(STACK_TESTS / "test_production_stack.py"),
            ],
            cwd=ROOT,
            env={**os.environ, "CLEARLAKE_STACK_TIMINGS": str(timings)},
            check=True,
        )
        record: dict[str, Any] = json.loads(timings.read_text())
        record["test_wall_seconds"] = round(time.time() - started, 1)
        return record


def in_process_run() -> dict[str, Any]:
    sys.path.insert(0, str(STACK_TESTS))
    sys.path.insert(0, str(ROOT / "examples" / "flights"))  # the example project's package
    from test_production_stack import REPOSITORY, TASK, comparison_key, project_config

    home = Path(tempfile.mkdtemp(prefix="clearlake-stack-bench-"))
    config = project_config("unused://")
    config["repositories"][0]["location"] = str(home / "repos" / REPOSITORY)
    text = yaml.safe_dump(config).replace("/opt/clearlake/", f"{ROOT}/")  # the image's paths
    (home / "clearlake.yaml").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARLAKE_", "AWS_"))}
    env.update(
        CLEARLAKE_HOME=str(home),
        CLEARLAKE_CONFIG=str(home / "clearlake.yaml"),
        DAGSTER_HOME=str(home / "dagster"),
    )
    os.environ.clear()
    os.environ.update(env)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg
    from commit_to_verdict import execute_job_process
    from flights_example.demo_repos import (
        SAMPLE_COMMITS,
        SampleCommit,
        add_commit,
        create_sample_repository,
    )
    from flights_example.sample_db import build_sample_db

    from clearlake.cli.runs import load_definitions
    from clearlake.demo import loop
    from clearlake.lake.store import LakeStore
    from clearlake.lineage import latest
    from clearlake.names import evaluation_job
    from clearlake.project.load import current_project
    from clearlake.settings import load_settings

    settings = load_settings()
    project = current_project(settings)
    instance = dg.DagsterInstance.get()
    store = LakeStore(settings.lake_url)
    build_sample_db(settings.source_url)
    definitions = load_definitions()
    loop.ensure_lake(definitions, instance, store, project, lambda _: None)
    loop.ensure_features_and_suites(definitions, instance, store, project, lambda _: None)
    repo = home / "repos" / REPOSITORY
    create_sample_repository(repo, SAMPLE_COMMITS[:1])
    for done in loop.run_until_quiet(definitions, instance, lambda _: None):
        assert done.success, done.error
    text = SAMPLE_COMMITS[1].files["delay_model.py"]
    sha = add_commit(repo, SampleCommit("Stack test revision", {"delay_model.py": text}))
    key = f"{REPOSITORY}@{sha[:7]}"
    started = time.time()
    requests = loop.tick(definitions, instance)
    assert [r.partition_key for r in requests] == [key], requests
    tags = {**requests[0].tags, "dagster/partition": key, "dagster/run_key": key}
    execute_job_process(evaluation_job(TASK), tags)
    comparison = latest(instance, comparison_key(), key)
    assert comparison is not None, f"no comparison for {key}"
    return {"commit": key, "total_seconds": round(comparison.timestamp - started, 3)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start

    # --smoke: the same single commit (the stack's start-up is the cost: no smaller input)
    run = start("stack_loop", __doc__, argv)
    stack = stack_run()
    print(json.dumps(stack, indent=2), flush=True)
    in_process = in_process_run()
    total = float(stack["seconds"]["verdict_total"])
    target = SENSOR_INTERVAL_SECONDS + 2 * float(in_process["total_seconds"])
    results = {
        "benchmark": "stack_loop",
        "description": " ".join(__doc__.split("\n\n")[0].split()),
        "environment": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "stack": stack,
        "in_process": in_process,
        "ratio_stack_over_in_process": round(total / float(in_process["total_seconds"]), 2),
        "target": {
            "rule": "stack push -> verdict via the Data API <= sensor interval + 2 x in-process",
            "sensor_interval_seconds": SENSOR_INTERVAL_SECONDS,
            "verdict_total_seconds": total,
            "verdict_total_seconds_max": round(target, 2),
            "met": total <= target,
        },
    }
    results = run.finish(results)
    print(json.dumps({k: results[k] for k in ("ratio_stack_over_in_process", "target")}, indent=2))
    return results


if __name__ == "__main__":
    main()
