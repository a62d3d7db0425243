"""Lake storage: Parquet files on a local filesystem or S3 behind one interface.

Layout (Hive-style partitions, one file per partition)::

    <root>/<table>/date=2024-01-01/data.parquet      daily-partitioned tables
    <root>/<table>/data.parquet                      snapshot tables
    <root>/drops/<name>/dropped=<key>/data.parquet   drop-zone ingests
    <root>/<table>/_tmp/<uuid>.tmp                   writes in progress (never *.parquet)
    <root>/<table>/_manifest.json                    daily tables: newest day, recent days' sizes

A partition is published atomically: the file is written to ``<table>/_tmp/`` and moved
into place (``os.replace`` locally; on S3 a server-side copy, which creates the final
object whole). Readers see the previous version or the new one, never half a file. Why
not stream to the final key on S3: pyarrow cannot abort an upload, and closing the stream
in an error path *completes* it, publishing a truncated partition. Temporaries sit outside
the partition folders with a non-Parquet suffix, so no reader's glob
(``<table>/*/*.parquet``) finds them; every write to a table first removes the table's
temporaries older than ``STALE_TMP_AGE`` (left by killed writers; younger ones may belong
to a live writer).

The manifest lets a reader find a daily table's newest day and its recent days' row counts
and sizes without listing every partition (a five-year table has 1,826): it is rewritten
atomically after each daily publication and keeps the newest ``MANIFEST_DAYS`` days. It is
a hint, never the truth: two writers racing can lose each other's entry, so readers fall
back to the Parquet footer for a day it lacks and probe the days after its newest day.

S3: ``s3://bucket/prefix`` is opened with ``FileSystem.from_uri``, which honours the AWS
SDK's variables (``AWS_ENDPOINT_URL_S3`` for MinIO or a test server, ``AWS_REGION``,
credentials; the chart sets them). S3 failures raise :class:`LakeUnavailableError`,
naming the lake and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
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
MANIFEST_FILE = "_manifest.json"
MANIFEST_DAYS = 62
"""Recent days a table's manifest keeps (two months: any trailing window the checks use)."""
DATE_PREFIX = "date="
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
    return f"{DATE_PREFIX}{value}"


@dataclass(frozen=True)
class DayEntry:
    """What the manifest says about one published day."""

    rows: int
    bytes: int
    content_hash: str


@dataclass(frozen=True)
class Manifest:
    """A daily table's newest published day and its newest days' sizes (see module doc)."""

    newest_day: dt.date | None
    days: dict[dt.date, DayEntry]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "newest_day": self.newest_day.isoformat() if self.newest_day else None,
                "days": {d.isoformat(): asdict(e) for d, e in sorted(self.days.items())},
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        newest = raw.get("newest_day")
        return cls(
            newest_day=dt.date.fromisoformat(newest) if newest else None,
            days={dt.date.fromisoformat(d): DayEntry(**e) for d, e in raw.get("days", {}).items()},
        )

    def with_day(self, day: dt.date, entry: DayEntry) -> Manifest:
        days = {**self.days, day: entry}
        kept = dict(sorted(days.items())[-MANIFEST_DAYS:])
        newest = max(day, self.newest_day) if self.newest_day else day
        return Manifest(newest_day=newest, days=kept)


EMPTY_MANIFEST = Manifest(newest_day=None, days={})


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

    def manifest_file(self, table: str) -> str:
        return f"{self.table_dir(table)}/{MANIFEST_FILE}"

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

    def manifest(self, table: str) -> Manifest:
        """The table's manifest (empty for a table without daily partitions or written
        before manifests existed): one small read, whatever the table's history."""
        path = self.manifest_file(table)
        try:
            with self._s3_errors("read"), self.fs.open_input_stream(path) as f:
                return Manifest.from_json(f.read())
        except FileNotFoundError:
            return EMPTY_MANIFEST

    def newest_day(self, table: str) -> dt.date | None:
        """The newest published day of a daily table: the manifest's, then the days after
        it that exist (a racing writer may have lost its update); a table without a
        manifest is listed once (written before manifests existed)."""
        newest = self.manifest(table).newest_day
        if newest is None:
            listed = self.list_partitions(table)
            return dt.date.fromisoformat(listed[-1]) if listed else None
        while self.exists(self.partition_file(table, date_partition(newest + _DAY))):
            newest += _DAY
        return newest

    def row_count(self, table: str, day: dt.date, manifest: Manifest | None = None) -> int:
        """A day's rows: from the manifest when it has the day, else the Parquet footer."""
        entry = (manifest or self.manifest(table)).days.get(day)
        if entry is not None:
            return entry.rows
        with (
            self._s3_errors("read"),
            self.fs.open_input_file(self.partition_file(table, date_partition(day))) as f,
        ):
            return pq.ParquetFile(f).metadata.num_rows

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
                self._publish(staging, final)
        except BaseException:
            # Closing completes the (hidden) staging object on S3; then it is removed.
            sink.close()
            self._discard(staging)
            raise
        written = WrittenPartition(
            path=final,
            uri=self.uri(final),
            row_count=rows,
            byte_size=sink.size,
            content_hash=sink.hexdigest,
            schema=schema,
        )
        day = _day_of(partition)
        if day is not None:
            self._record_day(table, day, DayEntry(rows, sink.size, sink.hexdigest[:16]))
        return written

    def _publish(self, staging: str, final: str) -> None:
        if self.is_local:
            self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
            os.replace(staging, final)
        else:
            self.fs.move(staging, final)  # CopyObject: the final key appears whole

    def _record_day(self, table: str, day: dt.date, entry: DayEntry) -> None:
        """Rewrite the table's manifest with ``day`` (atomically, like a partition)."""
        data = self.manifest(table).with_day(day, entry).to_json()
        staging = f"{self.tmp_dir(table)}/{uuid.uuid4().hex}{TMP_SUFFIX}"
        with self._s3_errors("write"):
            with self.fs.open_output_stream(staging) as out:
                out.write(data)
            try:
                self._publish(staging, self.manifest_file(table))
            except BaseException:
                self._discard(staging)
                raise

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


_DAY = dt.timedelta(days=1)


def _day_of(partition: str | None) -> dt.date | None:
    """The day of a ``date=YYYY-MM-DD`` partition (``None`` for any other partition)."""
    if partition is None or not partition.startswith(DATE_PREFIX):
        return None
    try:
        return dt.date.fromisoformat(partition.removeprefix(DATE_PREFIX))
    except ValueError:
        return None


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
