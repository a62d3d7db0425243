"""``evaluation/<task>/suites/<suite>``: one asset per suite declared by each task.

A pinned suite depends on exactly the partitions of its window of the task's feature table
(a specific-partitions mapping), so Dagster records the data versions of those days as its
input and marks the suite unsynced when one of them, or the suite's own definition,
changes. A rolling suite is daily-partitioned: partition D holds the ``rolling_days`` of
rows up to D - ``label_delay_days`` (a time-window mapping onto the feature table), follows
new days by itself (``flow: new-days``), and its newest partition is the window candidates
are scored on (:func:`suite_dep`: the last partition).
"""

import datetime as dt

import dagster as dg

from clearlake.evaluation.suites import suite_code_version, suite_from_lake
from clearlake.features.datasets import table_digest
from clearlake.features.tables import feature_table
from clearlake.names import NEW_DAYS_TAGS, evaluation_group, feature_key, suite_key
from clearlake.orchestration.automation import new_days
from clearlake.orchestration.partitions import daily_partitions
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, current_project
from clearlake.settings import load_settings


def suite_dep(project: Project, task_name: str, suite_name: str) -> dg.AssetDep:
    """What reads a suite (a candidate's predictions) reads: a rolling suite's newest
    partition, the current window."""
    rolling = project.task(task_name).suites[suite_name].rolling
    return dg.AssetDep(
        suite_key(task_name, suite_name),
        partition_mapping=dg.LastPartitionMapping() if rolling else None,
    )


def rolling_suite_asset(project: Project, task_name: str, suite_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    suite = task.suites[suite_name]
    assert suite.rolling_days is not None
    width, delay = suite.rolling_days, suite.label_delay_days
    features = feature_table(project, task.dataset)
    first = features.first_day + dt.timedelta(days=width - 1 + delay)
    last = features.last_day + dt.timedelta(days=delay) if features.last_day else None
    what = f"the {width} day(s) of {task.dataset} up to the partition's day minus {delay}"

    @dg.asset(
        key=suite_key(task_name, suite_name),
        group_name=evaluation_group(task_name),
        description=(
            f"Rolling evaluation suite {suite_name!r} ({suite.role}) of task {task_name}: "
            f"{what}, rows whose {task.target} is known, ordered by row id; the newest "
            f"partition is the current window. {suite.description}".strip()
        ),
        partitions_def=daily_partitions(first, last),
        deps=[
            dg.AssetDep(
                feature_key(task.dataset),
                partition_mapping=dg.TimeWindowPartitionMapping(
                    start_offset=-(width - 1 + delay), end_offset=-delay
                ),
            )
        ],
        code_version=suite_code_version(task, suite_name),
        automation_condition=new_days(backlog_days=project.config.live.backlog_days),
        kinds={"parquet", "pandas"},
        owners=["team:data-science"],
        tags={"layer": "evaluation", "suite_role": suite.role, "task": task_name, **NEW_DAYS_TAGS},
        metadata={"rolling_days": width, "label_delay_days": delay, "role": suite.role},
    )
    def _rolling_suite(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        day = dt.date.fromisoformat(context.partition_key)
        start, end = suite.window_ending(day)
        table = suite_from_lake(
            lake.store(),
            task_name=task_name,
            task=task,
            dataset=dataset,
            suite_name=suite_name,
            partition=day,
        )
        context.log.info(f"{task_name}/{suite_name}[{day}]: {table.num_rows} rows, {start}..{end}")
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "window": f"{start}..{end}",
                "role": suite.role,
                "task": task_name,
                f"provenance/input_partitions/features/{task.dataset}": f"{start}..{end}",
            },
        )

    return _rolling_suite


def suite_asset(project: Project, task_name: str, suite_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    suite = task.suites[suite_name]
    if suite.rolling:
        return rolling_suite_asset(project, task_name, suite_name)
    days = [d.isoformat() for d in suite.days]

    @dg.asset(
        key=suite_key(task_name, suite_name),
        group_name=evaluation_group(task_name),
        description=(
            f"Evaluation suite {suite_name!r} ({suite.role}) of task {task_name}: rows of "
            f"{task.dataset} dated {suite.start}..{suite.end} whose {task.target} is known, "
            f"ordered by row id. {suite.description}".strip()
        ),
        deps=[
            dg.AssetDep(
                feature_key(task.dataset),
                partition_mapping=dg.SpecificPartitionsPartitionMapping(days),
            )
        ],
        code_version=suite_code_version(task, suite_name),
        kinds={"parquet", "pandas"},
        owners=["team:data-science"],
        tags={"layer": "evaluation", "suite_role": suite.role, "task": task_name},
        metadata={"window": f"{suite.start}..{suite.end}", "role": suite.role, "task": task_name},
    )
    def _suite(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        table = suite_from_lake(
            lake.store(), task_name=task_name, task=task, dataset=dataset, suite_name=suite_name
        )
        context.log.info(f"{task_name}/{suite_name}: {table.num_rows} rows")
        return dg.Output(
            table,
            data_version=dg.DataVersion(table_digest(table)),
            metadata={
                "window": f"{suite.start}..{suite.end}",
                "role": suite.role,
                "task": task_name,
                f"provenance/input_partitions/features/{task.dataset}": (
                    f"{suite.start}..{suite.end}"
                ),
            },
        )

    return _suite


def suite_assets(project: Project) -> list[dg.AssetsDefinition]:
    return [
        suite_asset(project, task, suite)
        for task, config in sorted(project.config.tasks.items())
        for suite in sorted(config.suites)
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=suite_assets(current_project(load_settings())))
