"""The continuous-evaluation loop, driven in-process: the steps ``run_demo`` strings together.

Each step takes the project, its Definitions and a Dagster instance, so the same steps
serve the demo (the local instance) and tests (their own). Runs are real Dagster runs
recorded in the instance: ``clearlake why`` and the UI see them. A sensor tick here is
what the daemon does, through public API: evaluate the sensor with a context, add the
dynamic partitions it asks for, keep its cursor (in a file under the instance's folder),
launch each request once (run keys).

Stopping is safe at any moment: a sensor's cursor is saved only after every request of its
tick has run, so a stop mid-batch leaves those commits to be requested again; a request
whose run finished (passed, blocked or crashed) is never run again, and a run cut short by
SIGTERM/SIGINT is marked canceled and runs again on the next start. :func:`stop_on_signals`
makes SIGTERM behave as SIGINT (Dagster's own handler cancels the current run's step, whose
candidate process group is killed) and :func:`launch` then stops the whole loop instead of
going on with the next request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from clearlake import names
from clearlake.errors import ClearlakeError
from clearlake.features.tables import missing_days
from clearlake.lake.store import LakeStore
from clearlake.orchestration import runs
from clearlake.orchestration.runs import failure_message
from clearlake.project import Project

Progress = Callable[[str], None]
QUIET = runs.QUIET_RUN_CONFIG


class LoopError(ClearlakeError):
    """A step of the loop (replication, features, suites, leaderboard) failed."""


def materialise(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: Sequence[dg.AssetKey],
    *,
    partition_range: tuple[dt.date, dt.date] | None = None,
) -> dg.ExecuteInProcessResult:
    return runs.materialize(definitions, instance, keys, partition_range=partition_range)


def require(result: dg.ExecuteInProcessResult, what: str) -> None:
    """A failed run of the loop is a :class:`LoopError` naming the step, the run and why."""
    if not result.success:
        raise LoopError(f"{what} failed (run {result.run_id}): {failure_message(result)}")


def _tasks(project: Project, tasks: Sequence[str] | None) -> list[str]:
    return list(tasks) if tasks is not None else list(project.config.tasks)


def ensure_lake(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: LakeStore,
    project: Project,
    progress: Progress,
    *,
    tasks: Sequence[str] | None = None,
) -> int:
    """Replicate what the tasks' windows need (only what is missing); return runs made."""
    windows: dict[str, tuple[dt.date, dt.date]] = {}
    snapshots: set[str] = set()
    for name in _tasks(project, tasks):
        task = project.task(name)
        start, end = task.window()
        for table in project.feature_inputs(task.dataset):
            if project.source(table).daily is None:
                snapshots.add(table)
                continue
            low, high = windows.get(table, (start, end))
            windows[table] = (min(low, start), max(high, end))
    made = 0
    for table, (start, end) in sorted(windows.items()):
        missing = missing_days(store, table, start, end)
        if not missing:
            continue
        progress(f"replicating {table} {missing[0]}..{missing[-1]} into the lake")
        result = materialise(
            definitions,
            instance,
            [names.lake_key(table)],
            partition_range=(missing[0], missing[-1]),
        )
        require(result, f"replicating {table}")
        made += 1
    for table in sorted(snapshots):
        if store.exists(store.partition_file(table, None)):
            continue
        progress(f"replicating {table} into the lake")
        require(materialise(definitions, instance, [names.lake_key(table)]), f"replicating {table}")
        made += 1
    return made


def ensure_features_and_suites(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: LakeStore,
    project: Project,
    progress: Progress,
    *,
    tasks: Sequence[str] | None = None,
) -> None:
    """The feature partitions and evaluation suites the tasks need (only what is missing)."""
    for name in _tasks(project, tasks):
        task = project.task(name)
        start, end = task.window()
        table = "/".join(names.feature_key(task.dataset).path)
        missing = missing_days(store, table, start, end)
        if missing:
            progress(f"materialising {table} {missing[0]}..{missing[-1]}")
            require(
                materialise(
                    definitions,
                    instance,
                    [names.feature_key(task.dataset)],
                    partition_range=(missing[0], missing[-1]),
                ),
                f"materialising {table}",
            )
        pinned = [s for s in sorted(task.suites) if not task.suites[s].rolling]
        suites = [names.suite_key(name, suite) for suite in pinned]  # rolling: `clearlake build`
        absent = [
            k for k in suites if not store.exists(store.partition_file("/".join(k.path), None))
        ]
        if absent:
            progress(
                f"materialising the suites of {name}: " + ", ".join(k.path[-1] for k in absent)
            )
            require(materialise(definitions, instance, absent), f"materialising {name}'s suites")


def _cursor_file(instance: dg.DagsterInstance, sensor_name: str) -> Path:
    return Path(instance.root_directory) / "clearlake-in-process" / f"{sensor_name}.cursor"


def tick(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    sensor_name: str = names.COMMIT_SENSOR,
) -> list[dg.RunRequest]:
    """One evaluation of a sensor, as the daemon would do it (partitions, cursor)."""
    requests, cursor = plan(definitions, instance, sensor_name=sensor_name)
    save_cursor(instance, sensor_name, cursor)
    return requests


def save_cursor(instance: dg.DagsterInstance, sensor_name: str, cursor: str | None) -> None:
    if cursor is not None:
        cursor_file = _cursor_file(instance, sensor_name)
        cursor_file.parent.mkdir(parents=True, exist_ok=True)
        cursor_file.write_text(cursor)


def plan(
    definitions: dg.Definitions, instance: dg.DagsterInstance, *, sensor_name: str
) -> tuple[list[dg.RunRequest], str | None]:
    """A sensor's requests and the cursor to save once they have run (partitions added)."""
    sensor = definitions.resolve_sensor_def(sensor_name)
    cursor_file = _cursor_file(instance, sensor_name)
    cursor = cursor_file.read_text() if cursor_file.exists() else None
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions) as ctx:
        result = sensor(ctx)
    if not isinstance(result, dg.SensorResult):
        raise LoopError(f"{sensor_name} returned {type(result).__name__}, not a SensorResult")
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
    requests = [r for r in result.run_requests or [] if isinstance(r, dg.RunRequest)]
    return requests, result.cursor


class Stopped(KeyboardInterrupt):
    """The loop was stopped by a signal; what it had not finished runs on the next start."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt as SIGINT does (restored on exit)."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Did a signal end the run (Dagster's interrupt, not the step's own failure)?"""
    errors = [e.step_failure_data.error for e in result.get_step_failure_events()]
    failure = result.get_run_failure_event()
    errors.append(getattr(failure.event_specific_data, "error", None) if failure else None)
    for error in errors:
        while error is not None:
            if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
                return True
            error = error.cause
    return False


def _done_before(instance: dg.DagsterInstance, run_key: str, sensor_name: str) -> bool:
    """A run of this request finished before (a canceled one does not count)."""
    previous = instance.get_runs(
        dg.RunsFilter(tags={"dagster/run_key": run_key, "dagster/sensor_name": sensor_name}),
        limit=20,
    )
    return any(run.status != dg.DagsterRunStatus.CANCELED for run in previous)


@dataclass(frozen=True)
class Evaluated:
    key: str
    job: str
    run_id: str
    success: bool
    error: str | None


def launch(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    requests: Sequence[dg.RunRequest],
    progress: Progress,
    *,
    sensor_name: str,
    doing: str,
) -> list[Evaluated]:
    """Run each of a sensor's partition requests once (a used run key is skipped)."""
    done = []
    for request in requests:
        key = request.partition_key
        if key is None or request.job_name is None:
            raise LoopError(f"{sensor_name} asked for a run without a partition or job: {request}")
        run_key = request.run_key or key
        if _done_before(instance, run_key, sensor_name):
            continue
        progress(f"{doing} {key} ({request.tags.get('clearlake/reason', 'requested')})")
        job = definitions.resolve_job_def(request.job_name)
        run_config: dict[str, Any] = dict(QUIET)
        if job.executor_def.name == dg.multi_or_in_process_executor.name:
            run_config["execution"] = {"config": {"in_process": {}}}
        result = job.execute_in_process(
            partition_key=key,
            instance=instance,
            tags={**request.tags, "dagster/run_key": run_key, "dagster/sensor_name": sensor_name},
            run_config=run_config,
            raise_on_error=False,
        )
        if not result.success and _interrupted(result):
            run = instance.get_run_by_id(result.run_id)
            if run is not None:
                instance.report_run_canceled(run, message="stopped by a signal; runs again")
            progress(f"stopped while {doing} {key}: it runs again on the next start")
            raise Stopped()
        error = None if result.success else failure_message(result)
        done.append(Evaluated(key, request.job_name, result.run_id, result.success, error))
    return done


def evaluate(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    requests: Sequence[dg.RunRequest],
    progress: Progress,
) -> list[Evaluated]:
    """Launch each commit request as a run of its task's evaluation job."""
    return launch(
        definitions,
        instance,
        requests,
        progress,
        sensor_name=names.COMMIT_SENSOR,
        doing="evaluating",
    )


def run_until_quiet(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Progress,
    *,
    max_ticks: int = 10,
) -> list[Evaluated]:
    """Tick the commit sensor and evaluate until a tick finds nothing new."""
    evaluated: list[Evaluated] = []
    for _ in range(max_ticks):
        requests, cursor = plan(definitions, instance, sensor_name=names.COMMIT_SENSOR)
        if not requests:
            save_cursor(instance, names.COMMIT_SENSOR, cursor)
            break
        evaluated += evaluate(definitions, instance, requests, progress)
        save_cursor(instance, names.COMMIT_SENSOR, cursor)  # only once all of them ran
    return evaluated


def render_reports(
    definitions: dg.Definitions, instance: dg.DagsterInstance, progress: Progress
) -> list[Evaluated]:
    """Tick the regression-report sensor and run its requests, as the daemon would.

    Renders the reports that a blocking regression check kept out of their evaluation run
    (from the stored comparison). Nothing to do without the sensor (no report assets).
    """
    sensor = names.REGRESSION_REPORT_SENSOR
    if sensor not in {getattr(s, "name", None) for s in definitions.sensors or []}:
        return []
    requests, cursor = plan(definitions, instance, sensor_name=sensor)
    done = launch(
        definitions,
        instance,
        requests,
        progress,
        sensor_name=sensor,
        doing="rendering the report of",
    )
    save_cursor(instance, sensor, cursor)
    return done


def refresh_leaderboards(
    definitions: dg.Definitions, instance: dg.DagsterInstance, project: Project
) -> None:
    keys = [names.leaderboard_key(task) for task in project.config.tasks]
    require(materialise(definitions, instance, keys), "refreshing the leaderboards")
