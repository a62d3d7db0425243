"""What Dagster recorded about a lake table's days: the one source of truth about the lake.

The new-days sensor, ``clearlake lake days`` and ``clearlake build`` read the lake's state
from the instance (materialisations and their metadata, runs and their tags), never from
the files: a file can exist without a materialisation (a crashed run) and the recorded
metadata says what a listing cannot (empty on purpose, how far the source was).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from clearlake.lake.tables import LakeTable
from clearlake.names import lake_key

TABLE_TAG = "clearlake/lake_table"
"""On runs the new-days sensor requests: the table they replicate."""
DAYS_TAG = "clearlake/lake_days"
"""On runs the new-days sensor requests: ``first..last`` (inclusive) of their days."""

# Metadata keys every published daily partition records (see assets/lake/replication.py).
ROW_COUNT = "dagster/row_count"
CONTENT_HASH = "content_hash"
EMPTY = "empty"
SOURCE_NEWEST_DAY = "source_newest_day"
ROWS_LOST = "rows_lost"

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.MANAGED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
FAILED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
RECENT_RUNS = 200
"""Runs of one table the sensor looks at: far more than a day's worth of ticks."""


@dataclass(frozen=True)
class RecordedDay:
    """A day's latest materialisation, as its metadata tells it."""

    day: dt.date
    rows: int
    content_hash: str | None
    source_newest: dt.date | None
    """``None`` for partitions published before Clearlake recorded it."""

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def ahead_of_source(self) -> bool:
        """Published empty for a day the source had not reached (before Clearlake refused
        such days): not a real day of the lake."""
        return self.empty and (self.source_newest is None or self.source_newest < self.day)


def materialized_days(instance: dg.DagsterInstance, table: LakeTable) -> set[dt.date]:
    """Every day of ``table`` Dagster has a materialisation for: a lookup that grows with
    the lake (``clearlake build`` fills old gaps with it); per-tick readers use
    :func:`days_around`."""
    return {dt.date.fromisoformat(p) for p in instance.get_materialized_partitions(_key(table))}


def missing_days(
    instance: dg.DagsterInstance, table: LakeTable, *, through: dt.date
) -> list[dt.date]:
    """Days from the table's first day up to ``through`` that the lake has no
    materialisation for (``through`` is the caller's: e.g. the source's newest day)."""
    if table.first_day is None:
        return []
    done = materialized_days(instance, table)
    count = (through - table.first_day).days + 1
    days = (table.first_day + dt.timedelta(days=i) for i in range(max(count, 0)))
    return [d for d in days if d not in done]


NEWEST_WINDOW_DAYS = 8
"""Days :func:`lake_newest_day` looks at first (doubled while it finds no real day)."""


def lake_newest_day(
    instance: dg.DagsterInstance, table: LakeTable, *, source_newest: dt.date | None
) -> dt.date | None:
    """The lake's newest real day: the newest materialised day, not counting days published
    empty before the source had them (a lake's files can run ahead of its source).

    Never lists every partition: it reads the latest materialisation (one indexed lookup)
    and the recorded days of a window ending at the later of that day and the source's
    newest, widened (doubling) only while the window holds no real day — work proportional
    to the lake's lag, not its history. A day later than both anchors that is not the latest
    materialisation (the source went back, then an older day was rebuilt) is not seen.
    """
    latest = instance.fetch_materializations(dg.AssetRecordsFilter(_key(table)), limit=1)
    events = [r.event_log_entry.asset_materialization for r in latest.records]
    partitions = [e.partition for e in events if e is not None and e.partition]
    anchors = [dt.date.fromisoformat(p) for p in partitions]
    if source_newest is not None:
        anchors.append(source_newest)
    if not anchors:
        return None
    end = max(anchors)
    first = table.first_day or end - dt.timedelta(days=36_600)
    span = NEWEST_WINDOW_DAYS
    while True:
        start = max(first, end - dt.timedelta(days=span - 1))
        window = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        found = recorded_days(instance, table, window)
        real = [
            d
            for d, r in found.items()
            if source_newest is None or d < source_newest or not r.ahead_of_source
        ]
        if real:
            return max(real)
        if start <= first:
            return None
        end, span = start - dt.timedelta(days=1), span * 2


def days_around(
    instance: dg.DagsterInstance,
    table: LakeTable,
    *,
    hint: dt.date | None,
    end: dt.date | None,
    trailing: int,
    also: Iterable[dt.date] = (),
) -> dict[dt.date, RecordedDay]:
    """The recorded days around the lake's newest day, without listing every partition.

    ``hint`` is where the lake's newest day probably is (the table's manifest, one small
    read: a hint, since a racing writer can lose its entry and a crashed run can leave a
    file Dagster never recorded); ``end`` the newest day wanted (the source's). The window
    runs from ``trailing`` days before the earlier of the two up to the later, and is
    widened downwards (doubling) until it holds a real recorded day or reaches the table's
    first day, so the newest recorded day at or before ``end`` is always in it and every
    day after it too. Dagster stays the truth for every day in the window; ``also`` adds
    days outside it (days whose runs failed). Work: proportional to the lake's lag and
    ``trailing``, never to its history.
    """
    anchors = [d for d in (hint, end) if d is not None]
    first = table.first_day
    if not anchors:
        if first is None:
            return {}
        anchors = [first]
    pivot, top = min(anchors), max(anchors)
    floor = first or pivot - dt.timedelta(days=36_600)
    span = max(trailing, 0) + NEWEST_WINDOW_DAYS
    found: dict[dt.date, RecordedDay] = {}
    high = top
    while True:
        low = max(floor, pivot - dt.timedelta(days=span - 1))
        window = [low + dt.timedelta(days=i) for i in range((high - low).days + 1)]
        found.update(recorded_days(instance, table, window))
        if low <= floor or any(d <= pivot and not r.ahead_of_source for d, r in found.items()):
            break
        high, span = low - dt.timedelta(days=1), span * 2
    outside = {d for d in also if d < low or d > top}
    found.update(recorded_days(instance, table, outside))
    return found


def recorded_days(
    instance: dg.DagsterInstance, table: LakeTable, days: Iterable[dt.date]
) -> dict[dt.date, RecordedDay]:
    """The latest recorded facts of each of ``days`` that has a materialisation."""
    wanted = {d.isoformat() for d in days}
    found: dict[dt.date, RecordedDay] = {}
    cursor = None
    while wanted:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(_key(table), asset_partitions=sorted(wanted)),
            limit=max(len(wanted), 50),
            cursor=cursor,
        )
        for record in result.records:  # newest first
            event = record.event_log_entry.asset_materialization
            if event is None or event.partition not in wanted:
                continue
            wanted.discard(event.partition)
            day = dt.date.fromisoformat(event.partition)
            found[day] = _recorded(day, event.metadata)
        if not result.has_more:
            break
        cursor = result.cursor
    return found


def _recorded(day: dt.date, metadata: Mapping[str, dg.MetadataValue]) -> RecordedDay:
    def value(key: str) -> object:
        entry = metadata.get(key)
        return None if entry is None else entry.value

    rows = value(ROW_COUNT)
    content = value(CONTENT_HASH)
    newest = value(SOURCE_NEWEST_DAY)
    return RecordedDay(
        day=day,
        rows=int(rows) if isinstance(rows, int | float) else 0,
        content_hash=str(content) if content is not None else None,
        source_newest=dt.date.fromisoformat(str(newest)) if newest else None,
    )


@dataclass(frozen=True)
class SensorRuns:
    """Days of the sensor's runs of one table that matter for the next tick."""

    in_flight: set[dt.date]
    failed: Counter[dt.date]
    """Each day's count of failed runs (a retry gets a new run key from it)."""


def sensor_runs(instance: dg.DagsterInstance, table: LakeTable) -> SensorRuns:
    """Days with a run queued or in progress, and days whose runs failed."""
    in_flight: set[dt.date] = set()
    failed: Counter[dt.date] = Counter()
    records = instance.get_run_records(
        dg.RunsFilter(tags={TABLE_TAG: table.name}), limit=RECENT_RUNS
    )
    for record in records:
        days = _tagged_days(record.dagster_run.tags.get(DAYS_TAG))
        if record.dagster_run.status in UNFINISHED:
            in_flight.update(days)
        elif record.dagster_run.status in FAILED:
            failed.update(days)
    return SensorRuns(in_flight, failed)


def days_tag(days: list[dt.date]) -> str:
    return f"{days[0].isoformat()}..{days[-1].isoformat()}"


def _tagged_days(tag: str | None) -> list[dt.date]:
    if not tag or ".." not in tag:
        return []
    first, last = (dt.date.fromisoformat(t) for t in tag.split("..", 1))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _key(table: LakeTable) -> dg.AssetKey:
    return lake_key(table.name)
