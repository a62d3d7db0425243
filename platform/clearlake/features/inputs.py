"""What a feature function receives: its declared lake tables, for one day.

A feature function is ``function(inputs: FeatureInputs, day: datetime.date)`` returning
an Arrow table or a pandas frame with the declared columns. It reads only the tables it
declares (``inputs:``), so its lineage is exact; asking for another is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from clearlake.errors import ClearlakeError, PartitionNotFoundError
from clearlake.lake import reader
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable


@dataclass
class ReadCache:
    """What one run reads once for all its days: partition listings and snapshot tables."""

    partitions: dict[str, set[str]] = field(default_factory=dict)
    snapshots: dict[str, pa.Table] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    connection: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class FeatureInputs:
    """The lake tables a feature table declares, read for its day by default.

    ``read``/``arrow`` return a daily table's rows for ``start..end`` (inclusive; default:
    the day being built) and a snapshot table whole. ``sql`` runs DuckDB over every input
    (views named after the tables) with named parameters (``$day`` is always bound).
    """

    def __init__(
        self,
        *,
        feature: str,
        tables: Mapping[str, LakeTable],
        store: LakeStore,
        day: dt.date,
        cache: ReadCache | None = None,
    ) -> None:
        self.feature = feature
        self.tables = dict(tables)
        self.store = store
        self.day = day
        self._cache = cache or ReadCache()

    def _table(self, name: str) -> LakeTable:
        if name not in self.tables:
            raise ClearlakeError(
                f"Feature {self.feature} reads lake table {name!r}, which it does not declare: "
                f"add it to its `inputs` ({', '.join(self.tables) or 'none yet'})."
            )
        return self.tables[name]

    def arrow(
        self,
        table: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        declared = self._table(table)
        if not declared.partitioned:
            if table not in self._cache.snapshots:  # read once per run, not once per day
                files = reader.table_files(table, store=self.store)
                self._cache.snapshots[table] = self._dataset(declared, files).to_table()
            whole = self._cache.snapshots[table]
            return whole.select(list(columns)) if columns is not None else whole
        first = start or self.day
        last = end or start or self.day
        self.require(table, first, last)
        files = [
            self.store.partition_file(table, f"date={first + dt.timedelta(days=i)}")
            for i in range((last - first).days + 1)
        ]
        selected = list(columns) if columns is not None else None
        return self._dataset(declared, files).to_table(columns=selected)

    def require(self, table: str, first: dt.date, last: dt.date) -> None:
        """Every day ``first..last`` of daily ``table`` is in the lake, or a clear error."""
        if table not in self._cache.partitions:
            self._cache.partitions[table] = set(self.store.list_partitions(table))
        present = self._cache.partitions[table]
        for i in range((last - first).days + 1):
            day = (first + dt.timedelta(days=i)).isoformat()
            if day not in present:
                raise PartitionNotFoundError(table, day)

    def read(
        self,
        table: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """As :meth:`arrow`, converted to pandas (a snapshot table once per run: treat the
        frame as read-only)."""
        if self._table(table).partitioned or columns is not None:
            return self.arrow(table, start, end, columns=columns).to_pandas()
        if table not in self._cache.frames:
            self._cache.frames[table] = self.arrow(table).to_pandas()
        return self._cache.frames[table]

    def sql(self, query: str, **params: Any) -> pa.Table:
        try:
            return self.connect().sql(query, params={"day": self.day, **params}).to_arrow_table()
        except duckdb.Error as exc:
            raise ClearlakeError(f"SQL of feature {self.feature} failed: {exc}") from None

    def connect(self) -> duckdb.DuckDBPyConnection:
        """DuckDB with one view per input over all its partitions, made once per run.

        On a local lake the views are DuckDB's own Parquet scans (measured 2x faster than
        a registered Arrow dataset on the example project); on S3 they are Arrow datasets
        over the lake's filesystem, which carries its credentials and endpoint.
        """
        if self._cache.connection is not None:
            return self._cache.connection
        connection = duckdb.connect()
        for name, declared in self.tables.items():
            files = reader.table_files(name, store=self.store)
            if files and self.store.is_local:
                columns = ", ".join(f'"{c}"' for c in declared.schema.names)
                connection.execute(
                    f'CREATE VIEW "{name}" AS SELECT {columns} FROM read_parquet({files!r})'
                )
            else:
                connection.register(name, self._dataset(declared, files))
        self._cache.connection = connection
        return connection

    def _dataset(self, table: LakeTable, files: list[str]) -> ds.Dataset:
        if not files:
            return ds.dataset(table.schema.empty_table())
        return ds.dataset(files, format="parquet", filesystem=self.store.fs, schema=table.schema)
