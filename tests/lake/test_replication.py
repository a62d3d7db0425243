"""Replication through real Dagster runs, from real SQLite and PostgreSQL sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest
from flights_example.sample_db import build_sample_db
from replication_harness import Replicator

from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import get_table

JAN_1, JAN_3 = dt.date(2013, 1, 1), dt.date(2013, 1, 3)
ROWS_JAN_1_TO_3 = 842 + 943 + 914

ReplicatorFactory = Callable[[str], Replicator]


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, sample_db: str, postgres_db: str) -> str:
    if request.param == "sqlite":
        return sample_db
    build_sample_db(postgres_db, tables=["flights", "planes"])
    return postgres_db


def test_replicates_days_with_metadata_and_checks(
    replicator_factory: ReplicatorFactory, source_url: str
) -> None:
    replicator = replicator_factory(source_url)
    result = replicator.run("flights", JAN_1, JAN_3)
    assert result.success
    materialization = replicator.last_materialization("flights")
    metadata = materialization.metadata
    assert metadata["partitions_written"].value == 3
    assert metadata["partition_range"].value == "2013-01-01..2013-01-03"
    assert metadata["range_row_count"].value == ROWS_JAN_1_TO_3
    assert metadata["schema_drift"].value == "none"
    assert materialization.tags is not None
    assert metadata["provenance/code_version"].value == materialization.tags["dagster/code_version"]
    assert "provenance/environment_lock_hash" in metadata and "source_query_time" in metadata
    store = LakeStore(replicator.resources["lake"].url)
    for day, rows in [("2013-01-01", 842), ("2013-01-02", 943), ("2013-01-03", 914)]:
        facts = replicator.materialization("flights", day).metadata  # each day its own
        path = facts["path"].value
        assert isinstance(path, str) and path.endswith(f"date={day}/data.parquet")
        data = pq.read_table(path)
        assert data.schema.equals(get_table("flights").schema)
        assert facts["dagster/row_count"].value == data.num_rows == rows
        assert {d.isoformat() for d in data["flight_date"].to_pylist()} == {day}
        assert facts["bytes"].value == Path(path).stat().st_size
        assert facts["content_hash"].value == store.file_hash(path)[:16]
    checks = replicator.checks(result)
    assert {name: c.passed for name, c in checks.items()} == {
        "schema_matches_declared": True,
        "key_columns_not_null": True,
        "row_count_vs_trailing_days": True,
    }
    assert replicator.run("planes").success
    assert replicator.last_materialization("planes").metadata["dagster/row_count"].value == 3322


def test_same_data_version_from_sqlite_and_postgres(
    replicator_factory: ReplicatorFactory, sample_db: str, postgres_db: str
) -> None:
    build_sample_db(postgres_db, tables=["flights"])
    versions = []
    for url in (sample_db, postgres_db):
        replicator = replicator_factory(url)
        assert replicator.run("flights", JAN_3).success
        versions.append(replicator.data_version("flights"))
    assert versions[0] == versions[1]


def test_rerun_is_idempotent_and_source_change_changes_version(
    replicator_factory: ReplicatorFactory, postgres_db: str
) -> None:
    build_sample_db(postgres_db, tables=["flights"])
    replicator = replicator_factory(postgres_db)
    assert replicator.run("flights", JAN_1).success
    first = replicator.data_version("flights")
    assert replicator.run("flights", JAN_1).success
    assert replicator.data_version("flights") == first
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE flights SET dep_delay = dep_delay + 1 WHERE flight_date = '2013-01-01' "
            "AND carrier = 'UA'"
        )
    assert replicator.run("flights", JAN_1).success
    assert replicator.data_version("flights") != first


def test_schema_drift_fails_blocking_check_and_keeps_raw_data(
    replicator_factory: ReplicatorFactory, postgres_db: str
) -> None:
    build_sample_db(postgres_db, tables=["flights"])
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE flights ADD COLUMN gate TEXT DEFAULT 'B12'")
        conn.execute("ALTER TABLE flights ALTER COLUMN dep_delay TYPE TEXT")
    replicator = replicator_factory(postgres_db)
    result = replicator.run("flights", JAN_1)
    assert not result.success  # the blocking check stops everything downstream
    check = replicator.checks(result)["schema_matches_declared"]
    assert not check.passed
    assert check.description is not None
    assert "flights[2013-01-01]" in check.description
    assert "new column 'gate'" in check.description
    assert "column 'dep_delay' is string, declared double" in check.description
    path = replicator.last_materialization("flights").metadata["path"].value
    assert isinstance(path, str)
    raw = pq.read_table(Path(path))
    assert "gate" in raw.column_names and raw.schema.field("dep_delay").type == "string"
    assert raw.num_rows == 842


def test_unreachable_source_fails_with_clear_message(
    replicator_factory: ReplicatorFactory,
) -> None:
    replicator = replicator_factory("postgresql://nobody@127.0.0.1:1/none")
    result = replicator.run("planes")
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None and error.cause is not None
    assert (
        "Cannot read the source database at postgresql://nobody@127.0.0.1:1/none"
        in error.cause.message
    )


def test_parallel_readers_share_one_snapshot_and_give_the_same_data(
    tmp_path: Path, postgres_db: str
) -> None:
    """Two connections read one exported snapshot: a write committed mid-copy is unseen."""
    build_sample_db(postgres_db, tables=["flights"])
    source = SourceDatabase(postgres_db)
    table = get_table("flights")
    days = [JAN_1 + dt.timedelta(days=i) for i in range(40)]
    serial = replicate(source, LakeStore(str(tmp_path / "a")), table, days, readers=1)

    seen_writes = []

    def write_midway(done: int, total: int) -> None:
        if done == 1:  # the copy is under way: production changes a late day
            with psycopg.connect(postgres_db, autocommit=True) as conn:
                conn.execute("DELETE FROM flights WHERE flight_date = '2013-02-09'")
            seen_writes.append(done)

    parallel = replicate(
        source, LakeStore(str(tmp_path / "b")), table, days, write_midway, readers=2
    )
    assert seen_writes == [1]
    assert [r.data_version for r in parallel] == [r.data_version for r in serial]
    assert parallel[-1].written.row_count > 0  # 2013-02-09 as of the snapshot
