"""Lake storage: Parquet files on a local filesystem or S3 behind one interface.

Layout (Hive-style partitions, one file per partition)::

    <root>/<table>/date=2024-01-01/data.parquet      daily-partitioned tables
    <root>/<table>/data.parquet                      snapshot tables
    <root>/drops/<name>/dropped=<key>/data.parquet   drop-zone ingests
    <root>/<table>/_tmp/<uuid>.tmp                   writes in progress (never *.parquet)

A partition is published atomically: the file is written to ``<table>/_tmp/`` and moved
into place (``os.replace`` locally; on S3 a server-side copy, which creates the final
object whole). Readers see the previous version or the new one, never half a file. Why
not stream to the final key on S3: pyarrow cannot abort an upload, and closing the stream
in an error path *completes* it, publishing a truncated partition. Temporaries sit outside
the partition folders with a non-Parquet suffix, so no reader's glob
(``<table>/*/*.parquet``) finds them; every write to a table first removes the table's
temporaries older than ``STALE_TMP_AGE`` (left by killed writers; younger ones may belong
to a live writer).

S3: ``s3://bucket/prefix`` is opened with ``FileSystem.from_uri``, which honours the AWS
SDK's variables (``AWS_ENDPOINT_URL_S3`` for MinIO or a test server, ``AWS_REGION``,
credentials; the chart sets them). S3 failures raise :class:`LakeUnavailableError`,
naming the lake and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from clearlake.errors import ConfigurationError, LakeUnavailableError

DATA_FILE = "data.parquet"
TMP_DIR = "_tmp"
TMP_SUFFIX = ".tmp"
STALE_TMP_AGE = dt.timedelta(minutes=10)
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}
"""zstd level 1: measured 3x faster to write than level 3 for 2.5% larger files."""


@dataclass(frozen=True)
class WrittenPartition:
    """What one publication of a partition produced (recorded as Dagster metadata)."""

    path: str
    uri: str
    row_count: int
    byte_size: int
    content_hash: str
    schema: pa.Schema


class _HashingSink:
    """File-like wrapper that hashes every byte on its way to storage."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._size = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._size += view.nbytes
        self._raw.write(view)
        return view.nbytes

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        self._raw.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
            self.closed = True

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    @property
    def size(self) -> int:
        return self._size


class _Discard:
    """A sink that keeps nothing: for hashing what a partition's file would be."""

    def write(self, data: memoryview) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _write_parquet(sink: _HashingSink, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    rows = 0
    with pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS) as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def content_fingerprint(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> tuple[int, str]:
    """(rows, content hash) of the file :meth:`LakeStore.write` would publish, without
    writing it: the same rows in the same order give the recorded ``content_hash``, so a
    re-read day is compared with the lake without opening the lake."""
    sink = _HashingSink(_Discard())
    rows = _write_parquet(sink, schema, batches)
    sink.close()
    return rows, sink.hexdigest


def date_partition(day: dt.date | str) -> str:
    value = day.isoformat() if isinstance(day, dt.date) else day
    return f"date={value}"


class LakeStore:
    """Parquet tables under one root URL (``file:///…`` or ``s3://bucket/prefix``)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        parsed = urlparse(self.url)
        if parsed.scheme in ("", "file"):
            self.fs: pafs.FileSystem = pafs.LocalFileSystem()
            self.root = str(Path(parsed.path if parsed.scheme else url).resolve())
            self.is_local = True
        elif parsed.scheme == "s3":
            with self._s3_errors("open"):
                self.fs, root = pafs.FileSystem.from_uri(self.url)
            self.root = root.rstrip("/")
            self.is_local = False
        else:
            raise ConfigurationError(
                f"Lake URL {url!r} has unsupported scheme {parsed.scheme!r}: "
                "use file:///path or s3://bucket/prefix."
            )

    # -- paths -------------------------------------------------------------------------
    def table_dir(self, table: str) -> str:
        return f"{self.root}/{table}"

    def partition_file(self, table: str, partition: str | None) -> str:
        base = self.table_dir(table)
        return f"{base}/{partition}/{DATA_FILE}" if partition else f"{base}/{DATA_FILE}"

    def uri(self, path: str) -> str:
        """Where a person or tool finds ``path``: a local path, or ``s3://…``."""
        return path if self.is_local else f"s3://{path}"

    # -- reading -------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        with self._s3_errors("read"):
            return self.fs.get_file_info(path).type == pafs.FileType.File

    def list_partitions(self, table: str, prefix: str = "date=") -> list[str]:
        """Partition values present for ``table`` (sorted), e.g. ``['2024-01-01', …]``.

        One recursive listing (a single paginated LIST on S3), not a lookup per partition;
        a partition counts once its data file is published.
        """
        base = self.table_dir(table).rstrip("/")
        selector = pafs.FileSelector(base, allow_not_found=True, recursive=True)
        values = []
        with self._s3_errors("list"):
            infos = self.fs.get_file_info(selector)
        for info in infos:
            parts = info.path.removeprefix(f"{base}/").split("/")
            if (
                info.type == pafs.FileType.File
                and len(parts) == 2
                and parts[1] == DATA_FILE
                and parts[0].startswith(prefix)
            ):
                values.append(parts[0][len(prefix) :])
        return sorted(values)

    def list_files(self, table: str, suffix: str) -> dict[str, dt.datetime | None]:
        """Files directly in ``table``'s folder whose names end in ``suffix``: name (without
        the suffix) → modification time. One LIST on S3; an absent folder lists nothing."""
        selector = pafs.FileSelector(self.table_dir(table), allow_not_found=True)
        with self._s3_errors("list"):
            infos = self.fs.get_file_info(selector)
        return {
            info.base_name.removesuffix(suffix): info.mtime
            for info in infos
            if info.type == pafs.FileType.File and info.base_name.endswith(suffix)
        }

    def list_tables(self) -> list[str]:
        selector = pafs.FileSelector(self.root, allow_not_found=True)
        with self._s3_errors("list"):
            infos = self.fs.get_file_info(selector)
        return sorted(
            i.base_name
            for i in infos
            if i.type == pafs.FileType.Directory and not i.base_name.startswith((".", "_"))
        )

    def read_schema(self, path: str) -> pa.Schema:
        with self._s3_errors("read"), self.fs.open_input_file(path) as f:
            return pq.read_schema(f)

    def read_table(self, path: str, columns: list[str] | None = None) -> pa.Table:
        with self._s3_errors("read"):
            return pq.read_table(path, filesystem=self.fs, columns=columns)

    def file_hash(self, path: str) -> str:
        digest = hashlib.sha256()
        with self._s3_errors("read"), self.fs.open_input_stream(path) as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    # -- writing -------------------------------------------------------------------------
    def tmp_dir(self, table: str) -> str:
        """Where writes to ``table`` stage their file: outside every partition folder."""
        return f"{self.table_dir(table)}/{TMP_DIR}"

    def write(
        self,
        table: str,
        partition: str | None,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
    ) -> WrittenPartition:
        """Stream ``batches`` into one Parquet file and publish it atomically."""
        final = self.partition_file(table, partition)
        staging_dir = self.tmp_dir(table)
        staging = f"{staging_dir}/{uuid.uuid4().hex}{TMP_SUFFIX}"
        with self._s3_errors("write"):
            if self.is_local:  # S3 has no directories (create_dir would add marker objects)
                self.fs.create_dir(staging_dir, recursive=True)
            self._remove_stale_tmp(staging_dir)
            raw = self.fs.open_output_stream(staging)
        sink = _HashingSink(raw)
        try:
            rows = _write_parquet(sink, schema, batches)
            with self._s3_errors("write"):
                sink.close()
                if self.is_local:
                    self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
                    os.replace(staging, final)
                else:
                    self.fs.move(staging, final)  # CopyObject: the final key appears whole
        except BaseException:
            # Closing completes the (hidden) staging object on S3; then it is removed.
            sink.close()
            self._discard(staging)
            raise
        return WrittenPartition(
            path=final,
            uri=self.uri(final),
            row_count=rows,
            byte_size=sink.size,
            content_hash=sink.hexdigest,
            schema=schema,
        )

    def delete(self, path: str) -> None:
        if self.exists(path):
            with self._s3_errors("write"):
                self.fs.delete_file(path)

    def _discard(self, staging: str) -> None:
        # Already moved or never created; a stale one is removed by the next write.
        with suppress(OSError):
            self.fs.delete_file(staging)

    def _remove_stale_tmp(self, directory: str) -> None:
        """Remove leftovers of crashed writers (old enough not to belong to a live one)."""
        cutoff = dt.datetime.now(dt.UTC) - STALE_TMP_AGE
        for info in self.fs.get_file_info(pafs.FileSelector(directory, allow_not_found=True)):
            if info.base_name.endswith(TMP_SUFFIX) and info.mtime and info.mtime < cutoff:
                self.fs.delete_file(info.path)

    @contextmanager
    def _s3_errors(self, action: str) -> Iterator[None]:
        """S3 failures as one line naming the lake and the fix; local errors unchanged."""
        try:
            yield
        except OSError as exc:
            if self.url.startswith("s3://") and not isinstance(exc, FileNotFoundError):
                raise s3_error(self.url, action, exc) from None
            raise


_S3_FIXES = (
    (
        ("NO_SUCH_BUCKET", "NoSuchBucket", "bucket does not exist"),
        "The bucket does not exist: create it, or fix CLEARLAKE_LAKE_URL (chart: lake.url).",
    ),
    (
        (
            "ACCESS_DENIED",
            "AccessDenied",
            "INVALID_ACCESS_KEY_ID",
            "InvalidAccessKeyId",
            "SIGNATURE_DOES_NOT_MATCH",
            "SignatureDoesNotMatch",
            "Forbidden",
            "403",
        ),
        "The credentials were refused: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the "
        "pod's IAM role (chart: serviceAccounts.*.roleArn) and its access to the bucket.",
    ),
)
_S3_UNREACHABLE_FIX = (
    "Check that the S3 endpoint is reachable: AWS_ENDPOINT_URL_S3 (chart: lake.endpointUrl; "
    "unset on AWS) and AWS_REGION (chart: lake.region)."
)


def s3_error(url: str, action: str, exc: BaseException) -> LakeUnavailableError:
    """Translate a pyarrow S3 error (an ``OSError`` with the SDK's code) for a person."""
    text = " ".join(str(exc).split())
    reason = f"{action} failed ({text[:240]})"
    for markers, fix in _S3_FIXES:
        if any(marker in text for marker in markers):
            return LakeUnavailableError(url, reason, fix)
    return LakeUnavailableError(url, reason, _S3_UNREACHABLE_FIX)
