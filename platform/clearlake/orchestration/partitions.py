"""Partitions shared by every domain: days of the lake, candidates of evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg


def daily_partitions(
    first_day: dt.date, last_day: dt.date | None = None
) -> dg.PartitionsDefinition:
    """One partition per UTC day from ``first_day``: up to ``last_day`` when declared (a
    frozen sample), else open-ended up to and including today (``end_offset=1``: today's
    partition exists while its rows still arrive, so the newest day can be replicated)."""
    if last_day is None:
        return dg.DailyPartitionsDefinition(start_date=first_day.isoformat(), end_offset=1)
    return dg.DailyPartitionsDefinition(
        start_date=first_day.isoformat(),
        end_date=(last_day + dt.timedelta(days=1)).isoformat(),
    )


def partition_days(window: dg.TimeWindow) -> list[dt.date]:
    """The days of a partition time window (one for a partition, several for a range)."""
    start = window.start.date()
    return [start + dt.timedelta(days=i) for i in range((window.end - window.start).days)]


def candidate_partitions(name: str) -> dg.DynamicPartitionsDefinition:
    """A task's candidates, one partition per algorithm version of its repositories:
    ``<repo>@<short sha>[~<param hash>]``. ``name`` comes from
    ``clearlake.names.candidate_partitions_name(task)``."""
    return dg.DynamicPartitionsDefinition(name=name)


CANDIDATES = "candidates"
candidate_partitions_def = dg.DynamicPartitionsDefinition(name=CANDIDATES)
"""Deprecated: the single set of candidates before tasks; use :func:`candidate_partitions`."""

DROPS = "drops"
drop_partitions_def = dg.DynamicPartitionsDefinition(name=DROPS)
"""One partition per dropped file: ``<dataset>/<drop time>-<content hash>``."""


def __getattr__(name: str) -> Any:
    """Compatibility: ``daily_partitions_def`` spans every daily source of the current
    project (earliest first day; open-ended unless all declare a last day). Assets should
    use their own table's partitions (:func:`clearlake.lake.tables.lake_tables`)."""
    if name == "daily_partitions_def":
        from clearlake.lake.tables import lake_tables  # lake → project; only for this shim

        daily = [t for t in lake_tables().values() if t.first_day is not None]
        if not daily:
            raise AttributeError("the current project declares no daily source")
        first = min(t.first_day for t in daily if t.first_day is not None)
        lasts = [t.last_day for t in daily]
        last = None if None in lasts else max(d for d in lasts if d is not None)
        return daily_partitions(first, last)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
