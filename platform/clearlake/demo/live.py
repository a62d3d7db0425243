"""Days arriving, in-process: the sample database releases days and they flow on by themselves.

:func:`release` advances the project's sample database a batch of days at a time, up to its declared
``demo.sample_through + demo.release_days``. After each batch, :func:`flow` does what the
daemon does with the same definitions: it ticks the new-days sensor (the lake replicates what
the source now has) and then evaluates the automation conditions of every asset tagged
``flow: new-days``, running what they request until nothing more is requested (feature days,
rolling suites, the monitors). Public API only: ``build_sensor_context`` and
``evaluate_automation_conditions``; no step is listed by hand, so the demo shows the flow a
deployment runs, not a script beside it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from clearlake import names
from clearlake.demo.loop import LoopError, require
from clearlake.lake.source import SourceDatabase
from clearlake.lake.tables import lake_tables
from clearlake.orchestration import runs
from clearlake.project import Project
from clearlake.project.load import sample_database_advancer

Progress = Callable[[str], None]
MAX_ROUNDS = 12
"""Automation rounds per batch; each round runs one layer (features, then the monitor's
predictions, performance, status), so four or five are ever needed."""
FLOW = dg.AssetSelection.tag(names.FLOW_TAG, names.NEW_DAYS_FLOW)


def release(
    project: Project,
    source_url: str,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Progress,
) -> list[tuple[dt.date, dt.date]]:
    """Release the sample's next days up to ``sample_through + release_days``, a batch at a
    time, each batch flowing on before the next arrives; return the batches released. A
    second call finds the source there already and only lets unfinished days flow."""
    demo = project.config.demo
    batches: list[tuple[dt.date, dt.date]] = []
    if demo is None or demo.sample_through is None or not demo.release_days:
        return batches
    target = demo.sample_through + dt.timedelta(days=demo.release_days)
    advance = sample_database_advancer(project)
    source = SourceDatabase(source_url)
    daily = [t for t in lake_tables(project).values() if t.partitioned and t.first_day]
    while True:
        newest = min((source.newest_day(t) or demo.sample_through) for t in daily)
        if newest >= target:
            break
        days = min(demo.release_batch_days, (target - newest).days)
        advance(source_url, days=days, progress=lambda _: None)
        batch = (newest + dt.timedelta(days=1), newest + dt.timedelta(days=days))
        progress(f"the source received {batch[0]}..{batch[1]}: letting the days flow on")
        flow(definitions, instance, progress)
        batches.append(batch)
    if not batches:
        flow(definitions, instance, progress)  # what an interrupted run left, if anything
    return batches


def flow(definitions: dg.Definitions, instance: dg.DagsterInstance, progress: Progress) -> int:
    """One new-days sensor tick, then automation rounds until quiet; return runs made."""
    made = 0
    for request in lake_day_requests(definitions, instance):
        keys = list(request.asset_selection or [])
        what = ", ".join(k.to_user_string() for k in keys)
        days = request.tags.get(runs.RANGE_START_TAG, request.partition_key)
        last = request.tags.get(runs.RANGE_END_TAG, request.partition_key)
        progress(f"  new-days sensor: replicating {what} {days}..{last}")
        result = runs.materialize(
            definitions,
            instance,
            keys,
            partition_key=request.partition_key,
            tags=dict(request.tags),
        )
        require(result, f"replicating {what}")
        made += 1
    cursor: Any = None
    for _ in range(MAX_ROUNDS):
        evaluation = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, asset_selection=FLOW, cursor=cursor
        )
        cursor = evaluation.cursor
        if not evaluation.total_requested:
            return made
        for key in _in_dependency_order(definitions, evaluation):
            for partitions in _runs_for(definitions, key, evaluation.get_requested_partitions(key)):
                progress(f"  automation: {key.to_user_string()} {_span(partitions)}".rstrip())
                result = runs.materialize(
                    definitions,
                    instance,
                    [key],
                    partition_key=partitions[0] if len(partitions) == 1 else None,
                    partition_range=_range(partitions) if len(partitions) > 1 else None,
                )
                require(result, f"materialising {key.to_user_string()}")
                made += 1
    raise LoopError(
        f"the new days still asked for runs after {MAX_ROUNDS} rounds of automation: look at "
        "the Dagster UI (`clearlake ui`) for an asset that keeps being requested"
    )


def lake_day_requests(
    definitions: dg.Definitions, instance: dg.DagsterInstance
) -> list[dg.RunRequest]:
    """What the new-days sensor asks for now (it keeps no cursor: the instance is its state)."""
    if names.LAKE_DAYS_SENSOR not in {s.name for s in definitions.sensors or []}:
        return []
    sensor = definitions.resolve_sensor_def(names.LAKE_DAYS_SENSOR)
    with dg.build_sensor_context(
        instance=instance, definitions=definitions, resources=definitions.resources
    ) as context:
        result = sensor(context)
    if not isinstance(result, dg.SensorResult):
        return []
    return [r for r in result.run_requests or [] if isinstance(r, dg.RunRequest)]


def _in_dependency_order(definitions: dg.Definitions, evaluation: Any) -> list[dg.AssetKey]:
    """Requested keys, each after its ancestors: an asset's upstream closure contains every
    ancestor's, so its size orders them."""
    graph = definitions.resolve_asset_graph()
    requested = [k for k in graph.get_all_asset_keys() if evaluation.get_num_requested(k)]
    return sorted(
        requested,
        key=lambda k: (len(dg.AssetSelection.assets(k).upstream().resolve(graph)), k.path),
    )


def _runs_for(
    definitions: dg.Definitions, key: dg.AssetKey, partitions: Any
) -> list[list[str | None]]:
    """One run per partition, or per run of consecutive days for a single-run backfill."""
    keys = sorted((p for p in partitions if p is not None), key=str)
    if not keys:
        return [[None]]
    policy = definitions.resolve_assets_def(key).backfill_policy
    if policy is None or policy.max_partitions_per_run is not None:
        return [[p] for p in keys]
    days = [dt.date.fromisoformat(p) for p in keys]
    groups: list[list[str | None]] = []
    for _, run in itertools.groupby(
        enumerate(days), key=lambda item: item[1].toordinal() - item[0]
    ):
        groups.append([day.isoformat() for _, day in run])
    return groups


def _range(partitions: Sequence[str | None]) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(str(partitions[0])), dt.date.fromisoformat(str(partitions[-1]))


def _span(partitions: Sequence[str | None]) -> str:
    if partitions == [None]:
        return ""
    return str(partitions[0]) if len(partitions) == 1 else f"{partitions[0]}..{partitions[-1]}"
