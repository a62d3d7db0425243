from __future__ import annotations

import itertools
from collections.abc import Iterator

import pyarrow as pa
import pytest

from clearlake.lake.prefetch import prefetch


def numbered(n: int) -> Iterator[pa.RecordBatch]:
    for i in range(n):
        yield pa.record_batch([pa.array([i])], names=["i"])


def test_prefetch_keeps_order_and_everything() -> None:
    assert [b["i"][0].as_py() for b in prefetch(numbered(50), depth=3)] == list(range(50))


def test_producer_error_reaches_the_consumer() -> None:
    def failing() -> Iterator[pa.RecordBatch]:
        yield from numbered(2)
        raise ConnectionError("server closed the connection")

    with pytest.raises(ConnectionError, match="server closed"):
        list(prefetch(failing()))


def test_consumer_stopping_early_stops_the_producer() -> None:
    produced = []

    def endless() -> Iterator[pa.RecordBatch]:
        for i in itertools.count():
            produced.append(i)
            yield pa.record_batch([pa.array([i])], names=["i"])

    stream = prefetch(endless(), depth=2)
    assert next(stream)["i"][0].as_py() == 0
    stream.close()  # joins the worker: it must not run on
    count = len(produced)
    assert count <= 5
    assert len(produced) == count
