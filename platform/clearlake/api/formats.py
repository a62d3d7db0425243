"""Response encoders: record batches in, bytes out, one chunk per batch.

Every format is written incrementally into a small in-memory sink that is drained after
each batch, so a response of any size holds about one batch in memory. Parquet writes
one row group per batch (a streamed file, readable once the footer arrives).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

Format = Literal["arrow", "parquet", "csv", "jsonl"]
MEDIA_TYPES: dict[str, str] = {
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
}
EXTENSIONS = {"arrow": "arrows", "parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


class ChunkSink:
    """Write-only file object collecting bytes until the next :meth:`drain`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._size += len(chunk)
        return len(chunk)

    def drain(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts.clear()
        return chunk

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def encode(fmt: Format, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Yield the encoded response, one non-empty chunk per batch (plus header/footer)."""
    sink = ChunkSink()
    if fmt == "jsonl":
        for batch in batches:
            yield _jsonl(batch)
        return
    writer: Any
    if fmt == "arrow":
        writer = ipc.new_stream(sink, schema)
    elif fmt == "parquet":
        writer = pq.ParquetWriter(sink, schema, compression="snappy")
    else:
        writer = pacsv.CSVWriter(sink, schema)
    try:
        header = sink.drain()
        if header:
            yield header
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch)
                chunk = sink.drain()
                if chunk:
                    yield chunk
    finally:
        writer.close()
    tail = sink.drain()
    if tail:
        yield tail


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _jsonl(batch: pa.RecordBatch) -> bytes:
    names = batch.schema.names
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    lines = [
        json.dumps({n: _json_value(v) for n, v in zip(names, row, strict=True)}, allow_nan=False)
        for row in zip(*columns, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
