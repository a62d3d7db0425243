"""Step 3 of a monitor: the undecided days decided, episodes advanced and told, status written.

:func:`refresh_status` reads only the trailing windows (the longest window before the
oldest undecided day), the reference, the recent days' small score and drift files and
the previous status (older history): its cost does not grow with the lake's length
(benchmarks/monitoring.py counts the files: the same for 30 and 365 days).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.notify import Log
from clearlake.lake.json_records import write_json
from clearlake.lake.store import LakeStore
from clearlake.monitoring import alerts, decisions, episodes, frames, statistics, storage
from clearlake.monitoring.episodes import where
from clearlake.monitoring.service import PERFORMANCE, PREDICTIONS, monitor_of
from clearlake.project.config import MonitorConfig
from clearlake.project.load import Project


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
    """Decide the pending days, advance and deliver the episodes, write the status."""
    task, monitor = monitor_of(project, task_name)
    watched_task = statistics.watched_task(task, monitor)
    performance = storage.monitor_table(task_name, PERFORMANCE)
    state = storage.load_state(store, task_name)
    listed = store.list_partitions(performance)
    if not listed:
        status = {"task": task_name, "watched": state.watched, "days": 0, "episodes": []}
        write_json(store, storage.status_path(store, task_name), status)
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
    write_json(store, storage.status_path(store, task_name), status)
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
