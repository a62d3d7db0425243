"""The monitor's loop over decision days: test, then advance the alert episodes.

Plain functions over frames (no Dagster, no lake): the status asset, the tests and the
benchmark all drive the same code. A decision needs only the trailing windows and the
reference, so its cost does not grow with the lake's length.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.predictions import outcome
from clearlake.monitoring import detection, episodes
from clearlake.monitoring.decomposition import decompose
from clearlake.monitoring.statistics import Sample
from clearlake.project.config import MonitorConfig, TaskConfig


def is_decision_day(day: dt.date, monitor: MonitorConfig) -> bool:
    """Every day, or with ``cadence: week`` the last day of each ISO week (Sunday)."""
    return monitor.cadence == "day" or day.isoweekday() == 7


def pending_days(
    labelled_days: list[str], state: episodes.MonitorState, monitor: MonitorConfig
) -> list[dt.date]:
    """Decision days with labels not decided yet, oldest first (a restart catches up)."""
    days = [dt.date.fromisoformat(d) for d in sorted(set(labelled_days))]
    after = state.last_decision or ""
    return [d for d in days if d.isoformat() > after and is_decision_day(d, monitor)]


def explainer(
    labelled: pd.DataFrame,
    reference: Sample,
    *,
    task: TaskConfig,
    metrics: list[Metric],
) -> Any:
    """The ``explain`` of :func:`episodes.step`: the overall change of the evidence's
    metric over its window, split by the subgroup kind (the first kind for ``overall``)."""
    by_name = {m.name: m for m in metrics}

    def explain(kind: str, _subgroup: str, evidence: dict[str, Any]) -> dict[str, Any]:
        split = kind if kind != "overall" else (task.subgroups[0].label if task.subgroups else "")
        if not split:
            return {}
        rows = detection.trailing(
            labelled, dt.date.fromisoformat(evidence["window_end"]), int(evidence["window_days"])
        )
        parts = decompose(
            by_name[evidence["metric"]],
            reference=reference.whole,
            reference_groups=reference.frame[split].to_numpy(),
            new=outcome(task, rows),
            new_groups=rows[split].to_numpy(),
            kind=split,
        )
        return {
            **parts.to_json(),
            "metric": evidence["metric"],
            "window_start": evidence["window_start"],
            "window_end": evidence["window_end"],
            "text": f"{evidence['metric']} {parts.text()}",
        }

    return explain


def run(
    state: episodes.MonitorState,
    labelled: pd.DataFrame,
    reference: Sample,
    *,
    days: list[dt.date],
    task: TaskConfig,
    monitor: MonitorConfig,
    metrics: list[Metric],
) -> tuple[list[tuple[episodes.Episode, str]], pd.DataFrame]:
    """Decide ``days`` in order; returns the new episode events and the last day's tests."""
    events: list[tuple[episodes.Episode, str]] = []
    tests = pd.DataFrame()
    explain = explainer(labelled, reference, task=task, metrics=metrics)
    for day in days:
        tests = detection.evaluate(
            labelled, reference, end=day, task=task, monitor=monitor, metrics=metrics
        )
        worse = (
            detection.still_worse(
                labelled, reference, end=day, task=task, monitor=monitor, metrics=metrics
            )
            if state.open_episodes()
            else pd.DataFrame(columns=["subgroup_kind", "subgroup", "worse"])
        )
        events += episodes.step(
            state,
            day=day,
            tests=tests,
            worse=worse,
            resolve_days=monitor.resolve_days,
            explain=explain,
        )
    return events, tests
