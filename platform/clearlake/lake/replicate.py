"""Replication: production table (or one day of it) → Parquet partition in the lake.

The source query is bounded by the partition's date range, so with an index on the
date column it never scans the whole table for one day. Rows are ordered by the
table's key so that unchanged source data gives byte-identical Parquet, and therefore
the same content hash (the Dagster data version).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clearlake.lake.conform import compare, conform_batches
from clearlake.lake.source import Snapshot, SourceDatabase
from clearlake.lake.store import LakeStore, WrittenPartition, date_partition
from clearlake.lake.tables import LakeTable


@dataclass(frozen=True)
class Replicated:
    """One published partition and what it took to make it."""

    table: str
    partition: str | None
    written: WrittenPartition
    drift: list[str]
    snapshot_at: dt.datetime
    query_seconds: float

    @property
    def data_version(self) -> str:
        return self.written.content_hash[:16]


def source_query(source: SourceDatabase, table: LakeTable) -> str:
    order = ", ".join(table.key_columns)
    if table.partition_column is None:
        return f"SELECT * FROM {table.name} ORDER BY {order}"
    column = table.partition_column
    lower, upper = (
        ("CAST($1 AS DATE)", "CAST($2 AS DATE)") if source.dialect == "postgresql" else ("?", "?")
    )
    return (
        f"SELECT * FROM {table.name} WHERE {column} >= {lower} AND {column} < {upper} "
        f"ORDER BY {order}"
    )


def replicate_partition(
    snapshot: Snapshot,
    source: SourceDatabase,
    store: LakeStore,
    table: LakeTable,
    day: dt.date | None,
) -> Replicated:
    """Copy one day (or the whole snapshot table) inside an open snapshot."""
    query = source_query(source, table)
    params: tuple[str, ...] = ()
    if day is not None:
        params = (day.isoformat(), (day + dt.timedelta(days=1)).isoformat())
    started = time.perf_counter()
    with snapshot.stream(query, params) as reader:
        batches = iter(reader)
        first = next((b for b in batches if b.num_rows), None)
        conformance = compare(table.schema, reader.schema, names_only=first is None)
        written = store.write(
            table.name,
            date_partition(day) if day else None,
            conformance.output_schema,
            conform_batches(itertools.chain([first] if first else [], batches), conformance),
        )
    return Replicated(
        table=table.name,
        partition=day.isoformat() if day else None,
        written=written,
        drift=conformance.problems,
        snapshot_at=snapshot.started_at,
        query_seconds=time.perf_counter() - started,
    )


def replicate(
    source: SourceDatabase,
    store: LakeStore,
    table: LakeTable,
    days: Sequence[dt.date] | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Replicated]:
    """Replicate ``days`` of ``table`` (all of a snapshot table if ``None``) in one snapshot."""
    results = []
    targets: Sequence[dt.date | None] = days if days is not None else [None]
    with source.snapshot() as snapshot:
        for index, day in enumerate(targets, start=1):
            results.append(replicate_partition(snapshot, source, store, table, day))
            if progress:
                progress(index, len(targets))
    return results
