"""Reading a day range as a sequence of small ``lake.scan`` calls.

pyarrow's dataset scanner reads ahead without effective backpressure when its consumer
is slower than the disk (apache/arrow#39808): streaming 90 days as CSV buffered the
whole range (~90 MB of Arrow memory for 1M flights) before the client had read it. A
scan over at most :data:`WINDOW_PARTITIONS` partitions at a time caps that buffer at
one window whatever the range (measured: 11 MB instead of 99 MB), for the cost of one
partition listing per window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa

from clearlake.lake.reader import Filter, scan
from clearlake.lake.store import LakeStore

WINDOW_PARTITIONS = 7
BATCH_ROWS = 65_536


class WindowedScan:
    """Record batches of ``table`` for the given partition days, one window at a time.

    The first window's reader is opened on construction, so a bad column or filter
    raises before any byte of a response is sent.
    """

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
        self.columns = columns
        self.filters = filters or None
        self.store = store
        self.windows: list[tuple[dt.date | None, dt.date | None]] = (
            [
                (days[i], days[min(i + WINDOW_PARTITIONS, len(days)) - 1])
                for i in range(0, len(days), WINDOW_PARTITIONS)
            ]
            if days
            else [(None, None)]
        )
        self._current: pa.RecordBatchReader | None = self._open(*self.windows[0])
        self.schema = self._current.schema

    def _open(self, first: dt.date | None, last: dt.date | None) -> pa.RecordBatchReader:
        return scan(
            self.table,
            first,
            last,
            columns=self.columns,
            filters=self.filters,
            batch_size=BATCH_ROWS,
            store=self.store,
        )

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for index, window in enumerate(self.windows):
            if index:
                self._current = self._open(*window)
            assert self._current is not None
            try:
                yield from self._current
            finally:
                self.close()

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
