"""``evaluation/<task>/suites/<suite>``: one asset per suite declared by each task.

Each depends on exactly the partitions of its window of the task's feature table (a
specific-partitions mapping), so Dagster records the data versions of those days as its
input and marks the suite unsynced when one of them, or the suite's own definition,
changes.
"""

import dagster as dg

from clearlake.evaluation.suites import suite_code_version, suite_from_lake
from clearlake.features.datasets import table_digest
from clearlake.names import feature_key, suite_key
from clearlake.project.load import Project, current_project
from clearlake.resources import LakeResource
from clearlake.settings import load_settings


def suite_asset(project: Project, task_name: str, suite_name: str) -> dg.AssetsDefinition:
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    suite = task.suites[suite_name]
    days = [d.isoformat() for d in suite.days]

    @dg.asset(
        key=suite_key(task_name, suite_name),
        group_name="evaluation",
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
