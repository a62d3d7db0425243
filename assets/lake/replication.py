"""Replication assets: one per production table, daily partitions or snapshots.

Every run checks what it wrote: the declared schema (blocking: drifted data is kept
raw but nothing downstream runs on it), nulls in key columns, and for daily tables the
row count against the trailing days.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from clearlake.lake import checks, conform, records, replicate, source, store
from clearlake.lake.metadata import declared_table_schema, written_metadata
from clearlake.lake.replicate import Replicated
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.names import lake_key
from clearlake.orchestration.partitions import daily_partitions, partition_days
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.project.load import current_project
from clearlake.provenance import provenance_metadata
from clearlake.settings import load_settings
from clearlake.versioning import digest, source_version

REPLICATION_CODE_VERSION = source_version(replicate, conform, store, source)


def declared_schema(table: LakeTable) -> dg.TableSchema:
    return declared_table_schema(table.schema)


def replication_metadata(
    results: Sequence[Replicated], previous: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """What the run did as a whole; a single partition's facts are its own (see below)."""
    first, last = results[0], results[-1]
    drift = [f"{r.partition or 'snapshot'}: {p}" for r in results for p in r.drift]
    metadata: dict[str, Any] = {
        **partition_metadata(first, (previous or {}).get(first.partition or "")),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(f.name, str(f.type)) for f in last.written.schema]
        ),
        "source_query_time": dg.MetadataValue.timestamp(first.snapshot_at),
        "partitions_written": len(results),
        "schema_drift": "; ".join(drift) or "none",
    }
    if len(results) > 1:
        metadata.pop(records.ROWS_LOST, None)  # a day's own fact (added per partition)
        metadata["partition_range"] = f"{first.partition}..{last.partition}"
        metadata["range_row_count"] = sum(r.written.row_count for r in results)
        metadata["range_bytes"] = sum(r.written.byte_size for r in results)
        metadata["range_query_seconds"] = round(sum(r.query_seconds for r in results), 3)
    return metadata


def partition_metadata(result: Replicated, previous_rows: int | None = None) -> dict[str, Any]:
    """One published partition: where it is, its size, its own content version; for a
    day, whether the source passed it without rows (``empty``), how far the source was,
    and the rows a re-replication dropped (``rows_lost``, only when it did)."""
    metadata = {
        **written_metadata(result.written),
        "query_seconds": round(result.query_seconds, 3),
    }
    if result.partition is not None:
        metadata[records.EMPTY] = result.written.row_count == 0
        if result.source_newest is not None:
            metadata[records.SOURCE_NEWEST_DAY] = result.source_newest.isoformat()
        if previous_rows is not None and previous_rows > result.written.row_count:
            metadata[records.ROWS_LOST] = previous_rows - result.written.row_count
    return metadata


def check_results(
    lake_store: store.LakeStore,
    table: LakeTable,
    results: Sequence[Replicated],
    recorded_rows: Mapping[dt.date, int],
) -> list[dg.AssetCheckResult]:
    """The run's checks over the partitions it wrote; the row count compares them with
    ``recorded_rows`` (what Dagster recorded for the days of their trailing window)."""
    partitions = [r.partition for r in results]
    findings = [
        (
            "schema_matches_declared",
            dg.AssetCheckSeverity.ERROR,
            checks.schema_finding(lake_store, table, partitions),
        ),
        (
            "key_columns_not_null",
            dg.AssetCheckSeverity.ERROR,
            checks.null_rate_finding(lake_store, table, partitions),
        ),
    ]
    if table.partitioned:
        written = {
            dt.date.fromisoformat(r.partition): r.written.row_count
            for r in results
            if r.partition is not None
        }
        findings.append(
            (
                "row_count_vs_trailing_days",
                dg.AssetCheckSeverity.WARN,
                checks.row_count_finding(table, sorted(written), {**recorded_rows, **written}),
            )
        )
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=finding.passed,
            severity=severity,
            description=finding.description,
            metadata={k: str(v)[:2000] for k, v in finding.details.items()},
        )
        for name, severity, finding in findings
    ]


def check_specs(table: LakeTable) -> list[dg.AssetCheckSpec]:
    key = lake_key(table.name)
    specs = [
        dg.AssetCheckSpec(
            "schema_matches_declared",
            asset=key,
            blocking=True,
            description="Stored columns and types equal the declared schema (drift is kept raw).",
        ),
        dg.AssetCheckSpec(
            "key_columns_not_null",
            asset=key,
            description=f"No nulls in {', '.join(table.key_columns)}.",
        ),
    ]
    if table.partitioned:
        specs.append(
            dg.AssetCheckSpec(
                "row_count_vs_trailing_days",
                asset=key,
                description="Row count within ±50% of the median of the 7 preceding days.",
            )
        )
    return specs


def partitions_def(table: LakeTable) -> dg.PartitionsDefinition | None:
    """The table's days (from its first day; open-ended unless it declares a last day)."""
    if table.first_day is None:
        return None
    return daily_partitions(table.first_day, table.last_day)


def replication_asset(table: LakeTable) -> dg.AssetsDefinition:
    partitioned = table.partitioned

    @dg.asset(
        key=lake_key(table.name),
        group_name="lake",
        description=table.description or f"Replica of {table.relation}.",
        partitions_def=partitions_def(table),
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        code_version=digest(
            REPLICATION_CODE_VERSION,
            str(table.schema),
            table.relation,
            ",".join(table.key_columns),
            table.partition_column or "",
        ),
        kinds={"parquet", "sql"},
        owners=["team:data-platform"],
        metadata={
            "dagster/column_schema": declared_schema(table),
            "key_columns": ", ".join(table.key_columns),
        },
        check_specs=check_specs(table),
        tags={"layer": "lake"},
    )
    def _replicated(
        context: dg.AssetExecutionContext,
        lake: LakeResource,
        production: SourceDatabaseResource,
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        days = partition_days(context.partition_time_window) if partitioned else None

        def progress(done: int, total: int) -> None:
            if done == total or done % 30 == 0:
                context.log.info(f"{table.name}: {done}/{total} partitions published")

        lake_store = lake.store()
        # One indexed lookup of the days and their trailing window (the row-count check's
        # counts): nothing older is read, however long the table's history.
        window = checks.trailing_window(days) if days else []
        recorded = records.recorded_days(context.instance, table, window)
        wanted = set(days or [])
        previous = {d.isoformat(): r.rows for d, r in recorded.items() if d in wanted}
        results = replicate.replicate(
            production.database(), lake_store, table, days, progress=progress
        )
        for result in results:
            for problem in result.drift:
                context.log.warning(f"schema drift in {table.name}[{result.partition}]: {problem}")
        version = (
            results[0].data_version
            if len(results) == 1
            else digest(*(r.written.content_hash for r in results))
        )
        metadata = replication_metadata(results, previous)
        if len(results) > 1:
            for result in results:
                context.add_asset_metadata(
                    partition_metadata(result, previous.get(result.partition or "")),
                    partition_key=result.partition,
                )
        metadata.update(
            provenance_metadata(
                run_id=context.run_id,
                code_version=context.assets_def.code_versions_by_key[context.asset_key],
            )
        )
        return dg.MaterializeResult(
            metadata=metadata,
            data_version=dg.DataVersion(version),
            check_results=check_results(
                lake_store, table, results, {d: r.rows for d, r in recorded.items()}
            ),
        )

    return _replicated


@dg.definitions
def defs() -> dg.Definitions:
    tables = lake_tables(current_project(load_settings()))
    return dg.Definitions(assets=[replication_asset(t) for t in tables.values()])
