"""Small JSON records kept in the lake beside its tables (gate outcomes, seed spreads,
calibrations, commit records, monitor state), written so a reader never sees half of one.

Local filesystem: the bytes go to a hidden temporary sibling (``.<name>.<uuid>.tmp``, same
folder, so the same filesystem) that is then renamed over the record: pyarrow's
``LocalFileSystem.move`` is ``rename(2)``, which replaces the target atomically (a reader
holds the old file or opens the new one). S3: the record is uploaded straight to its key;
S3 shows an object only once its upload completes, so a reader gets the old version or the
new one. A staging object would add nothing there: pyarrow's ``S3FileSystem.move`` is a
CopyObject and a DeleteObject, not a rename. The record is serialised *before* the stream
opens, because a pyarrow S3 stream closed in an error path completes its upload: no
exception of ours can publish a truncated record.

A writer killed between writing and renaming leaves its hidden ``.tmp`` sibling: no reader
lists it (not ``*.json``) and no sweep runs per write (folders such as the commit records
hold one file per candidate, so listing them on every write would cost what history costs).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from clearlake.errors import LakeRecordError
from clearlake.lake.store import LakeStore, s3_error

S3_READ_ATTEMPTS = 5
"""Reads of an S3 record that a concurrent rewrite may cut (see :func:`read_json`)."""


def json_path(store: LakeStore, table: str, key: str) -> str:
    """``<lake>/<table>/<key>.json``."""
    return f"{store.table_dir(table)}/{key}.json"


def write_json(store: LakeStore, path: str, value: Mapping[str, Any]) -> None:
    """Publish ``value`` at ``path`` whole (see the module doc), replacing any previous one."""
    data = json.dumps(value, sort_keys=True, indent=2, default=str).encode()
    if not store.is_local:
        with _s3_errors(store, "write"), store.fs.open_output_stream(path) as out:
            out.write(data)
        return
    folder, name = path.rsplit("/", 1)
    staging = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
    store.fs.create_dir(folder, recursive=True)
    try:
        with store.fs.open_output_stream(staging) as out:
            out.write(data)
        store.fs.move(staging, path)
    except BaseException:
        with suppress(OSError):  # never created, or already moved
            store.fs.delete_file(staging)
        raise


def read_json(store: LakeStore, path: str) -> dict[str, Any] | None:
    """The record at ``path`` (``None`` when there is none).

    Read whole in one request: pyarrow reads an S3 *stream* in 256 kB ranged GETs, which
    could splice two versions. A file is opened with a HEAD (its size) and read with one
    ranged GET, so a record replaced between the two reads as the first ``size`` bytes of
    the new version — a strict prefix of a JSON object, which never parses — and is read
    again (a smaller new version is read whole).
    """
    for attempt in range(1, S3_READ_ATTEMPTS + 1):
        try:
            with _s3_errors(store, "read"), store.fs.open_input_file(path) as f:
                data = f.read()
        except FileNotFoundError:
            return None
        try:
            loaded = json.loads(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if store.is_local or attempt == S3_READ_ATTEMPTS:
                raise LakeRecordError(store.uri(path), f"not JSON ({exc})") from None
            continue
        if not isinstance(loaded, dict):
            raise LakeRecordError(store.uri(path), f"a JSON {type(loaded).__name__}, not an object")
        return loaded
    raise AssertionError("unreachable: the last attempt returns or raises")


@contextmanager
def _s3_errors(store: LakeStore, action: str) -> Iterator[None]:
    """S3 failures as one line naming the lake and the fix (as :class:`LakeStore` says them)."""
    try:
        yield
    except OSError as exc:
        if store.is_local or isinstance(exc, FileNotFoundError):
            raise
        raise s3_error(store.url, action, exc) from None
