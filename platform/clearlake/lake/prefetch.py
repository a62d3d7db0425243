"""Read a record-batch stream one step ahead on a thread.

Decoding the database stream (ADBC, in C++) and encoding Parquet both release the GIL,
so reading the next batch while the current day is sorted and written uses the second
core. The queue holds at most ``depth`` batches: memory stays bounded.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterable
from typing import cast

import pyarrow as pa

_DONE = object()


def prefetch(
    batches: Iterable[pa.RecordBatch], depth: int = 2
) -> Generator[pa.RecordBatch, None, None]:
    """Yield ``batches`` in order, produced by a background thread."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        buffer.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="clearlake-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(pa.RecordBatch, item)
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                buffer.get(timeout=0.1)
        worker.join()
