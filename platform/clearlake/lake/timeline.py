"""Which days of a daily table to replicate now: the new-days sensor's decision, as a plain
function of what the source has and what Dagster recorded (no cursor, so a restart or a
lost cursor changes nothing).

- New days: after the lake's newest day, up to min(source's newest day, last day,
  today), that have no materialisation and no run queued or in progress. Older gaps are
  ``clearlake build``'s job, except days whose own run failed: those are retried.
- Late rows: the trailing ``refresh_days`` days are compared by content (the hash the
  lake recorded against the same hash of the source's rows); a changed day is replicated
  again, a day that lost rows is reported and left as it is.
- A day published empty before the source reached it (before Clearlake refused such
  days) does not count as replicated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from clearlake.lake.records import RecordedDay, SensorRuns
from clearlake.lake.replicate import DayContent
from clearlake.lake.tables import LakeTable


@dataclass
class TablePlan:
    """One table's decision for one tick."""

    new_days: list[list[dt.date]] = field(default_factory=list)
    """Runs of consecutive days to replicate (one run each)."""
    refresh: list[tuple[dt.date, DayContent]] = field(default_factory=list)
    """Days whose source content changed since the lake recorded them."""
    warnings: list[str] = field(default_factory=list)


def newest_wanted(
    table: LakeTable, source_newest: dt.date | None, today: dt.date
) -> dt.date | None:
    """The newest day the lake should have: the source's newest day, never past the
    table's last day or today."""
    if source_newest is None or table.first_day is None:
        return None
    end = min(source_newest, today, table.last_day or today)
    return end if end >= table.first_day else None


def refresh_window(table: LakeTable, end: dt.date | None) -> list[dt.date]:
    """The trailing ``refresh_days`` days up to ``end`` (within the table's days)."""
    if end is None or table.first_day is None or table.refresh_days <= 0:
        return []
    days = [end - dt.timedelta(days=i) for i in range(table.refresh_days)]
    return sorted(d for d in days if d >= table.first_day)


def plan_table(
    table: LakeTable,
    *,
    source_newest: dt.date | None,
    today: dt.date,
    materialized: set[dt.date],
    recorded: Mapping[dt.date, RecordedDay],
    runs: SensorRuns,
    source: Mapping[dt.date, DayContent],
) -> TablePlan:
    """``recorded`` holds the materialised days from the refresh window on (at least every
    day past ``source_newest``); ``source`` the content of the refresh window's days."""
    plan = TablePlan()
    end = newest_wanted(table, source_newest, today)
    unconfirmed = {d for d, r in recorded.items() if r.ahead_of_source}
    done = materialized - unconfirmed
    gone = sorted(d for d in done if source_newest is None or d > source_newest)
    if gone:
        plan.warnings.append(
            f"{table.name}: the source's newest day went back to {source_newest or 'no rows'} "
            f"but the lake has {gone[0]}..{gone[-1]}: nothing deleted; replicate those days "
            "explicitly once the source is settled."
        )
    if end is None or table.first_day is None:
        return plan
    lake_newest = max((d for d in done if d <= end), default=None)
    start = lake_newest + dt.timedelta(days=1) if lake_newest else table.first_day
    after = {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}
    retried = {d for d in runs.failed if d <= end}
    wanted = sorted((after | retried) - done - runs.in_flight)
    plan.new_days = _consecutive(wanted)
    for day, content in sorted(source.items()):
        lake = recorded.get(day)
        if day not in done or day in runs.in_flight or lake is None:
            continue
        if lake.content_hash == content.content_hash:
            continue
        if content.rows < lake.rows:
            plan.warnings.append(
                f"{table.name} {day}: the source lost rows (lake {lake.rows:,} rows, source "
                f"{content.rows:,} rows): the lake is not shrunk; to accept it run "
                f"`clearlake lake replicate {table.name} --start {day} --end {day}`."
            )
            continue
        plan.refresh.append((day, content))
    return plan


def _consecutive(days: list[dt.date]) -> list[list[dt.date]]:
    runs: list[list[dt.date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs
