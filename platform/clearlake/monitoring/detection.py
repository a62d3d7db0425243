"""One decision of a monitor: every trailing window ending on a day, against the reference.

The labelled rows carry a ``day`` column (ISO date text). A decision on day ``D`` tests the
windows ``D−w+1..D`` of ``monitor.windows`` (days without labelled rows simply add
nothing) at :func:`~clearlake.monitoring.statistics.window_level` each, and says per
subgroup whether it is degraded (some window degraded), which window shows it best, and
whether the recent ``resolve_days`` still show anything (:func:`still_worse`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from clearlake.evaluation.metrics import Metric, min_effects
from clearlake.monitoring.statistics import (
    TEST_COLUMNS,
    Sample,
    compare,
    decide,
    window_level,
)
from clearlake.project.config import MonitorConfig, TaskConfig

DAY = "day"
RESOLVE_LEVEL = 0.05
"""Unadjusted one-sided level below which a change still counts as 'worse' (resolution)."""


def floors(task: TaskConfig, monitor: MonitorConfig) -> dict[str, tuple[float, float]]:
    """Minimum effects per metric: the monitor's, else the metric's, else the task's."""
    out = {}
    for metric in task.metrics:
        relative, absolute = min_effects(task, metric.name)
        out[metric.name] = (
            relative if monitor.min_relative_effect is None else monitor.min_relative_effect,
            absolute if monitor.min_absolute_effect is None else monitor.min_absolute_effect,
        )
    return out


def watched_metrics(metrics: list[Metric], monitor: MonitorConfig) -> list[Metric]:
    return [m for m in metrics if monitor.metrics is None or m.name in monitor.metrics]


def trailing(labelled: pd.DataFrame, end: dt.date, days: int) -> pd.DataFrame:
    start = end - dt.timedelta(days=days - 1)
    mask = (labelled[DAY] >= start.isoformat()) & (labelled[DAY] <= end.isoformat())
    return labelled[mask].reset_index(drop=True)


def evaluate(
    labelled: pd.DataFrame,
    reference: Sample,
    *,
    end: dt.date,
    task: TaskConfig,
    monitor: MonitorConfig,
    metrics: list[Metric],
) -> pd.DataFrame:
    """All windows' tests on day ``end`` (columns :data:`TEST_COLUMNS` + window bounds)."""
    watched = watched_metrics(metrics, monitor)
    bootstrap = task.verdict.bootstrap
    frames = []
    for days in monitor.windows:
        rows = trailing(labelled, end, days)
        if rows.empty:
            continue
        tests = compare(
            Sample(rows, reference.task),
            reference,
            watched,
            samples=bootstrap.samples,
            seed=bootstrap.seed,
        )
        decided = decide(
            tests,
            level=window_level(monitor),
            power=task.verdict.power,
            floors=floors(task, monitor),
            lower_is_better={m.name: m.lower_is_better for m in watched},
        )
        decided["window_days"] = days
        decided["window_start"] = (end - dt.timedelta(days=days - 1)).isoformat()
        decided["window_end"] = end.isoformat()
        frames.append(decided)
    if not frames:
        return pd.DataFrame(columns=[*TEST_COLUMNS, "window_start", "window_end"])
    return pd.concat(frames, ignore_index=True)[[*TEST_COLUMNS, "window_start", "window_end"]]


def still_worse(
    labelled: pd.DataFrame,
    reference: Sample,
    *,
    end: dt.date,
    task: TaskConfig,
    monitor: MonitorConfig,
    metrics: list[Metric],
) -> pd.DataFrame:
    """The ``resolve_days`` window's tests with ``worse``: a change at least the minimum
    effect, or significant at the unadjusted :data:`RESOLVE_LEVEL`. An open episode resolves
    when none of its subgroup's metrics is still worse."""
    watched = watched_metrics(metrics, monitor)
    rows = trailing(labelled, end, monitor.resolve_days)
    if rows.empty:
        return pd.DataFrame(columns=["metric", "subgroup_kind", "subgroup", "worse"])
    bootstrap = task.verdict.bootstrap
    tests = compare(
        Sample(rows, reference.task),
        reference,
        watched,
        samples=bootstrap.samples,
        seed=bootstrap.seed,
    )
    if tests.empty:
        return pd.DataFrame(columns=["metric", "subgroup_kind", "subgroup", "worse"])
    lower = {m.name: m.lower_is_better for m in watched}
    limits = floors(task, monitor)
    worse = np.where([lower[m] for m in tests["metric"]], tests["delta"], -tests["delta"])
    floor = [
        max(limits[m][1], limits[m][0] * abs(b))
        for m, b in zip(tests["metric"], tests["reference_value"], strict=True)
    ]
    tests["worse"] = (worse >= np.asarray(floor)) | (tests["p_value"] < RESOLVE_LEVEL)
    return tests
