"""The monitor's three steps as plain functions the assets call in order.

1. :func:`predict_days`: the watched model (fitted on the task's training suite, out of
   process, at its exact commit) predicts a whole backlog of days in ONE runner call —
   and the reference window too, the first time a commit is watched (then cached in the
   lake per watched model). Each day's predictions and its drift against the reference
   are written as soon as its features exist.
2. :func:`label_days`: once labels matured, a day's predictions joined with its targets,
   and its scores with bootstrap intervals (once per day, so a status never recomputes
   history).
3. :func:`clearlake.monitoring.status.refresh_status`: the undecided days decided in
   order, the episodes advanced, their messages delivered, the status written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import runner, scoring
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.predictions import ACTUAL, encode_actual
from clearlake.evaluation.suites import candidate_columns, load_suite
from clearlake.lake.store import LakeStore, WrittenPartition, date_partition
from clearlake.monitoring import (
    detection,
    frames,
    statistics,
    storage,
)
from clearlake.monitoring.drift import drift_rows
from clearlake.monitoring.watched import MonitorError, resolve_watched
from clearlake.project.config import MonitorConfig, TaskConfig, arrow_schema
from clearlake.project.load import Project
from clearlake.settings import Settings

PREDICTIONS, PERFORMANCE = "predictions", "performance"


def monitor_of(project: Project, task_name: str) -> tuple[TaskConfig, MonitorConfig]:
    task = project.task(task_name)
    if task.monitor is None:
        raise MonitorError(task_name, "the task declares no `monitor:` section")
    return task, task.monitor


@dataclass(frozen=True)
class PredictedDays:
    model: str
    written: dict[str, WrittenPartition]
    drift: dict[str, pd.DataFrame]
    reference_rows: int
    """Reference rows predicted in this run (0 when cached for this model)."""
    fit_seconds: float


def predict_days(
    context: Any,
    *,
    project: Project,
    task_name: str,
    days: list[str],
    store: LakeStore,
    settings: Settings,
    scores_key: Any,
    predictions_key: Any,
) -> PredictedDays:
    """Step 1 (see the module docstring). ``context``: the asset's execution context."""
    task, monitor = monitor_of(project, task_name)
    dataset = project.feature(task.dataset)
    watched = resolve_watched(
        project,
        task_name,
        settings=settings,
        store=store,
        scores=scores_key,
        predictions=predictions_key,
    )
    model = str(watched.key)
    cache = storage.reference_file(store, task_name, model)
    declared = arrow_schema(dataset.columns)
    reference = (
        None
        if store.exists(cache)
        else frames.reference_rows(store, task_name=task_name, task=task, dataset=dataset).cast(
            declared
        )
    )
    per_day = {d: frames.dataset_days(store, dataset, task.dataset, [d]) for d in days}
    parts = ([reference] if reference is not None else []) + list(per_day.values())
    rows = pa.concat_tables(parts) if parts else declared.empty_table()
    values: np.ndarray[Any, Any] = np.empty(0)
    fit_seconds = 0.0
    if rows.num_rows:
        train = load_suite(
            store, task_name=task_name, task=task, dataset=dataset, suite_name=task.train_suite
        )
        outcome = runner.run_candidate(
            context,
            candidate=model,
            worktree=watched.git.checkout(watched.sha),
            entrypoint=watched.repository.entrypoint,
            task=task,
            parameters=watched.parameters,
            train=train.select(candidate_columns(task, dataset, train=True)),
            test=rows.select(candidate_columns(task, dataset, train=False)),
            timeout_seconds=watched.repository.timeout_seconds or task.candidate_timeout_seconds,
            threads=task.candidate_threads,
            seeds=[task.seeds.seed],
        )
        values, fit_seconds = outcome.predictions, outcome.fit_seconds
    offset = 0
    if reference is not None:
        table = frames.predictions_table(
            reference, values[: reference.num_rows], task=task, dataset=dataset, model=model
        )
        table = table.append_column(ACTUAL, encode_actual(task, reference[task.target]))
        storage.write_table_file(store, cache, table)
        offset = reference.num_rows
    reference_frame = store.read_table(cache).to_pandas()
    written, drift = {}, {}
    table_name = storage.monitor_table(task_name, PREDICTIONS)
    for day, day_rows in per_day.items():
        part = values[offset : offset + day_rows.num_rows]
        offset += day_rows.num_rows
        table = frames.predictions_table(day_rows, part, task=task, dataset=dataset, model=model)
        written[day] = store.write(
            table_name, date_partition(day), table.schema, table.to_batches()
        )
        if table.num_rows:
            drift[day] = drift_rows(
                frames.drift_frame(reference_frame),
                frames.drift_frame(table.to_pandas()),
                columns=monitor.drift.columns,
                prediction="prediction",
                bins=monitor.drift.bins,
                psi_threshold=monitor.drift.psi_threshold,
                prediction_psi_threshold=monitor.drift.prediction_psi_threshold,
            )
            storage.write_table_file(
                store,
                storage.day_file(store, table_name, day, storage.DAY_FILE_DRIFT),
                pa.Table.from_pandas(drift[day], preserve_index=False),
            )
    return PredictedDays(
        model=model,
        written=written,
        drift=drift,
        reference_rows=0 if reference is None else reference.num_rows,
        fit_seconds=fit_seconds,
    )


@dataclass(frozen=True)
class LabelledDay:
    day: str
    written: WrittenPartition
    scores: pd.DataFrame
    """Empty for a day without labelled rows."""


def label_days(
    *,
    project: Project,
    task_name: str,
    days: list[str],
    store: LakeStore,
    metrics: list[Metric],
) -> list[LabelledDay]:
    """Step 2 (see the module docstring)."""
    task, monitor = monitor_of(project, task_name)
    dataset = project.feature(task.dataset)
    watched_task = statistics.watched_task(task, monitor)
    watched_metrics = detection.watched_metrics(metrics, monitor)
    predictions_table = storage.monitor_table(task_name, PREDICTIONS)
    table_name = storage.monitor_table(task_name, PERFORMANCE)
    out = []
    for day in days:
        path = store.partition_file(predictions_table, date_partition(day))
        if not store.exists(path):
            raise MonitorError(
                task_name,
                f"day {day} has no predictions yet: materialise monitor/{task_name}/predictions "
                "for it first (automation does, once the day's features exist)",
            )
        predicted = store.read_table(path)
        features = frames.dataset_days(store, dataset, task.dataset, [day])
        labelled = frames.labelled_table(predicted, features, task=task, dataset=dataset)
        written = store.write(
            table_name, date_partition(day), labelled.schema, labelled.to_batches()
        )
        scores = pd.DataFrame(columns=scoring.SCORES_COLUMNS)
        if labelled.num_rows:
            scores = scoring.score_predictions(labelled.to_pandas(), watched_task, watched_metrics)
            storage.write_table_file(
                store,
                storage.day_file(store, table_name, day, storage.DAY_FILE_SCORES),
                scoring.as_table(scores, scoring.SCORES_SCHEMA),
            )
        out.append(LabelledDay(day=day, written=written, scores=scores))
    return out
