"""``clearlake build``: whatever is missing, up to a day, in dependency order.

The plan is computed from the lake's files and the instance's records (cheap: no
definitions are loaded when there is nothing to do), then each step is one real Dagster
run recorded in the instance, so the UI and ``clearlake why`` see it like any other:

1. lake days the source has reached but the lake lacks (one ranged run per gap: the
   single-run backfill turns it into one range query), and missing snapshots;
2. feature days missing, up to the newest day all of the table's daily inputs will have;
3. pinned suites that are missing or stale (their definition changed, or a day of their
   window was rebuilt since), once every day of their window exists;
4. each rolling suite's newest partition, when it is missing.

Days the source has not reached are never requested: its newest day bounds everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from clearlake import names
from clearlake.errors import ClearlakeError
from clearlake.evaluation.suites import suite_code_version
from clearlake.features.tables import days_between, feature_table, missing_days
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.orchestration import runs
from clearlake.orchestration.lineage import latest
from clearlake.project.load import Project

Progress = Callable[[str], None]
NewestDay = Callable[[LakeTable], "dt.date | None"]


class BuildError(ClearlakeError):
    """A step of ``clearlake build`` failed."""


@dataclass(frozen=True)
class Step:
    """One run of the build: which assets, which days, and why."""

    what: str
    keys: tuple[dg.AssetKey, ...]
    days: tuple[dt.date, dt.date] | None = None
    partition_key: str | None = None


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    waiting: list[str]
    """What cannot be built yet (a suite whose window the lake has not reached)."""


def ranges(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive runs of ``days`` (sorted) as (first, last) pairs."""
    found: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if found and day == found[-1][1] + dt.timedelta(days=1):
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def _span(first: dt.date, last: dt.date) -> str:
    return str(first) if first == last else f"{first}..{last}"


def _wanted(project: Project, tasks: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The tasks and the feature tables to build (all of them by default)."""
    for name in tasks or []:
        project.task(name)  # an unknown task is an error naming the known ones
    chosen = list(tasks) if tasks else list(project.config.tasks)
    features = (
        sorted({project.task(t).dataset for t in chosen})
        if tasks
        else list(project.config.features)
    )
    return chosen, features


def plan(
    project: Project,
    store: LakeStore,
    instance: dg.DagsterInstance,
    newest_day: NewestDay,
    *,
    through: dt.date | None = None,
    tasks: Sequence[str] | None = None,
) -> Plan:
    """What ``clearlake build`` would run, in order (see the module's docstring)."""
    chosen, features = _wanted(project, tasks)
    tables = lake_tables(project)
    needed = (
        sorted({t for f in features for t in project.feature_inputs(f)}) if tasks else list(tables)
    )
    lake, reached = _lake_steps(store, [tables[n] for n in needed], newest_day, through)
    feature_steps, available, rebuilt = _feature_steps(project, store, features, reached)
    suite_steps, waiting = _suite_steps(project, store, instance, chosen, available, rebuilt)
    return Plan([*lake, *feature_steps, *suite_steps], waiting)


def _lake_steps(
    store: LakeStore,
    tables: Sequence[LakeTable],
    newest_day: NewestDay,
    through: dt.date | None,
) -> tuple[list[Step], dict[str, dt.date | None]]:
    """Missing snapshots and day ranges; per daily table, the last day it will have."""
    steps: list[Step] = []
    reached: dict[str, dt.date | None] = {}
    for table in tables:
        key = names.lake_key(table.name)
        if not table.partitioned:
            if not store.exists(store.partition_file(table.name, None)):
                steps.append(Step(f"lake/{table.name} (snapshot)", (key,)))
            continue
        assert table.first_day is not None
        newest = newest_day(table)  # never past the source's newest day
        last = (
            min(d for d in (newest, table.last_day, through) if d is not None) if newest else None
        )
        reached[table.name] = last
        if last is None or last < table.first_day:
            continue
        for first, end in ranges(missing_days(store, table.name, table.first_day, last)):
            steps.append(Step(f"lake/{table.name} {_span(first, end)}", (key,), (first, end)))
    return steps, reached


def _feature_steps(
    project: Project,
    store: LakeStore,
    features: Sequence[str],
    reached: dict[str, dt.date | None],
) -> tuple[list[Step], dict[str, dt.date | None], dict[str, list[dt.date]]]:
    """Missing feature day ranges; per table, its last day and the days built now."""
    steps: list[Step] = []
    available: dict[str, dt.date | None] = {}
    rebuilt: dict[str, list[dt.date]] = {}
    for feature in features:
        first_day, last = _feature_days(project, feature, reached)
        available[feature] = last
        if last is None or last < first_day:
            continue
        path = "/".join(names.feature_key(feature).path)
        rebuilt[feature] = missing_days(store, path, first_day, last)
        for first, end in ranges(rebuilt[feature]):
            steps.append(
                Step(f"{path} {_span(first, end)}", (names.feature_key(feature),), (first, end))
            )
    return steps, available, rebuilt


def _suite_steps(
    project: Project,
    store: LakeStore,
    instance: dg.DagsterInstance,
    tasks: Sequence[str],
    available: dict[str, dt.date | None],
    rebuilt: dict[str, list[dt.date]],
) -> tuple[list[Step], list[str]]:
    """Pinned suites missing or stale, rolling suites' newest partition; what must wait."""
    steps: list[Step] = []
    waiting: list[str] = []
    for task_name in tasks:
        task = project.task(task_name)
        last, days = available.get(task.dataset), rebuilt.get(task.dataset, [])
        for suite_name in sorted(task.suites):
            if task.suites[suite_name].rolling:
                found = _rolling_step(project, store, task_name, suite_name, last, days)
            else:
                found = _pinned_step(project, store, instance, task_name, suite_name, last, days)
            if isinstance(found, Step):
                steps.append(found)
            elif found:
                waiting.append(found)
    return steps, waiting


def _pinned_step(
    project: Project,
    store: LakeStore,
    instance: dg.DagsterInstance,
    task_name: str,
    suite_name: str,
    last: dt.date | None,
    rebuilt: Sequence[dt.date],
) -> Step | str | None:
    """A pinned suite to (re)build once its window's days exist; else why not."""
    task = project.task(task_name)
    key = names.suite_key(task_name, suite_name)
    end = task.suites[suite_name].span()[1]
    if last is None or end > last:
        return f"{key.to_user_string()} waits for {task.dataset} through {end}"
    reason = _suite_stale(project, store, instance, task_name, suite_name, rebuilt)
    return Step(f"{key.to_user_string()} ({reason})", (key,)) if reason else None


def _feature_days(
    project: Project, feature: str, reached: dict[str, dt.date | None]
) -> tuple[dt.date, dt.date | None]:
    """A feature table's first day and the newest day all its daily inputs will have."""
    table = feature_table(project, feature)
    lasts = [reached.get(name) for name, t in table.inputs.items() if t.partitioned]
    if any(d is None for d in lasts) or not lasts:
        return table.first_day, None
    last = min(d for d in lasts if d is not None)
    if table.last_day is not None:
        last = min(last, table.last_day)
    return table.first_day, last


def _suite_stale(
    project: Project,
    store: LakeStore,
    instance: dg.DagsterInstance,
    task_name: str,
    suite_name: str,
    rebuilt: Sequence[dt.date],
) -> str | None:
    """Why a pinned suite must be (re)built, or None when it is up to date."""
    key = names.suite_key(task_name, suite_name)
    if not store.exists(store.partition_file("/".join(key.path), None)):
        return "missing"
    record = latest(instance, key)
    if record is None:
        return "not recorded in this instance"
    task = project.task(task_name)
    if record.code_version != suite_code_version(task, suite_name):
        return "its definition changed"
    start, end = task.suites[suite_name].span()
    if any(start <= day <= end for day in rebuilt):
        return "days of its window are built now"
    newer = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=names.feature_key(task.dataset),
            asset_partitions=[d.isoformat() for d in task.suites[suite_name].days],
            after_storage_id=record.storage_id,
        ),
        limit=1,
    ).records
    if newer:
        return f"{task.dataset} {newer[0].partition_key} was rebuilt since"
    return None


def _rolling_step(
    project: Project,
    store: LakeStore,
    task_name: str,
    suite_name: str,
    last: dt.date | None,
    rebuilt: Sequence[dt.date],
) -> Step | str | None:
    """A rolling suite's newest partition (the window ending at the newest feature day
    with known labels) when it is missing or its days are rebuilt now; else why not."""
    task = project.task(task_name)
    suite = task.suites[suite_name]
    assert suite.rolling_days is not None
    key = names.suite_key(task_name, suite_name)
    label = key.to_user_string()
    first = feature_table(project, task.dataset).first_day
    first_partition = first + dt.timedelta(days=suite.rolling_days - 1 + suite.label_delay_days)
    if last is None:
        return f"{label} waits for {task.dataset}"
    newest = last + dt.timedelta(days=suite.label_delay_days)
    if newest < first_partition:
        return f"{label} waits for {task.dataset} through {first_partition}"
    start, end = suite.window_ending(newest)
    path = store.partition_file("/".join(key.path), f"date={newest.isoformat()}")
    if store.exists(path) and not any(start <= day <= end for day in rebuilt):
        return None
    return Step(f"{label} [{newest}] (window {start}..{end})", (key,), partition_key=str(newest))


@dataclass(frozen=True)
class Done:
    step: Step
    run_id: str


def execute(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    steps: Sequence[Step],
    progress: Progress,
) -> list[Done]:
    """Run the steps in order, one real run each; stop at the first failure."""
    done = []
    for number, step in enumerate(steps, 1):
        progress(f"[{number}/{len(steps)}] building {step.what}")
        result = runs.materialize(
            definitions,
            instance,
            list(step.keys),
            partition_range=step.days,
            partition_key=step.partition_key,
        )
        if not result.success:
            raise BuildError(
                f"Building {step.what} failed (run {result.run_id}): "
                f"{runs.failure_message(result)}. Fix it, then run `clearlake build` again: "
                f"the {number - 1} step(s) done are kept."
            )
        done.append(Done(step, result.run_id))
    return done


def days_of(step: Step) -> int:
    return len(days_between(*step.days)) if step.days else 1
