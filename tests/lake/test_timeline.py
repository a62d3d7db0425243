"""The new-days sensor's decision as a plain function: what the source has and what
Dagster recorded in, runs to request and warnings out."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pytest

from clearlake.lake.records import RecordedDay, SensorRuns
from clearlake.lake.replicate import DayContent
from clearlake.lake.tables import LakeTable
from clearlake.lake.timeline import plan_table, refresh_window

TODAY = dt.date(2030, 6, 10)
FIRST = dt.date(2030, 6, 1)


def day(n: int) -> dt.date:
    return FIRST + dt.timedelta(days=n)


def table(*, last_day: dt.date | None = None, refresh_days: int = 0) -> LakeTable:
    schema = pa.schema([("k", pa.int64()), ("d", pa.date32())])
    return LakeTable(
        "t",
        schema,
        "",
        ("k",),
        partition_column="d",
        first_day=FIRST,
        last_day=last_day,
        refresh_days=refresh_days,
    )


def runs(in_flight: set[dt.date] | None = None, failed: list[dt.date] | None = None) -> SensorRuns:
    return SensorRuns(in_flight or set(), Counter(failed or []))


def recorded(n: int, rows: int, content: str = "h", newest: int | None = None) -> RecordedDay:
    return RecordedDay(day(n), rows, content, day(newest if newest is not None else n))


@pytest.mark.parametrize(
    ("newest", "done", "last_day", "sensor", "expected"),
    [
        (day(2), set(), None, runs(), [[day(0), day(1), day(2)]]),  # a backlog: one run
        (day(2), {day(0), day(1)}, None, runs(), [[day(2)]]),
        (day(2), {day(0), day(1), day(2)}, None, runs(), []),
        (TODAY + dt.timedelta(days=3), {day(8)}, None, runs(), [[TODAY]]),  # never past today
        (day(5), set(), day(1), runs(), [[day(0), day(1)]]),  # never past a last day
        (None, set(), None, runs(), []),  # an empty source
        (day(3), {day(0)}, None, runs(in_flight={day(1), day(2)}), [[day(3)]]),  # in flight
        # a failed day older than the lake's newest is retried; an old gap is not ours
        (day(5), {day(0), day(2), day(3), day(4)}, None, runs(failed=[day(2)]), [[day(5)]]),
        (day(5), {day(0), day(3), day(4)}, None, runs(failed=[day(2)]), [[day(2)], [day(5)]]),
    ],
)
def test_new_days(
    newest: dt.date | None,
    done: set[dt.date],
    last_day: dt.date | None,
    sensor: SensorRuns,
    expected: list[list[dt.date]],
) -> None:
    plan = plan_table(
        table(last_day=last_day),
        source_newest=newest,
        today=TODAY,
        materialized=done,
        recorded={},
        runs=sensor,
        source={},
    )
    assert plan.new_days == expected
    assert plan.refresh == [] and plan.warnings == []


def test_refresh_compares_content_and_never_shrinks_the_lake() -> None:
    source = {
        day(3): DayContent(5, "new"),
        day(4): DayContent(2, "same"),
        day(5): DayContent(0, "x"),
    }
    lake = {3: recorded(3, 4, "old"), 4: recorded(4, 2, "same"), 5: recorded(5, 3, "y")}
    plan = plan_table(
        table(refresh_days=3),
        source_newest=day(5),
        today=TODAY,
        materialized={day(n) for n in range(6)},
        recorded={day(n): r for n, r in lake.items()},
        runs=runs(),
        source=source,
    )
    assert plan.new_days == []
    assert plan.refresh == [(day(3), DayContent(5, "new"))]
    assert plan.warnings == [
        f"t {day(5)}: the source lost rows (lake 3 rows, source 0 rows): the lake is not "
        f"shrunk; to accept it run `clearlake lake replicate t --start {day(5)} --end {day(5)}`."
    ]


def test_a_newest_day_going_back_warns_and_requests_nothing() -> None:
    plan = plan_table(
        table(),
        source_newest=day(2),
        today=TODAY,
        materialized={day(n) for n in range(5)},
        recorded={day(n): recorded(n, 3) for n in (2, 3, 4)},
        runs=runs(),
        source={},
    )
    assert plan.new_days == [] and plan.refresh == []
    assert plan.warnings == [
        f"t: the source's newest day went back to {day(2)} but the lake has "
        f"{day(3)}..{day(4)}: nothing deleted; replicate those days explicitly once the "
        "source is settled."
    ]


def test_refresh_window_stays_within_the_table() -> None:
    assert refresh_window(table(refresh_days=3), day(1)) == [day(0), day(1)]
    assert refresh_window(table(refresh_days=0), day(5)) == []
    assert refresh_window(table(refresh_days=2), None) == []
