"""One new day does the same work in a long lake as in a short one.

Two lakes of the same table are synthesised (a month, and ``LONG_DAYS``) with the files and
Dagster records replication writes; then days arrive one by one from a real SQLite source,
each replicated by the real asset (its schema, key-null and row-count checks included),
followed by the freshness check's lookup and the lake_health computations for the day.
The files opened, listings made and records read are counted through the store's
filesystem and the instance: the counts must be equal for both lakes, day after day.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import dagster as dg
import pytest

from assets.lake.new_days import table_requests
from assets.lake.replication import replication_asset
from clearlake.lake import checks, records
from clearlake.lake.source import SourceDatabase
from clearlake.lake.tables import LakeTable
from clearlake.orchestration.resources import SourceDatabaseResource
from clearlake.reports import lake_health as lh
from clearlake.testing import history, work

FIRST = dt.date(2019, 1, 1)
SHORT_DAYS, LONG_DAYS = 30, 400
"""The benchmark (benchmarks/history_scale.py) measures 30 vs 1,826 days; 400 keep the test
within its CI budget and far past any window a step may legitimately read (8 days)."""
ROWS = 40


def new_day_work(tmp: Path, lake_days: int) -> list[dict[str, object]]:
    tmp.mkdir()
    table = history.events_table(FIRST)
    url = str(tmp / "lake")
    (tmp / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp / "dagster"))
    old = history.days_from(FIRST, lake_days)
    history.synthesise_lake_days(instance, work.counting_store(url), table, old, rows=ROWS)
    new = [old[-1] + dt.timedelta(days=1), old[-1] + dt.timedelta(days=2)]
    asset = replication_asset(table)
    observed: list[dict[str, object]] = []
    for day, rows in zip(new, (ROWS, 5), strict=True):  # the second day lost most rows
        source = history.source_database(tmp / "source.sqlite", table, [day], rows=rows)
        ticks = [sensor_tick(instance, source, table, day, url)]  # the day is new
        before = Counter(work.file_work(url))
        result = dg.materialize(
            [asset],
            partition_key=day.isoformat(),
            instance=instance,
            resources={
                "lake": work.CountingLakeResource(url=url),
                "production": SourceDatabaseResource(url=source),
            },
        )
        assert result.success
        checked = {e.check_name: e for e in result.get_asset_check_evaluations()}
        counted = CountingInstance(instance)
        newest = records.lake_newest_day(counted.as_instance(), table, source_newest=day)
        freshness = checks.lag_finding(table, newest, day)
        store = work.counting_store(url)
        volume = lh.volume([table.name], day.isoformat(), 7, store)
        nulls = lh.null_rates(table.name, day.isoformat(), 7, store)
        fresh = lh.freshness([table.name], day.isoformat(), store)
        files = Counter(work.file_work(url))
        files.subtract(before)
        ticks.append(sensor_tick(instance, source, table, day, url))  # replicated: nothing
        observed.append(
            {
                "ticks": ticks,
                "files": dict(files),
                "records": dict(counted.counts),
                "checks": {name: e.passed for name, e in sorted(checked.items())},
                "row_count": checked["row_count_vs_trailing_days"].description,
                "freshness": freshness.description,
                "volume": volume.to_dict("records"),
                "nulls": int(nulls["null_rate"].gt(0).sum()),
                "newest_in_lake": fresh["newest_day_in_lake"].tolist(),
            }
        )
    return observed


def sensor_tick(
    instance: dg.DagsterInstance, source: str, table: LakeTable, day: dt.date, url: str
) -> dict[str, object]:
    """The new-days sensor's decision for ``table`` on ``day``, and the work it did."""
    counted = CountingInstance(instance)
    before = Counter(work.file_work(url))
    requests = table_requests(
        counted.as_instance(),
        SourceDatabase(source),
        table,
        day,
        logging.getLogger("test"),
        store=work.counting_store(url),
    )
    files = Counter(work.file_work(url))
    files.subtract(before)
    return {
        "requested": [r.partition_key for r in requests],
        "files": {k: v for k, v in files.items() if v},
        "records": dict(counted.counts),
    }


class CountingInstance(work.CountingInstance):
    def as_instance(self) -> dg.DagsterInstance:
        return cast(dg.DagsterInstance, self)


@pytest.fixture(scope="module")
def short_and_long() -> Iterator[list[list[dict[str, object]]]]:
    # In memory where the machine has it: SQLite's fsync per recorded day, not the
    # platform, would otherwise dominate (40 s vs 12 s for 400 days on a loaded machine).
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=memory) as folder:
        yield [new_day_work(Path(folder) / f"lake{n}", n) for n in (SHORT_DAYS, LONG_DAYS)]


def test_new_days_cost_the_same_work_in_a_long_lake(
    short_and_long: list[list[dict[str, object]]],
) -> None:
    short, long = short_and_long
    for day_short, day_long in zip(short, long, strict=True):
        assert day_short["files"] == day_long["files"]
        assert day_short["records"] == day_long["records"]
        for tick_short, tick_long in zip(  # the new-days sensor's work too
            cast(list[dict[str, object]], day_short["ticks"]),
            cast(list[dict[str, object]], day_long["ticks"]),
            strict=True,
        ):
            assert tick_short["files"] == tick_long["files"]
            assert tick_short["records"] == tick_long["records"]
    first = long[0]
    files = cast(dict[str, int], first["files"])
    assert files.get("listed", 0) == 0  # nothing lists a table's partitions
    assert files["open"] <= 30  # the new day, its manifest, the trailing week: bounded
    assert cast(dict[str, int], first["records"])["records"] <= 9  # latest + 8-day window


def test_the_checks_still_judge_the_new_days(
    short_and_long: list[list[dict[str, object]]],
) -> None:
    for lake_days, days in zip((SHORT_DAYS, LONG_DAYS), short_and_long, strict=True):
        normal, shrunk = days
        new = FIRST + dt.timedelta(days=lake_days)
        for each, day in ((normal, new), (shrunk, new + dt.timedelta(days=1))):
            before, after = cast(list[dict[str, object]], each["ticks"])
            assert before["requested"] == [day.isoformat()] and after["requested"] == []
            assert "partitions" not in cast(dict[str, int], before["records"])  # no full list
        assert normal["checks"] == {
            "key_columns_not_null": True,
            "row_count_vs_trailing_days": True,
            "schema_matches_declared": True,
        }
        assert normal["freshness"] == f"events: newest partition {new}, lag 0 day(s)"
        assert shrunk["checks"]["row_count_vs_trailing_days"] is False  # type: ignore[index]
        assert f"row count anomaly on {new + dt.timedelta(days=1)}: 5 rows vs median 40" in str(
            shrunk["row_count"]
        )
        volume = cast(list[dict[str, object]], shrunk["volume"])[0]
        assert (volume["rows"], volume["trailing_days"], volume["trailing_median"]) == (5, 7, 40)
        assert shrunk["newest_in_lake"] == [(new + dt.timedelta(days=1)).isoformat()]
