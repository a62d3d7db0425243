"""Code versions of a task's candidate assets, computed from what each step depends on.

Dagster marks a materialisation stale when its asset's code version changes, so each
version hashes the code the step runs and exactly the configuration it reads — no more
(editing a metric must not re-run every candidate's model), no less (the suites' windows,
the columns a candidate sees, a pipeline stage's declaration). A candidate's own commits
are in its partition key, not here.

* a transform stage: its chain's declarations and entrypoints, the columns the first stage
  sees, the suites' definitions, the seed;
* predictions: the same for the whole pipeline, plus what the stored table holds
  (subgroups, how the target is encoded) — not the registered repositories: registering
  one adds partitions and unsyncs nothing;
* scores: metrics (a custom metric's source too), subgroups, bootstrap, thresholds;
* comparison: the whole task (baseline waits, seeds, verdict rules, calibration).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from clearlake.evaluation import (
    baseline,
    calibration,
    candidate_process,
    candidate_run,
    candidate_steps,
    candidates,
    gate,
    git,
    metrics,
    predictions,
    runner,
    scoring,
    seeds,
    sequential,
    stage_outputs,
    windows,
)
from clearlake.evaluation.suites import candidate_columns, suite_code_version
from clearlake.project.load import Project
from clearlake.versioning import digest, json_version, source_version

RUNNING: tuple[ModuleType, ...] = (candidate_run, runner, candidate_process, git, candidates)
"""The code that runs a stage or a model out of process."""


def _seen(project: Project, task_name: str) -> dict[str, Any]:
    """What a candidate's first stage (or its model) is given: the suites' definitions and
    the declared columns it sees, train and test."""
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    return {
        "suites": [suite_code_version(task, s) for s in (task.train_suite, task.test_suite)],
        "columns": {
            split: {
                c: dataset.columns[c].model_dump(mode="json", exclude={"description"})
                for c in candidate_columns(task, dataset, train=split == "train")
            }
            for split in ("train", "test")
        },
        "target": task.target,
        "row_id": task.row_id or dataset.row_id,
        "seed": task.seeds.seed,
    }


def _chain(project: Project, task_name: str, upto: int | None) -> list[dict[str, Any]]:
    """Declarations (without ``reference``: it picks combinations, not outputs) and
    entrypoints of the pipeline's stages up to index ``upto`` (all when None)."""
    task = project.task(task_name)
    if not task.pipeline:
        return []
    stages = task.pipeline if upto is None else task.pipeline[: upto + 1]
    return [
        {
            **stage.model_dump(mode="json", exclude={"reference"}),
            "entrypoint": project.repository(stage.repository).entrypoint,
        }
        for stage in stages
    ]


def stage_code_version(project: Project, task_name: str, index: int) -> str:
    return digest(
        source_version(stage_outputs, *RUNNING),
        json_version(
            {"seen": _seen(project, task_name), "chain": _chain(project, task_name, index)}
        ),
    )


def predictions_code_version(project: Project, task_name: str) -> str:
    task = project.task(task_name)
    stored = task.model_dump(
        mode="json",
        include={"type", "classes", "positive_class", "subgroups", "candidate_threads"},
    )
    return digest(
        source_version(predictions, stage_outputs, *RUNNING),
        json_version(
            {
                "seen": _seen(project, task_name),
                "chain": _chain(project, task_name, None),
                "stored": stored,
            }
        ),
    )


def _custom_metric_sources(project: Project, task_name: str) -> str:
    """The source of the task's custom metrics; a metric that cannot be imported is left
    out here and fails its candidates' scores instead."""
    sources = []
    for metric in project.task(task_name).metrics:
        if metric.function is None:
            continue
        try:
            function: Callable[..., Any] = project.load_object(metric.function, what="metric")
            sources.append(inspect.getsource(function))
        except Exception:  # reported where it matters: when a candidate is scored
            sources.append(f"unavailable:{metric.function}")
    return digest(*sources)


def scores_code_version(project: Project, task_name: str) -> str:
    task = project.task(task_name)
    read = task.model_dump(
        mode="json",
        include={
            "type",
            "threshold",
            "classes",
            "metrics",
            "primary_metric",
            "subgroups",
            "min_subgroup_rows",
            "verdict",
        },
    )
    return digest(
        source_version(metrics, scoring, predictions, candidate_steps),
        json_version(read),
        _custom_metric_sources(project, task_name),
    )


def comparison_code_version(project: Project, task_name: str) -> str:
    task = project.task(task_name)
    return digest(
        source_version(
            metrics,
            scoring,
            baseline,
            predictions,
            seeds,
            sequential,
            calibration,
            windows,
            gate,
            candidate_steps,
        ),
        json_version(task.model_dump(mode="json")),
        _custom_metric_sources(project, task_name),
    )
