"""Freshness checks: the lake keeps up with production (evaluated on demand or by schedule)."""

import dagster as dg

from clearlake.lake.checks import lag_finding
from clearlake.lake.records import lake_newest_day
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.names import lake_key
from clearlake.orchestration.resources import SourceDatabaseResource
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def freshness_check(table: LakeTable) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=lake_key(table.name),
        name="freshness",
        description=f"The newest {table.name} day is at most one day behind production "
        "(from what Dagster recorded: an empty day written before the source had it does "
        "not count).",
    )
    def _freshness(
        context: dg.AssetCheckExecutionContext, production: SourceDatabaseResource
    ) -> dg.AssetCheckResult:
        source_newest = production.database().newest_day(table)
        newest = lake_newest_day(context.instance, table, source_newest=source_newest)
        finding = lag_finding(table, newest, source_newest)
        return dg.AssetCheckResult(
            passed=finding.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=finding.description,
            metadata={k: str(v) for k, v in finding.details.items()},
        )

    return _freshness


@dg.definitions
def defs() -> dg.Definitions:
    tables = lake_tables(current_project(load_settings()))
    return dg.Definitions(
        asset_checks=[freshness_check(t) for t in tables.values() if t.partitioned]
    )
