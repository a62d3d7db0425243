"""Lake assets materialised through real (ephemeral-instance) Dagster runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg

from assets.lake.replication import replication_asset
from clearlake.lake.tables import get_table
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource


class Replicator:
    """Materialise lake assets through real (ephemeral-instance) Dagster runs."""

    def __init__(self, lake_url: str, source_url: str) -> None:
        self.instance = dg.DagsterInstance.ephemeral()
        self.resources: dict[str, Any] = {
            "lake": LakeResource(url=lake_url),
            "production": SourceDatabaseResource(url=source_url),
        }

    def run(
        self, table: str, first: dt.date | None = None, last: dt.date | None = None
    ) -> dg.ExecuteInProcessResult:
        tags = {}
        if first is not None:
            tags = {
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": (last or first).isoformat(),
            }
        return dg.materialize(
            [replication_asset(get_table(table))],
            resources=self.resources,
            instance=self.instance,
            tags=tags,
            raise_on_error=False,
        )

    def last_materialization(self, table: str) -> dg.AssetMaterialization:
        event = self.instance.get_latest_materialization_event(dg.AssetKey(["lake", table]))
        assert event is not None and event.asset_materialization is not None
        return event.asset_materialization

    def materialization(self, table: str, partition: str) -> dg.AssetMaterialization:
        """The latest materialisation of one partition of ``table``."""
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(dg.AssetKey(["lake", table]), asset_partitions=[partition]),
            limit=1,
        ).records
        assert records, f"no materialisation of lake/{table} [{partition}]"
        event = records[0].event_log_entry.asset_materialization
        assert event is not None
        return event

    def data_version(self, table: str) -> str:
        tags = self.last_materialization(table).tags
        assert tags is not None
        return tags["dagster/data_version"]

    def checks(self, result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
        return {
            e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
