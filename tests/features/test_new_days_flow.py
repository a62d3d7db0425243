"""New lake days flow into the feature table by Dagster's declarative automation.

A real instance, real replication runs from a PostgreSQL source that grows one day at a
time, and ``dg.evaluate_automation_conditions`` as the daemon's sensor tick; whatever a
tick requests is then run for real, as the daemon would launch it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from live_project import add_day, create_source, day, definitions, write_project

from clearlake.evaluation.suites import load_suite
from clearlake.lake.store import LakeStore
from clearlake.names import NEW_DAYS_SENSOR, feature_key, lake_key

ORDERS, ZONES, FEATURES = lake_key("orders"), lake_key("zones"), feature_key("order_features")


class Daemon:
    """The automation sensor's ticks, with the cursor kept between them."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance = defs, instance
        self.cursor: Any = None

    def tick(self) -> dict[str, list[str]]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, cursor=self.cursor
        )
        self.cursor = result.cursor
        keys = self.defs.resolve_asset_graph().get_all_asset_keys()
        return {
            key.to_user_string(): sorted(str(p) for p in result.get_requested_partitions(key))
            for key in keys
            if result.get_num_requested(key)
        }

    def run(self, requested: dict[str, list[str]]) -> None:
        for key, partitions in requested.items():
            for partition in partitions:
                materialise(self.defs, self.instance, dg.AssetKey.from_user_string(key), partition)


def materialise(
    defs: dg.Definitions, instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> None:
    result = dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        selection=[key],
        partition_key=partition,
        instance=instance,
        resources=defs.resources,
    )
    assert result.success


def replicate(
    defs: dg.Definitions, instance: dg.DagsterInstance, *days: int, table: dg.AssetKey = ORDERS
) -> None:
    """Days of ``orders`` into the lake, or (no days) the ``zones`` snapshot."""
    partitions: list[str | None] = [day(n).isoformat() for n in days]
    for partition in partitions or [None]:
        materialise(defs, instance, table, partition)


@pytest.fixture
def live(
    tmp_path: Path, postgres_db: str
) -> tuple[dg.Definitions, dg.DagsterInstance, LakeStore, str]:
    create_source(postgres_db)
    project = write_project(tmp_path / "project")
    lake = LakeStore(str(tmp_path / "lake"))
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    return definitions(project, lake, postgres_db), instance, lake, postgres_db


def test_days_arriving_one_by_one_flow_into_features_once_each(
    live: tuple[dg.Definitions, dg.DagsterInstance, LakeStore, str],
) -> None:
    defs, instance, lake, source = live
    daemon = Daemon(defs, instance)
    sensor = defs.resolve_sensor_def(NEW_DAYS_SENSOR)
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    # Two days in the lake, but the snapshot the SQL joins is missing: nothing runs.
    add_day(source, day(0))
    add_day(source, day(1))
    replicate(defs, instance, 0, 1)
    assert daemon.tick() == {}

    # The snapshot arrives: exactly the two days whose inputs all exist.
    replicate(defs, instance, table=ZONES)
    first = daemon.tick()
    assert first == {"features/order_features": [day(0).isoformat(), day(1).isoformat()]}
    daemon.run(first)
    assert lake.list_partitions("features/order_features") == [str(day(0)), str(day(1))]
    assert daemon.tick() == {}

    # A new day: that day only, never the older ones.
    add_day(source, day(2))
    replicate(defs, instance, 2)
    second = daemon.tick()
    assert second == {"features/order_features": [day(2).isoformat()]}
    daemon.run(second)
    assert daemon.tick() == {}

    # The same day replicated again with the same content: the same data version, no run.
    replicate(defs, instance, 1)
    assert daemon.tick() == {}

    # Production corrects day 1: a new data version, that day again.
    with psycopg.connect(source) as conn:
        conn.execute("update orders set amount = amount + 1 where ordered_on = %s", (day(1),))
    replicate(defs, instance, 1)
    assert daemon.tick() == {"features/order_features": [day(1).isoformat()]}


def test_nothing_runs_while_an_input_is_written_and_a_backlog_is_one_tick(
    live: tuple[dg.Definitions, dg.DagsterInstance, LakeStore, str],
) -> None:
    defs, instance, lake, source = live
    daemon = Daemon(defs, instance)
    add_day(source, day(0))
    replicate(defs, instance, table=ZONES)
    replicate(defs, instance, 0)
    daemon.run(daemon.tick())
    assert lake.list_partitions("features/order_features") == [str(day(0))]

    # Day 1 is in the lake while the snapshot is being re-replicated (held by a lock on
    # the source table): the day waits for it.
    add_day(source, day(1))
    replicate(defs, instance, 1)
    with psycopg.connect(source) as conn:
        conn.execute("update zones set zone = 'north-east' where zone_id = 1")
    lock = psycopg.connect(source)
    lock.execute("lock table zones in access exclusive mode")
    writer = threading.Thread(target=replicate, args=(defs, instance), kwargs={"table": ZONES})
    writer.start()
    try:
        deadline = time.monotonic() + 20
        while not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            assert time.monotonic() < deadline, "the snapshot's run never started"
            time.sleep(0.1)
        time.sleep(0.5)  # its step has started: the materialisation is planned
        assert daemon.tick() == {}
    finally:
        lock.rollback()
        lock.close()
        writer.join()

    # The snapshot changed; only the new day runs (old days are not re-run for a snapshot).
    assert daemon.tick() == {"features/order_features": [day(1).isoformat()]}
    daemon.run({"features/order_features": [day(1).isoformat()]})

    # A backlog of three days replicated in one ranged run: all three, in one tick.
    for n in (2, 3, 4):
        add_day(source, day(n))
    result = dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        selection=[ORDERS],
        instance=instance,
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": day(2).isoformat(),
            "dagster/asset_partition_range_end": day(4).isoformat(),
        },
    )
    assert result.success
    backlog = daemon.tick()
    assert backlog == {"features/order_features": [str(day(n)) for n in (2, 3, 4)]}
    daemon.run(backlog)
    assert lake.list_partitions("features/order_features") == [str(day(n)) for n in range(5)]
    assert daemon.tick() == {}


def test_a_rolling_suite_follows_each_new_feature_day(tmp_path: Path, postgres_db: str) -> None:
    create_source(postgres_db)
    project = write_project(tmp_path / "project", with_task=True, rolling=True)
    lake = LakeStore(str(tmp_path / "lake"))
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    defs = definitions(project, lake, postgres_db)
    daemon = Daemon(defs, instance)
    recent = "evaluation/returns/suites/recent"
    spec = defs.resolve_assets_def(dg.AssetKey.from_user_string(recent)).specs_by_key
    assert spec[dg.AssetKey.from_user_string(recent)].tags["flow"] == "new-days"

    replicate(defs, instance, table=ZONES)
    for n in range(4):
        add_day(postgres_db, day(n))
    replicate(defs, instance, 0, 1, 2, 3)
    assert daemon.tick() == {"features/order_features": [str(day(n)) for n in range(4)]}
    daemon.run({"features/order_features": [str(day(n)) for n in range(4)]})
    # Partition D holds days D-3..D-1 (3 days, labels known a day later): D = day 3, day 4.
    assert daemon.tick() == {recent: [str(day(3)), str(day(4))]}
    daemon.run({recent: [str(day(3)), str(day(4))]})
    assert daemon.tick() == {}
    stored = lake.read_table(lake.partition_file(recent, f"date={day(4)}"))
    assert sorted(set(stored.column("order_day").to_pylist())) == [day(1), day(2), day(3)]
    assert load_suite(
        lake,
        task_name="returns",
        task=project.task("returns"),
        dataset=project.feature("order_features"),
        suite_name="recent",
    ).equals(stored)

    # A new day: its feature partition, then the one rolling partition that ends on it.
    add_day(postgres_db, day(4))
    replicate(defs, instance, 4)
    assert daemon.tick() == {"features/order_features": [str(day(4))]}
    daemon.run({"features/order_features": [str(day(4))]})
    assert daemon.tick() == {recent: [str(day(5))]}
    daemon.run({recent: [str(day(5))]})
    assert daemon.tick() == {}
    assert lake.list_partitions(recent) == [str(day(n)) for n in (3, 4, 5)]
