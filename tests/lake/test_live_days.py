"""A live PostgreSQL source that grows day by day, followed by the new-days sensor.

Days arrive by INSERTs inside the test; the sensor is evaluated on a real instance and
its requests run as real Dagster runs, deduplicated by run key as the daemon does. In
between: an empty day, late rows, a failed run (source unreachable), restarts with a lost
cursor, a deleted day, a source whose newest day goes back. At the end: no day lost, none
replicated twice (beyond the intended re-replications), nothing past the source's newest.
"""

from __future__ import annotations

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
from clearlake.lake.records import lake_newest_day, missing_days
from clearlake.lake.replicate import replicate, source_content
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, get_table, lake_tables
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.orchestration.runs import failure_message
from clearlake.project.load import load_project

TODAY = dt.datetime.now(dt.UTC).date()
D = [TODAY - dt.timedelta(days=5 - i) for i in range(6)]  # D[5] is today
UNREACHABLE = "postgresql://clearlake@127.0.0.1:1/nowhere"


def insert(url: str, day: dt.date, count: int, *, first_id: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (order_id BIGINT PRIMARY KEY, "
            "ordered_on DATE NOT NULL, amount DOUBLE PRECISION)"
        )
        rows = [(first_id + i, day, 10.0 + i) for i in range(count)]
        conn.cursor().executemany("INSERT INTO orders VALUES (%s, %s, %s)", rows)


def delete_day(url: str, day: dt.date) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM orders WHERE ordered_on = %s", (day,))


def project_tables(folder: Path, *, refresh_days: int) -> dict[str, LakeTable]:
    config: dict[str, Any] = {
        "project": {"name": "shop"},
        "sources": {
            "orders": {
                "partition": {
                    "column": "ordered_on",
                    "first_day": D[0].isoformat(),
                    "refresh_days": refresh_days,
                },
                "keys": ["order_id"],
                "columns": {
                    "order_id": "int64 not null",
                    "ordered_on": "date32 not null",
                    "amount": "float64",
                },
            }
        },
    }
    folder.mkdir(parents=True)
    (folder / "clearlake.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return lake_tables(load_project(folder))


class Warnings(logging.Handler):
    """The sensor's warnings (its logger is its own, outside the logging hierarchy)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def clear(self) -> None:
        self.lines.clear()


class Live:
    """A real instance, the sensor, and a daemon-like launcher (one run per run key)."""

    def __init__(self, root: Path, source_url: str, tables: dict[str, LakeTable]) -> None:
        self.store = LakeStore(str(root / "lake"))
        (root / "dagster").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "dagster"))
        self.tables = tables
        self.source_url = source_url
        self.key = dg.AssetKey(["lake", "orders"])
        self.log = Warnings()

    def resources(self, url: str | None = None) -> dict[str, Any]:
        return {
            "lake": LakeResource(url=self.store.url),
            "production": SourceDatabaseResource(url=url or self.source_url),
        }

    def tick(self, *, url: str | None = None, cursor: str | None = None) -> list[dg.RunRequest]:
        """A fresh sensor object every time: each tick is a restart, cursor or not."""
        sensor = new_days_sensor(list(self.tables.values()))
        context = dg.build_sensor_context(
            instance=self.instance, cursor=cursor, resources=self.resources(url)
        )
        context.log.addHandler(self.log)
        result = sensor(context)
        if isinstance(result, dg.SkipReason):
            return []
        assert isinstance(result, dg.SensorResult) and result.run_requests is not None
        return list(result.run_requests)

    def launch(self, requests: list[dg.RunRequest], *, url: str | None = None) -> list[bool]:
        """Run each request whose run key was never used (the daemon's rule)."""
        outcomes = []
        for request in requests:
            assert request.run_key is not None
            used = self.instance.get_run_records(
                dg.RunsFilter(tags={"dagster/run_key": request.run_key})
            )
            if used:
                continue
            result = dg.materialize(
                [replication_asset(self.tables["orders"])],
                resources=self.resources(url),
                instance=self.instance,
                partition_key=request.partition_key,
                tags={**request.tags, "dagster/run_key": request.run_key},
                raise_on_error=False,
            )
            outcomes.append(result.success)
        return outcomes

    def materialisations(self) -> dict[str, int]:
        records = self.instance.fetch_materializations(self.key, limit=1000).records
        counts: dict[str, int] = {}
        for record in records:
            event = record.event_log_entry.asset_materialization
            assert event is not None and event.partition is not None
            counts[event.partition] = counts.get(event.partition, 0) + 1
        return dict(sorted(counts.items()))

    def metadata(self, day: dt.date) -> dict[str, Any]:
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(self.key, asset_partitions=[day.isoformat()]), limit=1
        ).records
        event = records[0].event_log_entry.asset_materialization
        assert event is not None
        return {k: v.value for k, v in event.metadata.items()}

    def rows(self, day: dt.date) -> int:
        return pq.read_table(self.store.partition_file("orders", f"date={day}")).num_rows


def keys(requests: list[dg.RunRequest]) -> list[str | None]:
    return [r.run_key for r in requests]


def test_a_growing_source_flows_into_the_lake(tmp_path: Path, postgres_db: str) -> None:
    tables = project_tables(tmp_path / "project", refresh_days=2)
    live = Live(tmp_path, postgres_db, tables)
    caplog = live.log
    insert(postgres_db, D[0], 3, first_id=100)
    insert(postgres_db, D[1], 2, first_id=200)

    first = live.tick()  # the backlog: one ranged run
    assert keys(first) == [f"orders/{D[0]}..{D[1]}/try1"]
    assert keys(live.tick(cursor=None)) == keys(first)  # restart before it ran: same key
    assert live.launch(first + live.tick()) == [True]  # the daemon runs one of the two
    assert live.tick() == [] and live.tick(cursor='{"orders": "lost"}') == []
    assert live.store.list_partitions("orders") == [d.isoformat() for d in D[:2]]

    # D2 passes without rows; D3 arrives. D2 is published empty, recorded as such.
    insert(postgres_db, D[3], 3, first_id=300)
    second = live.tick()
    assert keys(second) == [f"orders/{D[2]}..{D[3]}/try1"]
    assert live.launch(second) == [True]
    empty = live.metadata(D[2])
    assert (empty["empty"], empty["dagster/row_count"]) == (True, 0)
    assert empty["source_newest_day"] == D[3].isoformat()
    assert live.metadata(D[3])["empty"] is False
    hash_before = live.metadata(D[3])["content_hash"]
    assert live.tick() == []  # the refresh window (D2, D3) re-read: unchanged

    # Late rows for D3 (inside refresh_days): replicated again, once.
    insert(postgres_db, D[3], 1, first_id=399)
    late = live.tick()
    (late_request,) = late
    assert late_request.partition_key == D[3].isoformat()
    assert late_request.run_key is not None and late_request.run_key.startswith(
        f"orders/{D[3]}/content-"
    )
    assert live.launch(late) == [True]
    assert live.metadata(D[3])["content_hash"] != hash_before
    assert live.rows(D[3]) == 4
    assert live.tick() == []

    # D4 arrives while the source goes down: the sensor logs and goes on; the run fails.
    insert(postgres_db, D[4], 2, first_id=400)
    assert live.tick(url=UNREACHABLE) == []
    assert "orders: skipped this tick, retried next tick. Cannot read the source" in caplog.text
    fourth = live.tick()
    assert keys(fourth) == [f"orders/{D[4]}/try1"]
    assert live.launch(fourth, url=UNREACHABLE) == [False]
    retry = live.tick(cursor=None)  # a later tick, after a restart: a new run key
    assert keys(retry) == [f"orders/{D[4]}/try2"]
    assert live.launch(retry) == [True]
    assert live.tick() == []

    # D3 deleted at the source: reported with counts, the lake keeps its rows.
    caplog.clear()
    delete_day(postgres_db, D[3])
    assert live.tick() == []
    assert (
        f"orders {D[3]}: the source lost rows (lake 4 rows, source 0 rows): the lake is not "
        f"shrunk; to accept it run `clearlake lake replicate orders --start {D[3]} --end {D[3]}`"
    ) in caplog.text
    assert live.rows(D[3]) == 4

    # The newest day goes back (D4 deleted too): a warning, nothing deleted.
    caplog.clear()
    delete_day(postgres_db, D[4])
    assert live.tick() == []
    assert (
        f"orders: the source's newest day went back to {D[1]} but the lake has "
        f"{D[2]}..{D[4]}: nothing deleted"
    ) in caplog.text
    assert live.rows(D[4]) == 2

    assert live.materialisations() == {
        D[0].isoformat(): 1,
        D[1].isoformat(): 1,
        D[2].isoformat(): 1,
        D[3].isoformat(): 2,  # first copy, then its late rows
        D[4].isoformat(): 1,
    }
    assert missing_days(live.instance, tables["orders"], through=D[4]) == []
    assert max(live.store.list_partitions("orders")) == D[4].isoformat()


def test_accepting_lost_rows_records_them(tmp_path: Path, postgres_db: str) -> None:
    tables = project_tables(tmp_path / "project", refresh_days=1)
    live = Live(tmp_path, postgres_db, tables)
    insert(postgres_db, D[0], 3, first_id=100)
    insert(postgres_db, D[1], 1, first_id=200)
    assert live.launch(live.tick()) == [True]
    delete_day(postgres_db, D[0])
    insert(postgres_db, D[0], 1, first_id=150)
    accepted = dg.RunRequest(run_key="by-hand", partition_key=D[0].isoformat())
    assert live.launch([accepted]) == [True]
    recorded = live.metadata(D[0])
    assert (recorded["rows_lost"], recorded["dagster/row_count"]) == (2, 1)
    assert "rows_lost" not in live.metadata(D[1])


def test_a_day_after_the_sources_newest_is_refused(tmp_path: Path, postgres_db: str) -> None:
    tables = project_tables(tmp_path / "project", refresh_days=0)
    live = Live(tmp_path, postgres_db, tables)
    insert(postgres_db, D[0], 2, first_id=1)
    result = dg.materialize(
        [replication_asset(tables["orders"])],
        resources=live.resources(),
        instance=live.instance,
        partition_key=D[1].isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    assert failure_message(result) == (
        f"orders: the source has not reached {D[1]} (its newest day is {D[0]}); nothing was "
        f"written: wait for the day or replicate up to {D[0]}."
    )
    assert live.store.list_partitions("orders") == []
    assert live.materialisations() == {}


def test_empty_days_written_ahead_of_the_source_do_not_hide_its_new_days(
    tmp_path: Path, postgres_db: str
) -> None:
    """Issue 17: a lake filled by the old `lake replicate` holds empty partitions up to
    today, recorded without the source's newest day. When the source reaches one of
    them, the sensor still replicates it."""
    tables = project_tables(tmp_path / "project", refresh_days=0)
    live = Live(tmp_path, postgres_db, tables)
    insert(postgres_db, D[0], 3, first_id=1)
    assert live.launch(live.tick()) == [True]
    for day in D[1:]:  # what the old command recorded for days past the source
        live.instance.report_runless_asset_event(
            dg.AssetMaterialization(
                live.key,
                partition=day.isoformat(),
                metadata={"dagster/row_count": 0, "content_hash": "e3b0c44298fc1c14"},
            )
        )
    assert live.tick() == [] and live.log.lines == []  # not "the source went back"
    assert lake_newest_day(live.instance, tables["orders"], source_newest=D[0]) == D[0]

    insert(postgres_db, D[1], 5, first_id=100)
    (request,) = live.tick()
    assert request.partition_key == D[1].isoformat()
    assert live.launch([request]) == [True]
    assert live.metadata(D[1])["dagster/row_count"] == 5
    assert live.tick() == []


def test_the_source_fingerprint_of_a_day_is_the_hash_the_lake_recorded(
    tmp_path: Path, sample_db: str
) -> None:
    """SQLite (text dates, its own driver's types) gives the same fingerprints as the
    files written from it: a re-read of unchanged days requests nothing."""
    table = get_table("flights")
    days = [dt.date(2013, 1, 1) + dt.timedelta(days=i) for i in range(3)]
    written = replicate(SourceDatabase(sample_db), LakeStore(str(tmp_path)), table, days)
    newest, content = source_content(SourceDatabase(sample_db), table, trailing=3, through=days[-1])
    assert newest == dt.date(2013, 12, 31)
    assert {d: (c.rows, c.content_hash) for d, c in content.items()} == {
        d: (w.written.row_count, w.written.content_hash[:16])
        for d, w in zip(days, written, strict=True)
    }


def test_a_pending_run_holds_its_days_until_it_ends(tmp_path: Path, postgres_db: str) -> None:
    """A run created for a request but not started yet keeps its day out of later ticks,
    even after a restart; once it fails, the day is requested again under a new key."""
    tables = project_tables(tmp_path / "project", refresh_days=1)
    live = Live(tmp_path, postgres_db, tables)
    insert(postgres_db, D[0], 2, first_id=1)
    (request,) = live.tick()
    job = dg.Definitions(
        assets=[replication_asset(tables["orders"])], resources=live.resources()
    ).resolve_implicit_global_asset_job_def()
    pending = live.instance.create_run_for_job(
        job,
        status=dg.DagsterRunStatus.NOT_STARTED,
        tags={**request.tags, "dagster/run_key": str(request.run_key)},
    )
    assert live.tick() == []  # in flight: neither a new day nor a refresh
    live.instance.report_run_failed(pending, message="the run worker was evicted")
    assert keys(live.tick()) == [f"orders/{D[0]}/try2"]
