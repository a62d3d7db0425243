"""Two loops on the production-shaped stack, each beside the same work through the
in-process path: commit pushed → verdict visible, and file dropped on S3 → lake partition
visible, both read through the Data API.

* **Stack**: ``tests/stack/test_production_stack.py`` (PostgreSQL storage as the chart renders
  it, the lake and the drop zone on moto's S3 server, code-location server, Data API,
  webserver and daemon as separate processes, the repository served by ``git daemon``).
  *Push → verdict*, split: waiting for the sensor's tick (push → run created), run start
  (created → started: queue, launcher, run process), steps (started → comparison
  materialised), verdict to API (→ the gate headline on the commit's page, read through the
  Data API's ``/reports``). Recorded apart, not in the target: the report (comparison →
  report page served). *Drop → lake*, once the evaluation run is over (uncontended): a CSV
  uploaded to ``s3://<bucket>/drops/<dataset>/``, split: waiting for the drop sensor's tick
  (upload → run created), run start, steps (→ the partition of ``lake/drops/<dataset>``
  materialised), lake to API (→ its rows served by ``/v1/datasets/drops.<dataset>/data``).
  Per step of both runs, from the event log: process start, set-up, compute.
* **In-process**: the same configuration, commit and file on the embedded default (SQLite
  storage, local lake and drop folder): one in-process tick of the sensor, then
  ``dagster job execute`` of the run it requests (the evaluation job: commit → comparison
  materialised; the ingestion job: file → partition materialised).

Targets: each stack loop ≤ its sensor's minimum interval + 2 × in-process (a tick waits at
most one interval; the stack may cost twice the in-process work). Run:
``uv run python benchmarks/stack_loop.py`` (≈ 5 minutes).
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
    from test_production_stack import (
        DROP_DATASET,
        DROPPED_NAME,
        DROPPED_TEXT,
        REPOSITORY,
        TASK,
        comparison_key,
        project_config,
    )

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

    from clearlake import names
    from clearlake.cli.runs import load_definitions
    from clearlake.demo import loop
    from clearlake.lake.store import LakeStore
    from clearlake.names import evaluation_job
    from clearlake.orchestration.lineage import latest
    from clearlake.orchestration.resources import DropZoneResource
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
    verdict_seconds = comparison.timestamp - started

    folder = Path(settings.drop_root) / DROP_DATASET
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DROPPED_NAME).write_text(DROPPED_TEXT)
    started = time.time()
    # One tick as the daemon evaluates it: the sensor with its resource, partitions added.
    drop_zone = DropZoneResource(root=settings.drop_root)
    sensor = definitions.resolve_sensor_def(names.DROP_SENSOR)
    with dg.build_sensor_context(instance=instance, resources={"drop_zone": drop_zone}) as ctx:
        result = sensor(ctx)
    assert isinstance(result, dg.SensorResult), result
    for add in result.dynamic_partitions_requests or []:
        assert isinstance(add, dg.AddDynamicPartitionsRequest), add
        instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
    (request,) = result.run_requests or []
    run_config = home / "drop_run.yaml"
    run_config.write_text(yaml.safe_dump(request.run_config))
    partition = str(request.partition_key)
    tags = {**request.tags, "dagster/partition": partition}
    execute_job_process(names.DROP_JOB, tags, config=run_config)
    ingested = latest(instance, names.drop_key(DROP_DATASET), partition)
    assert ingested is not None, f"{DROPPED_NAME} was not ingested into {DROP_DATASET}"
    return {
        "commit": key,
        "verdict_seconds": round(verdict_seconds, 3),
        "drop": f"{DROP_DATASET}/{DROPPED_NAME}",
        "lake_seconds": round(ingested.timestamp - started, 3),
        "sensor_interval_seconds": {
            "commit": definitions.resolve_sensor_def(names.COMMIT_SENSOR).minimum_interval_seconds,
            "drop": definitions.resolve_sensor_def(names.DROP_SENSOR).minimum_interval_seconds,
        },
    }


def target(rule: str, stack_seconds: float, interval: float, in_process: float) -> dict[str, Any]:
    limit = interval + 2 * in_process
    return {
        "rule": rule,
        "sensor_interval_seconds": interval,
        "stack_seconds": stack_seconds,
        "stack_seconds_max": round(limit, 2),
        "met": stack_seconds <= limit,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start

    # --smoke: the same single commit and file (the stack's start-up is the cost: no smaller
    # input)
    run = start("stack_loop", __doc__, argv)
    stack = stack_run()
    print(json.dumps(stack, indent=2), flush=True)
    in_process = in_process_run()
    verdict = float(stack["seconds"]["verdict_total"])
    lake = float(stack["drop"]["seconds"]["lake_total"])
    intervals = in_process["sensor_interval_seconds"]
    results = {
        "benchmark": "stack_loop",
        "description": " ".join(__doc__.split("\n\n")[0].split()),
        "stack": stack,
        "in_process": in_process,
        "ratios": {
            "push_to_verdict": round(verdict / float(in_process["verdict_seconds"]), 2),
            "drop_to_lake": round(lake / float(in_process["lake_seconds"]), 2),
        },
        "targets": {
            "push_to_verdict": target(
                "stack push -> verdict via the Data API <= commit sensor interval + 2 x in-process",
                verdict,
                intervals["commit"],
                float(in_process["verdict_seconds"]),
            ),
            "drop_to_lake": target(
                "stack S3 drop -> rows via the Data API <= drop sensor interval + 2 x in-process",
                lake,
                intervals["drop"],
                float(in_process["lake_seconds"]),
            ),
        },
    }
    results = run.finish(results)
    print(json.dumps({k: results[k] for k in ("ratios", "targets")}, indent=2))
    return results


if __name__ == "__main__":
    main()
