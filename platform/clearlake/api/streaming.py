"""One streamed data response: batches in, encoded chunks out, audit record at the end.

The audit record and the lake scan are finished exactly once, however the response ends:
completed, failed, abandoned by the client mid-stream, or never started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Generator, Iterator

import anyio
import pyarrow as pa
from fastapi import Request
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from clearlake.api.access import DataPlan
from clearlake.api.audit import AuditRecord
from clearlake.api.config import ApiConfig
from clearlake.api.formats import Format, encode
from clearlake.api.windows import WindowedScan

log = logging.getLogger("clearlake.api")


class DataStream:
    def __init__(
        self,
        config: ApiConfig,
        plan: DataPlan,
        reader: WindowedScan,
        record: AuditRecord,
        *,
        limit: int | None,
        fmt: Format,
    ) -> None:
        self.config = config
        self.plan = plan
        self.reader = reader
        self.record = record
        self.limit = limit
        self.fmt = fmt
        self.record.outcome = "aborted"  # until the last chunk is out
        self._started = time.perf_counter()
        self._finished = False

    def _batches(self) -> Iterator[pa.RecordBatch]:
        limit, record = self.limit, self.record
        for batch in self.reader:
            if limit is not None and record.rows + batch.num_rows > limit:
                batch = batch.slice(0, limit - record.rows)
            yield self.plan.transform(batch)
            record.rows += batch.num_rows
            if limit is not None and record.rows >= limit:
                return

    def chunks(self) -> Generator[bytes]:
        try:
            yield from encode(self.fmt, self.plan.transform.schema, self._batches())
            self.record.outcome = "granted"
        except Exception as exc:
            self.record.outcome = "failed"
            self.record.detail = f"{type(exc).__name__}: {exc}"
            log.exception(
                "Streaming %s failed after %d rows", self.plan.state.table, self.record.rows
            )
            raise
        finally:
            self.finish()

    def finish(self) -> None:
        """Close the lake scan and write the audit record (once)."""
        if self._finished:
            return
        self._finished = True
        self.reader.close()
        self.record.duration_s = round(time.perf_counter() - self._started, 4)
        self.config.audit.write(self.record)


async def until_disconnected(request: Request, stream: DataStream) -> AsyncIterator[bytes]:
    """Stop reading the lake when the client goes away (the server would otherwise stream
    the rest of the range into a closed connection); the audit then says ``aborted``."""
    chunks = stream.chunks()
    try:
        async for chunk in iterate_in_threadpool(chunks):
            if await request.is_disconnected():
                break
            yield chunk
    finally:
        # Shielded: on a disconnect Starlette cancels this task, and closing (which ends
        # the lake scan and writes the audit record) must still happen.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(chunks.close)
            await run_in_threadpool(stream.finish)
