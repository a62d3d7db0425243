"""What the ``lake_health`` template shows for one lake day of any daily tables: volume,
nulls, schema against the project's declaration, freshness.

Row counts come from the table's manifest (or a Parquet footer for a day it lacks: no data
read) and schema drift from the lake's own ``compare``, so a red check and a red report agree
about what "drift" means. Nothing lists a table's partitions: the trailing days are the
calendar days before ``day`` that exist and the newest day is the manifest's, so one day's
report costs the same in a one-month and a five-year lake.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence

import pandas as pd
import pyarrow.parquet as pq

from clearlake.errors import PartitionNotFoundError
from clearlake.lake.conform import compare
from clearlake.lake.store import LakeStore, date_partition
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def lake_store() -> LakeStore:
    return LakeStore(load_settings().lake_url)


def daily_tables() -> list[str]:
    """The project's daily lake tables (what a day-scoped report covers by default)."""
    sources = current_project(load_settings()).config.sources
    return [name for name, source in sources.items() if source.daily is not None]


def row_counts(store: LakeStore, table: str, days: Sequence[str]) -> dict[str, int]:
    manifest = store.manifest(table)
    return {d: store.row_count(table, dt.date.fromisoformat(d), manifest) for d in days}


def latest_day(table: str, store: LakeStore) -> str:
    newest = store.newest_day(table)
    if newest is None:
        raise PartitionNotFoundError(table, "any day")
    return newest.isoformat()


def trailing_days(table: str, day: str, count: int, store: LakeStore) -> list[str]:
    """The stored days among the ``count`` calendar days before ``day`` (the comparison
    window; a day never replicated is left out, not counted as zero rows)."""
    if not store.exists(store.partition_file(table, date_partition(day))):
        raise PartitionNotFoundError(table, day)
    manifest = store.manifest(table)
    start = dt.date.fromisoformat(day)
    before = [start - dt.timedelta(days=i) for i in range(count, 0, -1)]
    return [
        d.isoformat()
        for d in before
        if d in manifest.days or store.exists(store.partition_file(table, date_partition(d)))
    ]


def volume(tables: Sequence[str], day: str, count: int, store: LakeStore) -> pd.DataFrame:
    """Rows of ``day`` against the median of the trailing days, per table."""
    rows = []
    for name in tables:
        window = trailing_days(name, day, count, store)
        counts = row_counts(store, name, [*window, day])
        median = statistics.median([counts[d] for d in window]) if window else None
        rows.append(
            {
                "table": name,
                "rows": counts[day],
                "trailing_days": len(window),
                "trailing_median": median,
                "deviation": (counts[day] - median) / median if median else None,
            }
        )
    return pd.DataFrame(rows)


def volume_history(table: str, day: str, count: int, store: LakeStore) -> pd.DataFrame:
    window = [*trailing_days(table, day, count, store), day]
    counts = row_counts(store, table, window)
    return pd.DataFrame({"day": window, "rows": [counts[d] for d in window]})


def _read(store: LakeStore, table: str, day: str) -> pd.DataFrame:
    return store.read_table(store.partition_file(table, date_partition(day))).to_pandas()


def null_rates(table: str, day: str, count: int, store: LakeStore) -> pd.DataFrame:
    """Share of nulls per column on ``day`` and over the trailing days."""
    today = _read(store, table, day)
    window = trailing_days(table, day, count, store)
    before = pd.concat([_read(store, table, d) for d in window]) if window else today.iloc[:0]
    frame = pd.DataFrame(
        {
            "column": today.columns,
            "null_rate": today.isna().mean().to_numpy(),
            "trailing_null_rate": before.isna().mean().reindex(today.columns).to_numpy()
            if len(before)
            else float("nan"),
        }
    )
    frame["change"] = frame["null_rate"] - frame["trailing_null_rate"]
    return frame


def schema(table: str, day: str, store: LakeStore) -> tuple[pd.DataFrame, list[str]]:
    """Stored columns next to the declared ones, and any drift problems."""
    declared = current_project(load_settings()).source_schema(table)
    stored = store.read_schema(store.partition_file(table, date_partition(day))).remove_metadata()
    frame = pd.DataFrame(
        {
            "column": declared.names,
            "declared": [str(f.type) for f in declared],
            "stored": [
                str(stored.field(n).type) if n in stored.names else "missing"
                for n in declared.names
            ],
            "nullable": [f.nullable for f in declared],
        }
    )
    return frame, list(compare(declared, stored).problems)


def freshness(tables: Sequence[str], day: str, store: LakeStore) -> pd.DataFrame:
    """When each table's partition was published, and the newest day the lake holds."""
    rows = []
    for name in tables:
        path = store.partition_file(name, date_partition(day))
        info = store.fs.get_file_info(path)
        with store.fs.open_input_file(path) as f:
            metadata = pq.ParquetFile(f).metadata
        published = info.mtime.astimezone(dt.UTC) if info.mtime else None
        rows.append(
            {
                "table": name,
                "published_at": published.isoformat(timespec="seconds") if published else None,
                "newest_day_in_lake": latest_day(name, store),
                "bytes": info.size,
                "row_groups": metadata.num_row_groups,
            }
        )
    return pd.DataFrame(rows)


def anomalies(
    volume_frame: pd.DataFrame,
    nulls: dict[str, pd.DataFrame],
    schema_problems: dict[str, list[str]],
    *,
    tolerance: float,
    null_jump: float,
) -> list[str]:
    """Plain-language findings; an empty list means a healthy day."""
    found = []
    for record in volume_frame.to_dict("records"):
        deviation = record["deviation"]
        if deviation is not None and abs(float(deviation)) > tolerance:
            found.append(
                f"{record['table']}: {record['rows']} rows, {float(deviation):+.0%} against the "
                f"trailing median {record['trailing_median']:g} (tolerance ±{tolerance:.0%})"
            )
    for table, frame in nulls.items():
        for row in frame[frame["change"] > null_jump].itertuples():
            found.append(
                f"{table}.{row.column}: null rate rose to {row.null_rate:.1%} from "
                f"{row.trailing_null_rate:.1%} over the trailing days"
            )
    for table, problems in schema_problems.items():
        found.extend(f"{table}: schema drift: {p}" for p in problems)
    return found


def verdict(found: Sequence[str]) -> str:
    """``healthy``, ``1 anomaly`` or ``<n> anomalies`` (the gallery colours the last word)."""
    if not found:
        return "healthy"
    return "1 anomaly" if len(found) == 1 else f"{len(found)} anomalies"
