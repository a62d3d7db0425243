"""Daily sources grow by themselves: each day is replicated once the source has it.

Every tick asks each daily source for its newest day (and the content of its trailing
``refresh_days``), reads the lake's newest day from the table's manifest and asks the
instance what is materialised around it (never every partition: a five-year lake costs a
tick what a one-month lake does) and which of the sensor's runs are in flight or failed;
:func:`clearlake.lake.timeline.plan_table` decides. No
cursor: the instance is the state, so a restart or a lost cursor re-requests nothing,
and a failed run's days are requested again with a new run key. One unreachable source
skips its table for this tick only.
"""

import datetime as dt
import logging

import dagster as dg

from clearlake.errors import SourceUnavailableError
from clearlake.lake.records import (
    DAYS_TAG,
    TABLE_TAG,
    SensorRuns,
    days_around,
    days_tag,
    sensor_runs,
)
from clearlake.lake.replicate import DayContent, source_content
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.lake.timeline import plan_table
from clearlake.names import LAKE_DAYS_SENSOR, lake_key
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.orchestration.runs import RANGE_END_TAG, RANGE_START_TAG
from clearlake.project.config import LiveConfig
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def run_request(table: LakeTable, days: list[dt.date], *, attempt: str) -> dg.RunRequest:
    """One run for consecutive ``days``; ``attempt`` makes the run key new for a retry or
    for new content of a day already replicated."""
    first, last = days[0].isoformat(), days[-1].isoformat()
    tags = {TABLE_TAG: table.name, DAYS_TAG: days_tag(days)}
    if first == last:
        return dg.RunRequest(
            run_key=f"{table.name}/{first}/{attempt}",
            asset_selection=[lake_key(table.name)],
            partition_key=first,
            tags=tags,
        )
    return dg.RunRequest(
        run_key=f"{table.name}/{first}..{last}/{attempt}",
        asset_selection=[lake_key(table.name)],
        tags={**tags, RANGE_START_TAG: first, RANGE_END_TAG: last},
    )


def table_requests(
    instance: dg.DagsterInstance,
    source: SourceDatabase,
    table: LakeTable,
    today: dt.date,
    log: logging.Logger,
    *,
    store: LakeStore,
) -> list[dg.RunRequest]:
    """What one table needs this tick (reads the source once, in one snapshot; the lake's
    newest day from the table's manifest, then Dagster's records of the days around it)."""
    cap = min(today, table.last_day or today)
    newest, content = source_content(source, table, trailing=table.refresh_days, through=cap)
    end = min(newest, cap) if newest else None
    runs: SensorRuns = sensor_runs(instance, table)
    recorded = days_around(
        instance,
        table,
        hint=store.newest_day(table.name),
        end=max([d for d in (newest, end) if d is not None], default=None),
        trailing=table.refresh_days,
        also=[*runs.failed, *runs.in_flight],
    )
    plan = plan_table(
        table,
        source_newest=newest,
        today=today,
        materialized=set(recorded),
        recorded=recorded,
        runs=runs,
        source=content,
    )
    for warning in plan.warnings:
        log.warning(warning)
    requests = [
        run_request(table, days, attempt=f"try{1 + max(runs.failed[d] for d in days)}")
        for days in plan.new_days
    ]
    requests += [
        run_request(table, [day], attempt=_content(c, runs.failed[day])) for day, c in plan.refresh
    ]
    return requests


def _content(content: DayContent, failures: int) -> str:
    return f"content-{content.content_hash}-try{1 + failures}"


def default_status(
    tables: list[LakeTable], declared: LiveConfig | None = None
) -> dg.DefaultSensorStatus:
    """As the project's ``live.new_days`` says; by default running when a source is
    open-ended (it grows by itself) and stopped when every daily source declares a last
    day (a frozen sample: started by hand to watch it released day by day, so that a
    deployment of a frozen sample launches no replication of its own)."""
    if declared is not None and declared.new_days is not None:
        return (
            dg.DefaultSensorStatus.RUNNING
            if declared.new_days == "running"
            else dg.DefaultSensorStatus.STOPPED
        )
    if any(t.last_day is None for t in tables):
        return dg.DefaultSensorStatus.RUNNING
    return dg.DefaultSensorStatus.STOPPED


def new_days_sensor(tables: list[LakeTable], live: LiveConfig | None = None) -> dg.SensorDefinition:
    live = live or LiveConfig()

    @dg.sensor(
        name=LAKE_DAYS_SENSOR,
        minimum_interval_seconds=live.poll_seconds,
        asset_selection=[lake_key(t.name) for t in tables],
        default_status=default_status(tables, live),
        description="Replicates each day of the daily sources once the source has it, and "
        "a recent day again when its rows changed (refresh_days).",
    )
    def _new_days(
        context: dg.SensorEvaluationContext, production: SourceDatabaseResource, lake: LakeResource
    ) -> dg.SensorResult | dg.SkipReason:
        source, store = production.database(), lake.store()
        today = dt.datetime.now(dt.UTC).date()
        requests: list[dg.RunRequest] = []
        for table in tables:
            try:
                requests += table_requests(
                    context.instance, source, table, today, context.log, store=store
                )
            except SourceUnavailableError as exc:
                context.log.warning(f"{table.name}: skipped this tick, retried next tick. {exc}")
            except Exception as exc:  # one table's failing read must not stop the others
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                context.log.warning(
                    f"{table.name}: skipped this tick, retried next tick: reading the source "
                    f"failed ({reason}); check the table or query of `sources.{table.name}`."
                )
        if not requests:
            return dg.SkipReason("every daily source is replicated up to its newest day")
        return dg.SensorResult(run_requests=requests)

    return _new_days


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project(load_settings())
    tables = lake_tables(project)
    daily = [t for t in tables.values() if t.partitioned and t.first_day is not None]
    live = project.config.live
    return dg.Definitions(sensors=[new_days_sensor(daily, live)] if daily else [])
