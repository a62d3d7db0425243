"""Data checks on lake partitions: schema, row-count anomalies, null rates, freshness.

Pure functions; the Dagster asset checks in ``assets/lake`` turn their findings into
``AssetCheckResult``s. Each reads what the checked days need and nothing older: schema and
nulls open the new partitions only, the row count compares recorded counts (Dagster's
``dagster/row_count`` of each day, see :func:`trailing_window`) and freshness takes the
lake's newest day from what was recorded, so a new day costs the same in a one-month and a
five-year lake.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from clearlake.lake.conform import compare
from clearlake.lake.store import LakeStore, date_partition
from clearlake.lake.tables import LakeTable

TRAILING_DAYS = 7
ANOMALY_TOLERANCE = 0.5
"""A day whose row count is off the trailing median by more than this share is anomalous."""


@dataclass(frozen=True)
class Finding:
    passed: bool
    description: str
    details: dict[str, object]


def _label(table: LakeTable, partition: str | None) -> str:
    return f"{table.name}[{partition}]" if partition else table.name


def _file(store: LakeStore, table: LakeTable, partition: str | None) -> str:
    return store.partition_file(table.name, date_partition(partition) if partition else None)


def schema_finding(store: LakeStore, table: LakeTable, partitions: Sequence[str | None]) -> Finding:
    """The stored schema of every partition equals the declared one."""
    problems = []
    for partition in partitions:
        stored = store.read_schema(_file(store, table, partition)).remove_metadata()
        for problem in compare(table.schema, stored).problems:
            problems.append(f"{_label(table, partition)}: {problem}")
    if problems:
        return Finding(False, "Schema drift: " + "; ".join(problems[:10]), {"problems": problems})
    return Finding(True, f"{len(partitions)} partition(s) match the declared schema", {})


def trailing_window(days: Iterable[dt.date]) -> list[dt.date]:
    """The checked days and the ``TRAILING_DAYS`` calendar days before each: every day
    whose row count :func:`row_count_finding` needs."""
    window = {d - dt.timedelta(days=i) for d in days for i in range(TRAILING_DAYS + 1)}
    return sorted(window)


def row_count_finding(
    table: LakeTable, days: Sequence[dt.date], counts: Mapping[dt.date, int]
) -> Finding:
    """Each day's row count against the median of the recorded days among its
    ``TRAILING_DAYS`` predecessors (``counts`` holds the days of :func:`trailing_window`
    that exist; a day never replicated is not a zero)."""
    anomalies = {}
    for day in days:
        trailing = [
            counts[d]
            for d in (day - dt.timedelta(days=i) for i in range(TRAILING_DAYS, 0, -1))
            if d in counts
        ]
        if len(trailing) < 3 or day not in counts:
            continue
        median = statistics.median(trailing)
        if median and abs(counts[day] - median) / median > ANOMALY_TOLERANCE:
            anomalies[day.isoformat()] = {"rows": counts[day], "trailing_median": median}
    if anomalies:
        listed = ", ".join(
            f"{d}: {v['rows']} rows vs median {v['trailing_median']}"
            for d, v in list(anomalies.items())[:10]
        )
        return Finding(
            False, f"{table.name}: row count anomaly on {listed}", {"anomalies": anomalies}
        )
    return Finding(
        True, f"{len(days)} day(s) within ±{ANOMALY_TOLERANCE:.0%} of trailing median", {}
    )


def null_rate_finding(
    store: LakeStore, table: LakeTable, partitions: Sequence[str | None]
) -> Finding:
    """Key columns hold no nulls."""
    nulls: dict[str, int] = {}
    rows = 0
    for partition in partitions:
        path = _file(store, table, partition)
        present = [c for c in table.key_columns if c in store.read_schema(path).names]
        data = store.read_table(path, columns=present)
        rows += data.num_rows
        for column in present:
            count = data[column].null_count
            if count:
                nulls[f"{_label(table, partition)}.{column}"] = count
    if nulls:
        listed = ", ".join(f"{k}: {v} null(s)" for k, v in list(nulls.items())[:10])
        return Finding(False, f"Nulls in key columns: {listed}", {"nulls": nulls, "rows": rows})
    return Finding(True, f"No nulls in key columns over {rows} rows", {"rows": rows})


def freshness_finding(
    store: LakeStore, table: LakeTable, source_newest: dt.date | None, max_lag_days: int = 1
) -> Finding:
    """The newest lake partition is at most ``max_lag_days`` behind production's newest day
    (the newest day from the table's manifest: no listing)."""
    return lag_finding(table, store.newest_day(table.name), source_newest, max_lag_days)


def lag_finding(
    table: LakeTable, newest: dt.date | None, source_newest: dt.date | None, max_lag_days: int = 1
) -> Finding:
    """The lake's newest day (as recorded, or as listed) against production's newest day."""
    if source_newest is None:
        return Finding(True, f"Source table {table.name} is empty", {})
    if newest is None:
        return Finding(False, f"{table.name}: the lake holds no partition yet", {})
    lag = (source_newest - newest).days
    details: dict[str, object] = {
        "newest_partition": str(newest),
        "source_newest": str(source_newest),
        "lag_days": lag,
    }
    if lag > max_lag_days:
        return Finding(
            False,
            f"{table.name}: newest partition {newest} is {lag} day(s) behind production "
            f"({source_newest}); replicate the missing days",
            details,
        )
    return Finding(True, f"{table.name}: newest partition {newest}, lag {lag} day(s)", details)
