"""Freshness checks: the lake keeps up with production (evaluated on demand or by schedule)."""

import dagster as dg

from clearlake.lake.checks import freshness_finding
from clearlake.lake.tables import LAKE_TABLES, LakeTable
from clearlake.resources import LakeResource, SourceDatabaseResource


def freshness_check(table: LakeTable) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["lake", table.name]),
        name="freshness",
        description=f"The newest {table.name} partition is at most one day behind production.",
    )
    def _freshness(lake: LakeResource, production: SourceDatabaseResource) -> dg.AssetCheckResult:
        finding = freshness_finding(lake.store(), table, production.database().newest_day(table))
        return dg.AssetCheckResult(
            passed=finding.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=finding.description,
            metadata={k: str(v) for k, v in finding.details.items()},
        )

    return _freshness


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        asset_checks=[freshness_check(t) for t in LAKE_TABLES.values() if t.partitioned]
    )
