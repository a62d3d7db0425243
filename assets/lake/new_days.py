"""Open-ended daily sources grow by themselves: each new day is replicated once it exists.

The sensor asks every open-ended source for its newest day and requests the days after
the newest one already in the lake (or already requested: the cursor), one run per
table and tick, keyed by its days so that a day is never requested twice. A backlog (a
table declared today with a year of history) is one ranged run, which the single-run
backfill policy turns into one range query.
"""

import datetime as dt
import json

import dagster as dg

from clearlake.lake.tables import LakeTable, lake_tables, pending_days
from clearlake.names import LAKE_DAYS_SENSOR, lake_key
from clearlake.project.load import current_project
from clearlake.resources import SourceDatabaseResource
from clearlake.settings import load_settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def _done_through(
    instance: dg.DagsterInstance, table: LakeTable, requested: str | None
) -> dt.date | None:
    present = instance.get_materialized_partitions(lake_key(table.name))
    newest = max([*present, *([requested] if requested else [])], default=None)
    return dt.date.fromisoformat(newest) if newest else None


def run_request(table: LakeTable, days: list[dt.date]) -> dg.RunRequest:
    first, last = days[0].isoformat(), days[-1].isoformat()
    if first == last:
        return dg.RunRequest(
            run_key=f"{table.name}/{first}",
            asset_selection=[lake_key(table.name)],
            partition_key=first,
        )
    return dg.RunRequest(
        run_key=f"{table.name}/{first}..{last}",
        asset_selection=[lake_key(table.name)],
        tags={RANGE_START: first, RANGE_END: last},
    )


def new_days_sensor(tables: list[LakeTable]) -> dg.SensorDefinition:
    @dg.sensor(
        name=LAKE_DAYS_SENSOR,
        minimum_interval_seconds=15 * 60,
        asset_selection=[lake_key(t.name) for t in tables],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Replicates each new day of the open-ended daily sources once it exists.",
    )
    def _new_days(
        context: dg.SensorEvaluationContext, production: SourceDatabaseResource
    ) -> dg.SensorResult | dg.SkipReason:
        cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        source = production.database()
        today = dt.datetime.now(dt.UTC).date()
        requests = []
        for table in tables:
            days = pending_days(
                table,
                source_newest=source.newest_day(table),
                done_through=_done_through(context.instance, table, cursor.get(table.name)),
                today=today,
            )
            if days:
                requests.append(run_request(table, days))
                cursor[table.name] = days[-1].isoformat()
        if not requests:
            return dg.SkipReason("every open-ended source is replicated up to its newest day")
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return _new_days


@dg.definitions
def defs() -> dg.Definitions:
    tables = lake_tables(current_project(load_settings()))
    growing = [t for t in tables.values() if t.partitioned and t.last_day is None]
    return dg.Definitions(sensors=[new_days_sensor(growing)] if growing else [])
