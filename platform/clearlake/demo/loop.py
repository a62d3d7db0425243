"""The continuous-evaluation loop, driven in-process: the steps ``run_demo`` strings together.

Each step takes the project's Definitions and a Dagster instance, so the same steps serve
the demo (the project's definitions, the local instance) and tests (their own). Runs are
real Dagster runs recorded in the instance: ``clearlake why`` and the UI see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob

from clearlake import runs
from clearlake.errors import ClearlakeError
from clearlake.evaluation.config import ClearlakeConfig
from clearlake.features.flight_features import TABLE as FEATURES_TABLE
from clearlake.features.flight_features import missing_days
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LAKE_TABLES
from clearlake.reports.pending import REPORT_JOB, REPORT_SENSOR
from clearlake.runs import failure_message

Progress = Callable[[str], None]
JOB_NAME = "candidate_evaluation"
SENSOR_NAME = "candidate_commit_sensor"
CURSOR_KEY = f"clearlake/in-process/{SENSOR_NAME}/cursor"  # = cursor_key(SENSOR_NAME)
"""Where in-process ticks keep the sensor cursor (the instance's key-value store)."""
QUIET = runs.QUIET_RUN_CONFIG
FEATURES = dg.AssetKey(["features", "flight_features"])
LEADERBOARD = dg.AssetKey(["evaluation", "leaderboard"])


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


RunResult = dg.ExecuteInProcessResult | dg.JobExecutionResult
"""Both kinds of in-process result (``execute_job`` for reconstructable jobs)."""


def _require(result: dg.ExecuteInProcessResult, what: str) -> None:
    if not result.success:
        raise LoopError(f"{what} failed (run {result.run_id}): {failure_message(result)}")


def ensure_lake(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: LakeStore,
    window: tuple[dt.date, dt.date],
    progress: Progress,
) -> int:
    """Replicate the lake tables the window needs (only what is missing); return runs made."""
    runs = 0
    for name, table in LAKE_TABLES.items():
        if table.partitioned:
            if not missing_days(store, *window, table=name):
                continue
            progress(f"replicating {name} {window[0]}..{window[1]} into the lake")
            result = materialise(
                definitions, instance, [dg.AssetKey(["lake", name])], partition_range=window
            )
        else:
            if store.exists(store.partition_file(name, None)):
                continue
            progress(f"replicating {name} into the lake")
            result = materialise(definitions, instance, [dg.AssetKey(["lake", name])])
        _require(result, f"replicating {name}")
        runs += 1
    return runs


def ensure_features_and_suites(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: LakeStore,
    config: ClearlakeConfig,
    progress: Progress,
) -> None:
    window = config.feature_window()
    if missing_days(store, *window):
        progress(f"materialising features/flight_features {window[0]}..{window[1]}")
        _require(
            materialise(definitions, instance, [FEATURES], partition_range=window),
            "materialising flight_features",
        )
    suites = [dg.AssetKey(["evaluation", "suites", name]) for name in sorted(config.suites)]
    missing = [k for k in suites if not store.exists(store.partition_file("/".join(k.path), None))]
    if missing:
        progress("materialising evaluation suites " + ", ".join(k.path[-1] for k in missing))
        _require(materialise(definitions, instance, missing), "materialising suites")
    if not store.list_partitions(FEATURES_TABLE):
        raise LoopError("no feature partitions were published")


def cursor_key(sensor_name: str) -> str:
    return f"clearlake/in-process/{sensor_name}/cursor"


def tick(
    definitions: dg.Definitions, instance: dg.DagsterInstance, *, sensor_name: str = SENSOR_NAME
) -> list[dg.RunRequest]:
    """One evaluation of a sensor, as the daemon would do it (partitions, cursor)."""
    sensor = definitions.resolve_sensor_def(sensor_name)
    key = cursor_key(sensor_name)
    cursor = instance.run_storage.get_cursor_values({key}).get(key)
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions) as ctx:
        result = sensor(ctx)
    if not isinstance(result, dg.SensorResult):
        raise LoopError(f"{sensor_name} returned {type(result).__name__}, not a SensorResult")
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
    if result.cursor is not None:
        instance.run_storage.set_cursor_values({key: result.cursor})
    return [r for r in result.run_requests or [] if isinstance(r, dg.RunRequest)]


@dataclass(frozen=True)
class Evaluated:
    key: str
    run_id: str
    success: bool
    error: str | None


def resolved_job(name: str) -> dg.JobDefinition:
    """A job of the project's definitions (the reconstructor behind :func:`project_job`)."""
    from clearlake.cli.runs import load_definitions

    return load_definitions().resolve_job_def(name)


def project_job(name: str = JOB_NAME) -> ReconstructableJob:
    """``name`` of the project's definitions, reconstructable: report notebooks need it
    (dagstermill re-imports the job inside the notebook kernel)."""
    return dg.build_reconstructable_job("clearlake.demo.loop", "resolved_job", (name,))


def evaluate(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    requests: Sequence[dg.RunRequest],
    progress: Progress,
    *,
    reconstructable: ReconstructableJob | None = None,
) -> list[Evaluated]:
    """Launch each request as a run of ``candidate_evaluation`` (skipping used run keys).

    With ``reconstructable`` (the project's job) runs go through ``execute_job``,
    in-process: needed when the job holds report notebooks; otherwise ``execute_in_process``.
    """
    return launch(
        definitions,
        instance,
        requests,
        progress,
        job_name=JOB_NAME,
        sensor_name=SENSOR_NAME,
        doing="evaluating",
        reconstructable=reconstructable,
    )


def launch(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    requests: Sequence[dg.RunRequest],
    progress: Progress,
    *,
    job_name: str,
    sensor_name: str,
    doing: str,
    reconstructable: ReconstructableJob | None = None,
) -> list[Evaluated]:
    """Run each of a sensor's partition requests once (a used run key is skipped)."""
    job = definitions.resolve_job_def(job_name)
    run_config: dict[str, Any] = dict(QUIET)
    if job.executor_def.name == dg.multi_or_in_process_executor.name:
        run_config["execution"] = {"config": {"in_process": {}}}
    done = []
    for request in requests:
        key = request.partition_key
        assert key is not None
        run_key = request.run_key or key
        previous = instance.get_runs(
            dg.RunsFilter(tags={"dagster/run_key": run_key, "dagster/sensor_name": sensor_name}),
            limit=1,
        )
        if previous:
            continue
        progress(f"{doing} {key} ({request.tags.get('clearlake/reason', 'requested')})")
        tags = {**request.tags, "dagster/run_key": run_key, "dagster/sensor_name": sensor_name}
        result: RunResult
        if reconstructable is None:
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                tags=tags,
                run_config=QUIET,
                raise_on_error=False,
            )
        else:
            result = dg.execute_job(
                reconstructable,
                instance,
                raise_on_error=False,
                tags={**tags, "dagster/partition": key},
                run_config=run_config,
            )
        error = None if result.success else failure_message(result)
        done.append(Evaluated(key, result.run_id, result.success, error))
    return done


def render_reports(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Progress,
    *,
    reconstructable: ReconstructableJob,
) -> list[Evaluated]:
    """Tick ``regression_report_sensor`` and run its requests, as the daemon would.

    Renders the reports the blocking regression check kept out of their evaluation run
    (from the stored comparison). ``reconstructable`` is the ``candidate_reports`` job
    (report notebooks need one). Nothing to do without the sensor (no report assets).
    """
    if REPORT_SENSOR not in {getattr(s, "name", None) for s in definitions.sensors or []}:
        return []
    return launch(
        definitions,
        instance,
        tick(definitions, instance, sensor_name=REPORT_SENSOR),
        progress,
        job_name=REPORT_JOB,
        sensor_name=REPORT_SENSOR,
        doing="rendering the report of",
        reconstructable=reconstructable,
    )


def run_until_quiet(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Progress,
    *,
    max_ticks: int = 10,
    reconstructable: ReconstructableJob | None = None,
) -> list[Evaluated]:
    """Tick and evaluate until a tick finds nothing new."""
    evaluated: list[Evaluated] = []
    for _ in range(max_ticks):
        requests = tick(definitions, instance)
        if not requests:
            break
        evaluated += evaluate(
            definitions, instance, requests, progress, reconstructable=reconstructable
        )
    return evaluated


def refresh_leaderboard(definitions: dg.Definitions, instance: dg.DagsterInstance) -> None:
    _require(materialise(definitions, instance, [LEADERBOARD]), "refreshing the leaderboard")
