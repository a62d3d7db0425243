"""Replication assets: one per production table, daily partitions or snapshots."""


import datetime as dt
from collections.abc import Sequence

import dagster as dg

from clearlake.lake import conform, replicate, source, store
from clearlake.lake.replicate import Replicated
from clearlake.lake.tables import LAKE_TABLES, LakeTable
from clearlake.partitions import daily_partitions_def
from clearlake.provenance import provenance_metadata
from clearlake.resources import LakeResource, SourceDatabaseResource
from clearlake.versioning import digest, source_version

REPLICATION_CODE_VERSION = source_version(replicate, conform, store, source)


def table_schema(table: LakeTable) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name,
                str(f.type),
                constraints=dg.TableColumnConstraints(nullable=f.nullable),
            )
            for f in table.schema
        ]
    )


def replication_metadata(results: Sequence[Replicated]) -> dict[str, object]:
    first, last = results[0], results[-1]
    metadata: dict[str, object] = {
        "path": dg.MetadataValue.path(first.written.uri if len(results) == 1 else
                                      first.written.uri.rsplit("/", 2)[0]),
        "dagster/row_count": sum(r.written.row_count for r in results),
        "bytes": sum(r.written.byte_size for r in results),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(f.name, str(f.type)) for f in last.written.schema]
        ),
        "source_query_time": dg.MetadataValue.timestamp(first.snapshot_at),
        "query_seconds": round(sum(r.query_seconds for r in results), 3),
        "partitions_written": len(results),
        "schema_drift": "; ".join(f"{r.partition or 'snapshot'}: {p}" for r in results
                                  for p in r.drift) or "none",
    }
    if len(results) > 1:
        metadata["partition_range"] = f"{first.partition}..{last.partition}"
    return metadata


def replication_asset(table: LakeTable) -> dg.AssetsDefinition:
    partitioned = table.partitioned

    @dg.asset(
        key=["lake", table.name],
        group_name="lake",
        description=table.description,
        partitions_def=daily_partitions_def if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        code_version=digest(REPLICATION_CODE_VERSION, str(table.schema)),
        kinds={"parquet", "sql"},
        owners=["team:data-platform"],
        metadata={"dagster/column_schema": table_schema(table), "key_columns": ", ".join(
            table.key_columns)},
        tags={"layer": "lake"},
    )
    def _replicated(
        context: dg.AssetExecutionContext,
        lake: LakeResource,
        production: SourceDatabaseResource,
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        days: list[dt.date] | None = None
        if partitioned:
            window = context.partition_time_window
            days = [
                window.start.date() + dt.timedelta(days=i)
                for i in range((window.end - window.start).days)
            ]

        def progress(done: int, total: int) -> None:
            if done == total or done % 30 == 0:
                context.log.info(f"{table.name}: {done}/{total} partitions published")

        results = replicate.replicate(
            production.database(), lake.store(), table, days, progress=progress
        )
        version = (
            results[0].data_version
            if len(results) == 1
            else digest(*(r.written.content_hash for r in results))
        )
        for result in results:
            for problem in result.drift:
                context.log.warning(f"schema drift in {table.name}[{result.partition}]: {problem}")
        metadata = replication_metadata(results)
        metadata.update(
            provenance_metadata(run_id=context.run_id, code_version=context.assets_def.code_versions_by_key[context.asset_key])
        )
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(version))

    return _replicated


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[replication_asset(t) for t in LAKE_TABLES.values()])
