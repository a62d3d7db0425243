"""``features/<name>``: one daily-partitioned asset per declared feature table, with checks.

The code version is the hash of the table's SQL file (or its function's module) and its
declared schema: editing them unsyncs this asset and exactly what is downstream; a
candidate commit does not. Its lineage is exactly the lake tables it reads.
"""

from typing import Any

import dagster as dg
import pyarrow as pa

from clearlake.features import build, checks
from clearlake.features.tables import FeatureTable, feature_table
from clearlake.lake.metadata import declared_table_schema, written_metadata
from clearlake.lake.store import date_partition
from clearlake.names import NEW_DAYS_TAGS, feature_key, lake_key
from clearlake.orchestration.automation import new_days
from clearlake.orchestration.partitions import daily_partitions, partition_days
from clearlake.orchestration.resources import LakeResource
from clearlake.project.load import Project, current_project
from clearlake.provenance import provenance_metadata
from clearlake.settings import load_settings
from clearlake.versioning import digest


def column_schema(table: FeatureTable) -> dg.TableSchema:
    descriptions = {name: spec.description for name, spec in table.config.columns.items()}
    return declared_table_schema(table.schema, descriptions)


def check_specs(table: FeatureTable) -> list[dg.AssetCheckSpec]:
    key = feature_key(table.name)
    return [
        dg.AssetCheckSpec(
            checks.SCHEMA_CHECK,
            asset=key,
            blocking=True,
            description="Every published partition has exactly the declared schema.",
        ),
        dg.AssetCheckSpec(
            checks.UNIQUE_CHECK,
            asset=key,
            blocking=True,
            description=f"{table.row_id} identifies one row (predictions are joined on it).",
        ),
        *(
            dg.AssetCheckSpec(
                c.name,
                asset=key,
                blocking=c.blocking,
                description=c.description or f"{c.kind} check of {c.column}.",
            )
            for c in table.checks
        ),
    ]


def _severity(table: FeatureTable, name: str) -> dg.AssetCheckSeverity:
    blocking = {checks.SCHEMA_CHECK, checks.UNIQUE_CHECK} | {
        c.name for c in table.checks if c.blocking
    }
    return dg.AssetCheckSeverity.ERROR if name in blocking else dg.AssetCheckSeverity.WARN


def feature_asset(project: Project, name: str) -> dg.AssetsDefinition:
    table = feature_table(project, name)
    function = (
        project.load_object(table.config.function, what="feature function")
        if table.config.function
        else None
    )

    @dg.asset(
        key=feature_key(name),
        group_name="features",
        description=table.config.description or f"Feature table {name} ({table.kind}).",
        partitions_def=daily_partitions(table.first_day, table.last_day),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[lake_key(t) for t in table.inputs],
        code_version=table.code_version,
        kinds={"parquet", "duckdb" if table.sql is not None else "pandas"},
        owners=["team:data-science"],
        tags={"layer": "features", **NEW_DAYS_TAGS},
        automation_condition=new_days(
            backlog_days=project.config.live.backlog_days,
            snapshots=[lake_key(t) for t, source in table.inputs.items() if not source.partitioned],
        ),
        metadata={
            "dagster/column_schema": column_schema(table),
            "table": table.path,
            "row_id": table.row_id,
        },
        check_specs=check_specs(table),
    )
    def _feature_table(
        context: dg.AssetExecutionContext, lake: LakeResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        store = lake.store()
        days = partition_days(context.partition_time_window)
        built = build.build_days(table, store, days, function)
        written = {
            day: store.write(table.path, date_partition(day), table.schema, data.to_batches())
            for day, data in built.items()
        }
        if len(written) > 1:  # each day's own facts; the run's metadata covers the range
            for day, partition in written.items():
                context.add_asset_metadata(
                    written_metadata(partition), partition_key=day.isoformat()
                )
        combined = pa.concat_tables(built.values()) if built else table.schema.empty_table()
        schemas = [store.read_schema(w.path) for w in written.values()]
        outcomes = checks.all_checks(
            combined,
            schemas,
            declared=table.schema,
            row_id=table.row_id,
            checks=table.checks,
        )
        context.log.info(f"{name}: {combined.num_rows} rows for {len(days)} day(s)")
        metadata: dict[str, Any] = {
            **written_metadata(written[days[0]]),
            "range_row_count": combined.num_rows,
            "partition_range": f"{days[0]}..{days[-1]}",
            **provenance_metadata(run_id=context.run_id, code_version=table.code_version),
        }
        return dg.MaterializeResult(
            metadata=metadata,
            data_version=dg.DataVersion(digest(*(w.content_hash for w in written.values()))),
            check_results=[
                dg.AssetCheckResult(
                    check_name=o.name,
                    passed=o.passed,
                    severity=_severity(table, o.name),
                    description=o.description,
                    metadata=dict(o.metadata),
                )
                for o in outcomes
            ],
        )

    return _feature_table


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project(load_settings())
    return dg.Definitions(assets=[feature_asset(project, n) for n in project.config.features])
