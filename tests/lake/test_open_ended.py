"""Daily sources on a real PostgreSQL database, declared only by configuration.

A source with rows for yesterday and today gets those partitions (no code, no year
anywhere); a day that appears later is requested by the new-days sensor, evaluated on a
real instance, exactly once. The longer sequences are in test_live_days.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pyarrow.parquet as pq
import yaml

from assets.lake.new_days import new_days_sensor
from assets.lake.replication import replication_asset
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.project.config import LiveConfig
from clearlake.project.load import Project, load_project

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
BEFORE = TODAY - dt.timedelta(days=2)


def midnight(day: dt.date, *, seconds: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=seconds)


def create_events(url: str, days: list[dt.date], *, first_id: int = 1) -> None:
    """Three events a day: just after midnight UTC, midday, and just before the next day."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS events (event_id BIGINT PRIMARY KEY, "
            "happened_at TIMESTAMPTZ NOT NULL, kind TEXT NOT NULL, amount DOUBLE PRECISION)"
        )
        rows = [
            (first_id + 3 * i + j, midnight(day, seconds=s), kind, amount)
            for i, day in enumerate(days)
            for j, (s, kind, amount) in enumerate(
                [(0, "open", 5.0), (43_200, "sale", 25.0), (86_399, "sale", 40.0)]
            )
        ]
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO events VALUES (%s, %s, %s, %s)", rows)


def write_project(folder: Path, first_day: dt.date) -> Project:
    columns = {
        "event_id": "int64 not null",
        "happened_at": "timestamp[us, tz=UTC] not null",
        "kind": "string not null",
        "amount": "float64",
    }
    config: dict[str, Any] = {
        "project": {"name": "shop"},
        "sources": {
            "events": {
                "partition": {"column": "happened_at", "first_day": first_day.isoformat()},
                "keys": ["event_id"],
                "columns": columns,
            },
            "sales": {
                "query": "SELECT event_id, happened_at, amount FROM events WHERE kind = 'sale'",
                "partition": {"column": "happened_at", "first_day": first_day.isoformat()},
                "keys": ["event_id"],
                "columns": {k: v for k, v in columns.items() if k != "kind"},
            },
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clearlake.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return load_project(folder)


class Lake:
    def __init__(self, root: Path, source_url: str, tables: dict[str, LakeTable]) -> None:
        self.store = LakeStore(str(root / "lake"))
        (root / "dagster").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "dagster"))
        self.tables = tables
        self.resources: dict[str, Any] = {
            "lake": LakeResource(url=self.store.url),
            "production": SourceDatabaseResource(url=source_url),
        }

    def run(self, request: dg.RunRequest) -> None:
        tags = dict(request.tags)
        assert request.asset_selection is not None
        (key,) = request.asset_selection
        result = dg.materialize(
            [replication_asset(self.tables[key.path[-1]])],
            resources=self.resources,
            instance=self.instance,
            partition_key=request.partition_key,
            tags=tags,
        )
        assert result.success

    def tick(
        self, cursor: str | None, *, warnings: list[str] | None = None
    ) -> dg.SensorResult | dg.SkipReason:
        sensor = new_days_sensor(list(self.tables.values()))
        context = dg.build_sensor_context(
            instance=self.instance, cursor=cursor, resources=self.resources
        )
        if warnings is not None:
            handler = logging.Handler(logging.WARNING)
            handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
            context.log.addHandler(handler)
        result = sensor(context)
        assert isinstance(result, dg.SensorResult | dg.SkipReason)
        return result


def test_yesterday_and_today_become_partitions_without_code(
    tmp_path: Path, postgres_db: str
) -> None:
    create_events(postgres_db, [YESTERDAY, TODAY])
    tables = lake_tables(write_project(tmp_path / "project", YESTERDAY))
    asset = replication_asset(tables["events"])
    assert asset.partitions_def is not None
    assert asset.partitions_def.get_partition_keys() == [YESTERDAY.isoformat(), TODAY.isoformat()]

    lake = Lake(tmp_path, postgres_db, tables)
    lake.run(
        dg.RunRequest(
            asset_selection=[dg.AssetKey(["lake", "events"])],
            tags={
                "dagster/asset_partition_range_start": YESTERDAY.isoformat(),
                "dagster/asset_partition_range_end": TODAY.isoformat(),
            },
        )
    )
    assert lake.store.list_partitions("events") == [YESTERDAY.isoformat(), TODAY.isoformat()]
    for day in (YESTERDAY, TODAY):  # a day is [00:00, next 00:00) UTC, both edges inside
        data = pq.read_table(lake.store.partition_file("events", f"date={day}"))
        assert data.schema.equals(tables["events"].schema)
        assert [t.date() for t in data["happened_at"].to_pylist()] == [day] * 3
        assert data["event_id"].to_pylist() == sorted(data["event_id"].to_pylist())


def test_a_query_source_replicates_its_result(tmp_path: Path, postgres_db: str) -> None:
    create_events(postgres_db, [YESTERDAY])
    tables = lake_tables(write_project(tmp_path / "project", YESTERDAY))
    lake = Lake(tmp_path, postgres_db, tables)
    lake.run(
        dg.RunRequest(
            asset_selection=[dg.AssetKey(["lake", "sales"])], partition_key=YESTERDAY.isoformat()
        )
    )
    data = pq.read_table(lake.store.partition_file("sales", f"date={YESTERDAY}"))
    assert data.column_names == ["event_id", "happened_at", "amount"]
    assert data["amount"].to_pylist() == [25.0, 40.0]  # only sales, in key order


def test_sensor_requests_each_new_day_once(tmp_path: Path, postgres_db: str) -> None:
    create_events(postgres_db, [BEFORE, YESTERDAY])
    tables = lake_tables(write_project(tmp_path / "project", BEFORE))
    lake = Lake(tmp_path, postgres_db, {"events": tables["events"]})

    first = lake.tick(None)  # a backlog: one ranged run
    assert isinstance(first, dg.SensorResult) and first.run_requests is not None
    (backlog,) = first.run_requests
    assert backlog.run_key == f"events/{BEFORE}..{YESTERDAY}/try1"
    assert backlog.tags["dagster/asset_partition_range_start"] == BEFORE.isoformat()
    assert backlog.tags["dagster/asset_partition_range_end"] == YESTERDAY.isoformat()
    lake.run(backlog)
    assert isinstance(lake.tick(None), dg.SkipReason)  # in the lake: not again

    create_events(postgres_db, [TODAY], first_id=100)  # production has a new day
    second = lake.tick(None)
    assert isinstance(second, dg.SensorResult) and second.run_requests is not None
    (today,) = second.run_requests
    assert (today.run_key, today.partition_key) == (f"events/{TODAY}/try1", TODAY.isoformat())
    lake.run(today)
    assert lake.store.list_partitions("events") == [
        d.isoformat() for d in (BEFORE, YESTERDAY, TODAY)
    ]
    assert isinstance(lake.tick(None), dg.SkipReason)


def test_a_dated_source_flows_and_a_failing_table_does_not_stop_the_others(
    tmp_path: Path, postgres_db: str
) -> None:
    """A declared last day (a sample released day by day) flows too; a table whose query
    fails is skipped for the tick, with one line naming it, while the others proceed."""
    create_events(postgres_db, [BEFORE])
    project = write_project(tmp_path / "project", BEFORE)
    dated = dataclasses.replace(lake_tables(project)["events"], last_day=YESTERDAY)
    broken = dataclasses.replace(dated, name="returns", source_table="returns_feed")
    lake = Lake(tmp_path, postgres_db, {"returns": broken, "events": dated})
    warnings: list[str] = []
    result = lake.tick(None, warnings=warnings)
    assert isinstance(result, dg.SensorResult) and result.run_requests is not None
    assert [r.run_key for r in result.run_requests] == [f"events/{BEFORE}/try1"]
    (line,) = warnings
    assert line.startswith("returns: skipped this tick, retried next tick: reading the source")
    assert line.endswith("check the table or query of `sources.returns`.")
    lake.run(result.run_requests[0])
    create_events(postgres_db, [YESTERDAY, TODAY], first_id=50)
    later = lake.tick(None)
    assert isinstance(later, dg.SensorResult) and later.run_requests is not None
    (request,) = later.run_requests  # up to the declared last day, not today
    assert request.partition_key == YESTERDAY.isoformat()


def test_the_sensor_runs_by_itself_only_for_a_growing_source(tmp_path: Path) -> None:
    tables = lake_tables(write_project(tmp_path / "project", BEFORE))
    dated = [dataclasses.replace(t, last_day=YESTERDAY) for t in tables.values()]
    assert new_days_sensor(list(tables.values())).default_status == dg.DefaultSensorStatus.RUNNING
    assert new_days_sensor(dated).default_status == dg.DefaultSensorStatus.STOPPED
    assert new_days_sensor([dated[0], tables["sales"]]).default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    # The project decides when it says so, and how often the source is asked.
    declared = new_days_sensor(dated, LiveConfig(new_days="running", poll_seconds=30))
    assert declared.default_status == dg.DefaultSensorStatus.RUNNING
    assert declared.minimum_interval_seconds == 30
    stopped = new_days_sensor(list(tables.values()), LiveConfig(new_days="stopped"))
    assert stopped.default_status == dg.DefaultSensorStatus.STOPPED
    assert stopped.minimum_interval_seconds == 900
