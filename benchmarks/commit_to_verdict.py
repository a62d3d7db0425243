"""Commit-to-verdict latency on the embedded default, beside the same work as a plain script.

For each of ``REPEATS`` new commits (the gradient-boosting model, so real compute):

* **Clearlake**: one in-process tick of the commit sensor notices the commit and registers
  its partition; the run is then executed as the embedded default does it: a run process
  (``dagster job execute`` of the task's evaluation job, which loads the code
  location), steps in that process (the job's local executor), the candidate in its own
  process via Pipes, the report notebook after the verdict. The verdict time is the
  comparison's materialisation timestamp minus the tick's start.
  *compute* = the time spent inside the assets (``compute_seconds`` metadata: the candidate
  process, scoring, comparison); *orchestration* = the rest.
* **Plain script**: one ``python`` process that reads the same suites, imports the same
  candidate tree, fits, predicts, scores and compares with the baseline's predictions
  through the same library functions.

Also counted: materialisations of lake, feature and suite assets during the candidate
runs (the incremental figure; target 0). Run: ``uv run python benchmarks/commit_to_verdict.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for real once the environment is set
    import dagster as dg

    from clearlake.evaluation.git import GitRepository
    from clearlake.lake.store import LakeStore
    from clearlake.settings import Settings

REPEATS = 3
ROOT = Path(__file__).resolve().parents[1]

TASK = "arrival_delay"
PLAIN_SCRIPT = """
import sys, time, importlib
started = time.perf_counter()
import numpy as np
import pandas as pd
from clearlake.evaluation.scoring import compare_predictions, score_predictions
from clearlake.evaluation.metrics import task_metrics
from clearlake.evaluation.predictions import predictions_table
from clearlake.evaluation.suites import candidate_columns, load_suite, row_id
from clearlake.lake.store import LakeStore
from clearlake.project.load import load_project
lake, config_path, tree, baseline_path, name = sys.argv[1:6]
project = load_project(__import__("pathlib").Path(config_path))
task = project.task(name)
dataset = project.feature(task.dataset)
metrics = task_metrics(task, lambda ref: project.load_object(ref, what="metric"))
store = LakeStore(lake)
def suite(s):
    return load_suite(store, task_name=name, task=task, dataset=dataset, suite_name=s)
train, test = suite(task.train_suite), suite(task.test_suite)
sys.path.insert(0, tree)
model = importlib.import_module("delay_model").DelayModel()
model.fit(train.select(candidate_columns(task, dataset, train=True)).to_pandas())
frame = test.select(candidate_columns(task, dataset, train=False)).to_pandas()
values = np.asarray(model.predict(frame), dtype=float)
predictions = predictions_table(test, values, task=task, row_id=row_id(task, dataset)).to_pandas()
score_predictions(predictions, task, metrics)
compare_predictions(predictions, pd.read_parquet(baseline_path), task, metrics)
print(time.perf_counter() - started)
"""


def execute_job_process(
    job: str,
    tags: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    config: Path | None = None,
) -> None:
    """Run ``job`` of the code location in its own process (``dagster job execute``), as a
    run worker does: the evaluation time a commit costs, start-up included. ``env``
    replaces the environment (another project configuration, for instance); ``config`` is
    a run-config YAML file."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "job",
            "execute",
            "-m",
            "assets.definitions",
            "-a",
            "defs",
            "-j",
            job,
            "--tags",
            json.dumps(tags),
            *(["-c", str(config)] if config is not None else []),
        ],
        cwd=ROOT,
        env=dict(os.environ) if env is None else env,
        check=False,
        capture_output=True,
    )


def median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in rows))


def quiet(_: str) -> None:
    """Setup progress is not printed."""


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLAKE_")}
    env.update(CLEARLAKE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    return env


@dataclass
class Prepared:
    """The embedded default with its lake, features, suites and two evaluated commits."""

    home: Path
    definitions: dg.Definitions
    instance: dg.DagsterInstance
    store: LakeStore
    settings: Settings
    repo: Path
    git: GitRepository


def prepare(prefix: str = "clearlake-bench-") -> Prepared:
    """A fresh CLEARLAKE_HOME (this process's environment is replaced to select it) with
    the sample database, the lake and features of the task's window, its suites, and the
    flight-delays repository's first two commits evaluated."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.clear()
    os.environ.update(environment(home))
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    sys.path.insert(0, str(ROOT / "examples" / "flights"))  # the example project's package
    from flights_example.demo_repos import SAMPLE_COMMITS, create_sample_repository
    from flights_example.sample_db import build_sample_db

    from clearlake.cli.runs import load_definitions
    from clearlake.demo import loop
    from clearlake.evaluation.git import git_repository
    from clearlake.lake.store import LakeStore
    from clearlake.project.load import current_project
    from clearlake.settings import load_settings

    settings = load_settings()
    project = current_project(settings)
    instance = dg.DagsterInstance.get()
    store = LakeStore(settings.lake_url)

    print("setting up: sample database, lake, features, suites, baseline", flush=True)
    build_sample_db(settings.source_url)
    definitions = load_definitions()
    loop.ensure_lake(definitions, instance, store, project, quiet, tasks=[TASK])
    loop.ensure_features_and_suites(definitions, instance, store, project, quiet, tasks=[TASK])
    git = git_repository(project, "flight-delays", settings)
    repo = Path(git.location)
    create_sample_repository(repo, SAMPLE_COMMITS[:2])
    for done in loop.run_until_quiet(definitions, instance, quiet):
        assert done.success, done.error
    return Prepared(home, definitions, instance, store, settings, repo, git)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from harness import start

    run = start("commit_to_verdict", __doc__, argv)
    repeats = 1 if run.smoke else REPEATS  # --smoke: one commit
    prepared = prepare()
    definitions, instance, store = prepared.definitions, prepared.instance, prepared.store
    settings, repo, git = prepared.settings, prepared.repo, prepared.git

    import dagster as dg
    from flights_example.demo_repos import SAMPLE_COMMITS, SampleCommit, add_commit

    from clearlake.demo import loop
    from clearlake.names import comparison_key, evaluation_job, predictions_key, suite_key
    from clearlake.orchestration.lineage import latest

    upstream = {"lake", "features", "suites"}
    clearlake_runs: list[dict[str, Any]] = []
    plain_runs: list[dict[str, Any]] = []
    for index in range(repeats):
        text = SAMPLE_COMMITS[1].files["delay_model.py"] + f"\n# revision {index}\n"
        parent = git.branch_head("main")
        assert parent is not None
        sha = add_commit(repo, SampleCommit(f"Revision {index}", {"delay_model.py": text}))
        key = f"flight-delays@{sha[:7]}"

        started = time.time()
        requests = loop.tick(definitions, instance)
        noticed = time.time()
        assert [r.partition_key for r in requests] == [key], requests
        assert requests[0].job_name == evaluation_job(TASK)
        tags = {**requests[0].tags, "dagster/partition": key, "dagster/run_key": key}
        execute_job_process(evaluation_job(TASK), tags)
        finished = time.time()
        comparison = latest(instance, comparison_key(TASK), key)
        assert comparison is not None, f"no comparison for {key}"
        verdict_at = comparison.timestamp
        run_id = comparison.run_id
        compute = 0.0
        materialised: list[str] = []
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            event = record.asset_materialization
            assert event is not None
            materialised.append(event.asset_key.to_user_string())
            if event.asset_key.path[0] == "evaluation":
                value = event.metadata.get("compute_seconds")
                seconds = value.value if value is not None else 0.0
                assert isinstance(seconds, int | float), seconds
                compute += float(seconds)
        total = verdict_at - started
        clearlake_runs.append(
            {
                "commit": key,
                "sensor_tick_seconds": round(noticed - started, 3),
                "total_seconds": round(total, 3),
                "compute_seconds": round(compute, 3),
                "orchestration_seconds": round(total - compute, 3),
                "run_process_seconds": round(finished - noticed, 3),
                "verdict": comparison.metadata.get("overall_verdict"),
                "assets_materialised": sorted(materialised),
                "upstream_partitions_recomputed": sum(
                    1 for a in materialised if a.split("/")[0] in upstream or "/suites/" in a
                ),
            }
        )

        tree = git.checkout(sha)
        baseline = store.partition_file(
            "/".join(predictions_key(TASK).path), f"key=flight-delays@{parent[:7]}"
        )
        wall = time.time()
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                PLAIN_SCRIPT,
                settings.lake_url,
                str(settings.config_path),
                str(tree),
                baseline,
                TASK,
            ],
            cwd=tree,
            env=dict(os.environ),
            check=True,
            capture_output=True,
            text=True,
        )
        plain_runs.append(
            {
                "total_seconds": round(time.time() - wall, 3),
                "in_script_seconds": round(float(out.stdout.split()[-1]), 3),
            }
        )
        print(
            f"{key}: clearlake {total:.1f} s (compute {compute:.1f} s), "
            f"plain script {plain_runs[-1]['total_seconds']:.1f} s",
            flush=True,
        )

    total, plain = median(clearlake_runs, "total_seconds"), median(plain_runs, "total_seconds")
    target = 2 * plain + 10
    recomputed = max(int(r["upstream_partitions_recomputed"]) for r in clearlake_runs)
    results = {
        "benchmark": "commit_to_verdict",
        "description": __doc__.strip().splitlines()[0],
        "environment": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "task": TASK,
            "executor": "run process (dagster job execute), steps in-process, candidate "
            "subprocess; sensor tick in-process",
            "repeats": repeats,
            "held_out_rows": int(
                store.read_table(
                    store.partition_file("/".join(suite_key(TASK, "holdout").path), None)
                ).num_rows
            ),
        },
        "clearlake": {
            "total_seconds_median": total,
            "compute_seconds_median": median(clearlake_runs, "compute_seconds"),
            "orchestration_seconds_median": median(clearlake_runs, "orchestration_seconds"),
            "sensor_tick_seconds_median": median(clearlake_runs, "sensor_tick_seconds"),
            "runs": clearlake_runs,
        },
        "plain_script": {"total_seconds_median": plain, "runs": plain_runs},
        "ratios": {
            "total_over_plain": round(total / plain, 2),
            "compute_over_plain": round(median(clearlake_runs, "compute_seconds") / plain, 2),
        },
        "targets": {
            "total_seconds_max": round(target, 2),
            "total_met": total <= target,
            "upstream_partitions_recomputed_max": 0,
            "upstream_partitions_recomputed": recomputed,
            "incremental_met": recomputed == 0,
        },
    }
    results = run.finish(results)
    print(json.dumps({k: results[k] for k in ("ratios", "targets")}, indent=2))
    return results


if __name__ == "__main__":
    main()
