"""``evaluation/suites/<name>``: one asset per suite declared in the configuration.

Each depends on exactly the feature partitions of its window (a specific-partitions
mapping), so Dagster records the data versions of those days as its input and marks the
suite unsynced when one of them, or the suite's own definition, changes.
"""

import dagster as dg

from clearlake.evaluation.config import ClearlakeConfig, SuiteConfig, load_config
from clearlake.evaluation.suites import suite_code_version, suite_from_lake
from clearlake.resources import LakeResource
from clearlake.settings import load_settings

FEATURES = dg.AssetKey(["features", "flight_features"])


def suite_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", "suites", name])


def suite_asset(name: str, suite: SuiteConfig) -> dg.AssetsDefinition:
    code_version = suite_code_version(name, suite)
    days = [d.isoformat() for d in suite.days]

    @dg.asset(
        key=suite_key(name),
        group_name="evaluation",
        description=(
            f"Evaluation suite {name!r} ({suite.role}): flight_features rows of "
            f"{suite.start}..{suite.end} whose arrival delay is known. "
            f"{suite.description}".strip()
        ),
        deps=[dg.AssetDep(FEATURES, partition_mapping=dg.SpecificPartitionsPartitionMapping(days))],
        code_version=code_version,
        kinds={"parquet", "pandas"},
        owners=["team:data-science"],
        tags={"layer": "evaluation", "suite_role": suite.role},
        metadata={"window": f"{suite.start}..{suite.end}", "role": suite.role},
    )
    def _suite(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.Output:  # type: ignore[type-arg]
        built = suite_from_lake(lake.store(), name, suite)
        context.log.info(f"suite {name}: {built.num_rows} rows ({suite.start}..{suite.end})")
        return dg.Output(
            built.table,
            data_version=dg.DataVersion(built.content_hash()),
            metadata={
                "window": f"{suite.start}..{suite.end}",
                "role": suite.role,
                "carriers": built.distinct_count("carrier"),
                "provenance/input_partitions/features/flight_features": (
                    f"{suite.start}..{suite.end}"
                ),
            },
        )

    return _suite


def suite_assets(config: ClearlakeConfig) -> list[dg.AssetsDefinition]:
    return [suite_asset(name, suite) for name, suite in sorted(config.suites.items())]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=suite_assets(load_config(load_settings().config_path)))
