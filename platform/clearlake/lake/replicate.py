"""Replication: production table (or a range of its days) → Parquet partitions in the lake.

A range of days is read with ONE query bounded by the range (``WHERE day >= $1 AND
day < $2 ORDER BY day``): with an index on the date column the database walks just
those days, in order, and never scans the whole table. The stream is cut at day
boundaries; each day is sorted in Arrow by its key columns and then every other
column, so that unchanged source data gives byte-identical Parquet — the same content
hash, hence the same Dagster data version — whatever order the source returned rows
in. Memory holds one day at a time, whatever the size of the range or the table.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import DayNotInSourceError, PartitionRangeError
from clearlake.lake.conform import Conformance, compare, conform_batches
from clearlake.lake.prefetch import prefetch
from clearlake.lake.source import Snapshot, SourceDatabase
from clearlake.lake.store import (
    LakeStore,
    WrittenPartition,
    content_fingerprint,
    date_partition,
)
from clearlake.lake.tables import LakeTable

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Replicated:
    """One published partition and what it took to make it."""

    table: str
    partition: str | None
    written: WrittenPartition
    drift: list[str]
    snapshot_at: dt.datetime
    query_seconds: float
    source_newest: dt.date | None = None
    """The source's newest day in the snapshot this partition was read from."""

    @property
    def data_version(self) -> str:
        return self.written.content_hash[:16]


def source_query(
    source: SourceDatabase,
    table: LakeTable,
    first: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The bounded source query and its parameters.

    PostgreSQL gets the bounds as literals, not bound parameters: ADBC's driver runs a
    parameterised query as a prepared statement whose whole result libpq buffers in
    memory, while a plain query streams through COPY in ~16 MB batches. The literals
    come from ``datetime.date`` objects (digits and dashes only), so nothing the user
    typed reaches the SQL text. A timestamp column's day is ``[day 00:00, next day
    00:00)`` UTC.
    """
    if table.partition_column is None:
        return f"SELECT * FROM {table.relation} ORDER BY {', '.join(table.key_columns)}", ()
    assert isinstance(first, dt.date) and isinstance(end, dt.date)
    column = table.partition_column
    order = f"ORDER BY {column}"
    if source.dialect == "postgresql":
        low, high = (_literal(table, day) for day in (first, end))
        bounds = f"{column} >= {low} AND {column} < {high}"
        return f"SELECT * FROM {table.relation} WHERE {bounds} {order}", ()
    # SQLite keeps dates and timestamps as ISO-8601 text: day strings bound them.
    query = f"SELECT * FROM {table.relation} WHERE {column} >= ? AND {column} < ? {order}"
    return query, (first.isoformat(), end.isoformat())


def _literal(table: LakeTable, day: dt.date) -> str:
    kind = table.partition_type
    if kind is not None and pa.types.is_timestamp(kind):
        if kind.tz is not None:
            return f"TIMESTAMPTZ '{day.isoformat()} 00:00:00+00'"
        return f"TIMESTAMP '{day.isoformat()} 00:00:00'"
    return f"DATE '{day.isoformat()}'"


def day_keys(values: pa.Array) -> pa.Array:
    """The UTC day of each partition value (dates as they are, ISO text cut to the day)."""
    if pa.types.is_timestamp(values.type):
        naive = values.cast(pa.timestamp(values.type.unit))  # same instants, read as UTC
        return naive.cast(pa.date32())
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pc.utf8_slice_codeunits(values, 0, 10)
    return values


def canonical_order(data: pa.Table, table: LakeTable) -> pa.Table:
    """Rows in a total order: by key columns, ties (if any) broken by every other column.

    One sort over all columns, keys first: where keys are unique the other columns are
    never compared, so this costs what a key-only sort costs. The day is made one
    contiguous chunk first, because ``take`` over a chunked table measured 4x slower.
    """
    keys = [c for c in table.key_columns if c in data.column_names]
    names = keys + [c for c in data.column_names if c not in keys]
    contiguous = data.combine_chunks()
    order = pc.sort_indices(contiguous, sort_keys=[(n, "ascending") for n in names])
    return contiguous.take(order)


def _runs(batch: pa.RecordBatch, column: str) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Zero-copy slices of a date-ordered batch, one per day, in order."""
    values = day_keys(batch.column(column))
    if batch.num_rows == 0:
        return
    changes = pc.not_equal(values.slice(1), values.slice(0, len(values) - 1))
    cuts = np.flatnonzero(changes.to_numpy(zero_copy_only=False)) + 1
    bounds = [0, *cuts.tolist(), batch.num_rows]
    for start, end in itertools.pairwise(bounds):
        yield str(values[start].as_py()), batch.slice(start, end - start)


def _days_of(
    batches: Iterator[pa.RecordBatch], column: str
) -> Iterator[tuple[str, list[pa.RecordBatch]]]:
    """Group a date-ordered stream into (day, batches of that day)."""
    current: str | None = None
    pending: list[pa.RecordBatch] = []
    for batch in batches:
        for day, part in _runs(batch, column):
            if day != current and current is not None:
                yield current, pending
                pending = []
            current = day
            pending.append(part)
    if current is not None:
        yield current, pending


@contextmanager
def _conformed(
    snapshot: Snapshot, query: str, params: tuple[str, ...], table: LakeTable
) -> Iterator[tuple[Conformance, Iterator[pa.RecordBatch]]]:
    """The query's batches in the declared schema, and how the source's schema compared.

    The comparison waits for the first non-empty batch: an empty result's column types
    carry no information (SQLite's driver types them all int64).
    """
    with snapshot.stream(query, params) as reader:
        stream = iter(reader)
        head = next((b for b in stream if b.num_rows), None)
        conformance = compare(table.schema, reader.schema, names_only=head is None)
        yield (
            conformance,
            conform_batches(itertools.chain([head] if head else [], stream), conformance),
        )


def _canonical_day(
    table: LakeTable, conformance: Conformance, batches: list[pa.RecordBatch]
) -> list[pa.RecordBatch]:
    data = pa.Table.from_batches(batches, schema=conformance.output_schema)
    return canonical_order(data, table).to_batches()


def _write_day(
    store: LakeStore,
    table: LakeTable,
    conformance: Conformance,
    day: dt.date,
    batches: list[pa.RecordBatch],
) -> WrittenPartition:
    return store.write(
        table.name,
        date_partition(day),
        conformance.output_schema,
        _canonical_day(table, conformance, batches),
    )


@dataclass(frozen=True)
class DayContent:
    """What the source holds for one day, in the terms the lake records."""

    rows: int
    content_hash: str
    """The first 16 hex digits, as recorded in a partition's ``content_hash``."""


def source_content(
    source: SourceDatabase, table: LakeTable, *, trailing: int, through: dt.date
) -> tuple[dt.date | None, dict[dt.date, DayContent]]:
    """The source's newest day and the content of the ``trailing`` days up to it (never
    past ``through`` nor before the table's first day), read in one snapshot.

    The rows go through the very conformance, canonical order and Parquet writer a
    replication uses, so unchanged rows give the hash the lake recorded for the day.
    """
    assert table.partition_column is not None
    with source.snapshot() as snapshot:
        newest = snapshot.newest_day(table)
        end = min(newest, through) if newest is not None else None
        first = table.first_day or dt.date.min
        wanted = [] if end is None else [end - dt.timedelta(days=i) for i in range(trailing)]
        wanted = sorted(d for d in wanted if d >= first)
        if not wanted:
            return newest, {}
        query, params = source_query(source, table, wanted[0], wanted[-1] + dt.timedelta(days=1))
        found: dict[dt.date, DayContent] = {}
        with _conformed(snapshot, query, params, table) as (conformance, batches):
            for day_text, day_batches in _days_of(batches, table.partition_column):
                day = dt.date.fromisoformat(day_text[:10])
                rows, digest = content_fingerprint(
                    conformance.output_schema, _canonical_day(table, conformance, day_batches)
                )
                found[day] = DayContent(rows, digest[:16])
            _, empty = content_fingerprint(conformance.output_schema, [])
    return newest, {d: found.get(d, DayContent(0, empty[:16])) for d in wanted}


def replicate_days(
    snapshot: Snapshot,
    source: SourceDatabase,
    store: LakeStore,
    table: LakeTable,
    days: Sequence[dt.date],
    progress: Progress | None = None,
    newest: dt.date | None = None,
) -> list[Replicated]:
    """Copy the consecutive ``days`` of a daily table with one range query."""
    assert table.partition_column is not None
    query, params = source_query(source, table, min(days), max(days) + dt.timedelta(days=1))
    started = time.perf_counter()
    results: dict[dt.date, Replicated] = {}
    with _conformed(snapshot, query, params, table) as (conformance, batches):
        for day_text, day_batches in _days_of(prefetch(batches), table.partition_column):
            day = dt.date.fromisoformat(day_text[:10])
            written = _write_day(store, table, conformance, day, day_batches)
            results[day] = Replicated(
                table.name,
                day.isoformat(),
                written,
                conformance.problems,
                snapshot.started_at,
                time.perf_counter() - started,
                newest,
            )
            started = time.perf_counter()
            if progress:
                progress(len(results), len(days))
    for day in sorted(set(days) - set(results)):  # days without rows are published empty
        written = _write_day(store, table, conformance, day, [])
        results[day] = Replicated(
            table.name,
            day.isoformat(),
            written,
            conformance.problems,
            snapshot.started_at,
            0.0,
            newest,
        )
    return [results[d] for d in sorted(days)]


def replicate_snapshot(
    snapshot: Snapshot, source: SourceDatabase, store: LakeStore, table: LakeTable
) -> Replicated:
    """Copy a whole (small, keyed) table: ordered by its unique key in SQL."""
    started = time.perf_counter()
    query, _ = source_query(source, table)
    with _conformed(snapshot, query, (), table) as (conformance, batches):
        written = store.write(table.name, None, conformance.output_schema, batches)
    return Replicated(
        table.name,
        None,
        written,
        conformance.problems,
        snapshot.started_at,
        time.perf_counter() - started,
    )


READERS = 2
"""Parallel readers of one PostgreSQL snapshot for a long range. On 2 cores, 2 readers
beat 1 (server and decoding overlap) and 3 (they only compete): benchmarks/replication.py."""
MIN_DAYS_PER_READER = 14


def _chunks(days: Sequence[dt.date], parts: int) -> list[list[dt.date]]:
    size = -(-len(days) // parts)
    return [list(days[i : i + size]) for i in range(0, len(days), size)]


def check_day_range(
    table: str, first: dt.date, last: dt.date, *, valid_first: dt.date, valid_last: dt.date | None
) -> None:
    """Refuse days outside a table's partitions before anything runs or is written.

    ``valid_last`` None means open-ended (partitions up to the source's newest day).
    """
    after = valid_last is not None and max(first, last) > valid_last
    if min(first, last) < valid_first or after:
        raise PartitionRangeError(table, first, last, (valid_first, valid_last))


def replicate(
    source: SourceDatabase,
    store: LakeStore,
    table: LakeTable,
    days: Sequence[dt.date] | None,
    progress: Progress | None = None,
    *,
    readers: int = READERS,
) -> list[Replicated]:
    """Replicate ``days`` of ``table`` (all of a snapshot table if ``None``) in one snapshot.

    On PostgreSQL a long range is split between ``readers`` connections that all read
    the lead connection's exported snapshot: one consistent copy, read in parallel.

    A daily partition is written only for a day the source has reached: the source's
    newest day is read in the same snapshot, and a day after it is refused
    (:class:`DayNotInSourceError`) before anything is written. A day the source has
    passed without rows is published empty.
    """
    if days and table.partition_column is not None and table.first_day is not None:
        check_day_range(
            table.name,
            min(days),
            max(days),
            valid_first=table.first_day,
            valid_last=table.last_day,
        )
    with source.snapshot() as snapshot:
        if days is None or table.partition_column is None:
            return [replicate_snapshot(snapshot, source, store, table)]
        ordered = sorted(days)
        newest = snapshot.newest_day(table)
        if newest is None or ordered[-1] > newest:
            raise DayNotInSourceError(table.name, ordered[-1], newest)
        parts = min(readers, len(ordered) // MIN_DAYS_PER_READER)
        shared = snapshot.export() if parts > 1 else None
        if shared is None:
            return replicate_days(snapshot, source, store, table, ordered, progress, newest)
        done = [0]
        lock = threading.Lock()

        def tick(_: int, __: int) -> None:
            with lock:
                done[0] += 1
                if progress:
                    progress(done[0], len(ordered))

        def work(chunk: list[dt.date]) -> list[Replicated]:
            with source.snapshot(shared=shared) as mine:
                return replicate_days(mine, source, store, table, chunk, tick, newest)

        with ThreadPoolExecutor(parts, thread_name_prefix="clearlake-replicate") as pool:
            results = list(pool.map(work, _chunks(ordered, parts)))
        return [r for chunk in results for r in chunk]
