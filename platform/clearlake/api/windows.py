"""A day range of a lake table as a stream of record batches, opened eagerly.

``lake.scan`` bounds memory itself (one pyarrow scanner per window of partitions, see
``clearlake.lake.reader.WINDOW_FILES``); this holder opens it when the request arrives,
so a bad column or filter raises before any byte of a response is sent, and closes it
however the response ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa

from clearlake.lake.reader import Filter, scan
from clearlake.lake.store import LakeStore

BATCH_ROWS = 65_536


class WindowedScan:
    """Record batches of ``table`` for the given partition days (all of it if ``None``)."""

    def __init__(
        self,
        table: str,
        days: list[dt.date] | None,
        *,
        columns: list[str],
        filters: list[Filter],
        store: LakeStore,
    ) -> None:
        self.table = table
        self._reader: pa.RecordBatchReader | None = scan(
            table,
            days[0] if days else None,
            days[-1] if days else None,
            columns=columns,
            filters=filters or None,
            batch_size=BATCH_ROWS,
            store=store,
        )
        self.schema = self._reader.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        assert self._reader is not None
        try:
            yield from self._reader
        finally:
            self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
