"""The monitor's three steps as plain functions the assets call in order.

1. :func:`predict_days`: the watched model (fitted on the task's training suite, out of
   process, at its exact commit) predicts a whole backlog of days in ONE runner call —
   and the reference window too, the first time a commit is watched (then cached in the
   lake per watched model). Each day's predictions and its drift against the reference
   are written as soon as its features exist.
2. :func:`label_days`: once labels matured, a day's predictions joined with its targets,
   and its scores with bootstrap intervals (once per day, so a status never recomputes
   history).
3. :func:`refresh_status`: the undecided days decided in order, the episodes advanced,
   their messages delivered, the status written. It reads only the trailing windows, the
   reference and the small per-day score/drift files of the shown history: its cost does
   not grow with the lake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.evaluation import runner, scoring
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.notify import Log
from clearlake.evaluation.predictions import ACTUAL, encode_actual
from clearlake.evaluation.suites import candidate_columns, load_suite
from clearlake.lake.store import LakeStore, WrittenPartition, date_partition
from clearlake.monitoring import (
    alerts,
    decisions,
    detection,
    episodes,
    frames,
    statistics,
    storage,
)
from clearlake.monitoring.drift import drift_rows
from clearlake.monitoring.episodes import where
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
        predicted = store.read_table(store.partition_file(predictions_table, date_partition(day)))
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


def _days_before(day: dt.date, count: int) -> list[str]:
    return [(day - dt.timedelta(days=i)).isoformat() for i in range(count - 1, -1, -1)]


def refresh_status(
    *,
    project: Project,
    task_name: str,
    store: LakeStore,
    metrics: list[Metric],
    log: Log,
) -> dict[str, Any]:
    """Step 3 (see the module docstring); returns the status written."""
    task, monitor = monitor_of(project, task_name)
    watched_task = statistics.watched_task(task, monitor)
    performance = storage.monitor_table(task_name, PERFORMANCE)
    state = storage.load_state(store, task_name)
    listed = store.list_partitions(performance)
    if not listed:
        status = {"task": task_name, "watched": state.watched, "days": 0, "episodes": []}
        storage.write_json_atomically(store, storage.status_path(store, task_name), status)
        return status
    latest = dt.date.fromisoformat(listed[-1])
    pending = decisions.pending_days(listed, state, monitor)[-monitor.history_days :]
    start = min([*pending, latest])
    span = (latest - start).days + max(monitor.windows)
    labelled = storage.read_days(store, performance, [d for d in _days_before(latest, span)])
    if labelled.empty:
        log.warning(f"monitor {task_name}: no labelled rows in the last {span} days")
        pending = []
        model = state.watched
    else:
        model = str(labelled[frames.MODEL].iloc[-1])
    events: list[Any] = []
    tests = pd.DataFrame()
    if model:
        reference_frame = store.read_table(storage.reference_file(store, task_name, model))
        reference = statistics.Sample(reference_frame.to_pandas(), watched_task)
        if state.watched and state.watched != model:
            log.warning(f"monitor {task_name}: watched model changed {state.watched} → {model}")
            events += episodes.replace_model(state, model, day=listed[-1])
        state.watched = model
        labelled = labelled[labelled[frames.MODEL] == model].reset_index(drop=True)
        decided, tests = decisions.run(
            state,
            labelled,
            reference,
            days=pending,
            task=watched_task,
            monitor=monitor,
            metrics=metrics,
        )
        events += decided
    storage.save_state(store, state)  # decided before anything is told
    delivered = alerts.deliver(state, monitor, log=log)
    storage.save_state(store, state)
    status = _status(
        store,
        task_name=task_name,
        monitor=monitor,
        state=state,
        listed=listed,
        tests=tests,
    )
    status["events"] = [{"episode": e.id, "event": ev} for e, ev in events]
    status["delivered"] = delivered
    storage.write_json_atomically(store, storage.status_path(store, task_name), status)
    return status


METHOD = (
    "Trailing windows {windows} days vs the reference {reference}: {welch} for means of "
    "per-row losses, {boot} otherwise; one-sided (degradation); level {level} per "
    "{horizon} days for the whole task, split over {decisions} decisions x {n} windows "
    "(each family at {family:.2g}), Holm over subgroups x metrics."
)


RECENT = 7
"""Days whose scores a status re-reads every time (a late label revises them); older days
of the shown history come from the previous status, so a refresh reads a bounded number
of files however long the lake is."""


def _history(store: LakeStore, *, task_name: str, shown: list[str]) -> list[dict[str, Any]]:
    previous = storage.load_status(store, task_name) or {}
    recent = set(shown[-RECENT:])
    kept = [
        s
        for s in previous.get("scores") or []
        if s.get("day") in set(shown) and s.get("day") not in recent
    ]
    known = {s["day"] for s in kept}
    fresh = storage.read_days(
        store,
        storage.monitor_table(task_name, PERFORMANCE),
        [d for d in shown if d not in known],
        storage.DAY_FILE_SCORES,
    )
    rows = fresh.replace({np.nan: None}).to_dict("records") if len(fresh) else []
    return sorted(kept + rows, key=lambda s: (s["day"], s["metric"], s["subgroup_kind"]))


def _status(
    store: LakeStore,
    *,
    task_name: str,
    monitor: MonitorConfig,
    state: Any,
    listed: list[str],
    tests: pd.DataFrame,
) -> dict[str, Any]:
    shown = listed[-monitor.history_days :]
    scores = _history(store, task_name=task_name, shown=shown)
    drift = storage.read_days(
        store, storage.monitor_table(task_name, PREDICTIONS), shown[-7:], storage.DAY_FILE_DRIFT
    )
    reference = monitor.reference
    latest_tests = tests.replace({np.nan: None}).to_dict("records") if len(tests) else []
    return {
        "task": task_name,
        "watched": state.watched,
        "days": len(listed),
        "first_day": listed[0],
        "last_day": listed[-1],
        "last_decision": state.last_decision,
        "method": METHOD.format(
            windows=monitor.windows,
            reference=reference.suite or f"{reference.start}..{reference.end}",
            welch=statistics.WELCH,
            boot=statistics.BOOTSTRAP,
            level=monitor.level,
            horizon=monitor.horizon_days,
            decisions=monitor.decisions,
            n=len(monitor.windows),
            family=statistics.window_level(monitor),
        ),
        "tests": latest_tests,
        "scores": scores,
        "drift": drift.replace({np.nan: None}).to_dict("records") if len(drift) else [],
        "open": [
            {"id": e.id, "where": where(e.subgroup_kind, e.subgroup), "since": e.opened}
            for e in state.open_episodes()
        ],
        "episodes": [{"id": e.id, **e.__dict__} for e in state.episodes[-20:]],
    }
