from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from clearlake.errors import ConfigurationError
from clearlake.lake.store import TMP_DIR, LakeStore

SCHEMA = pa.schema([("x", pa.int64()), ("y", pa.string())])


def batches(n: int) -> list[pa.RecordBatch]:
    return [
        pa.record_batch([pa.array(range(n)), pa.array([str(i) for i in range(n)])], schema=SCHEMA)
    ]


def test_write_publishes_one_file_with_hash_and_counts(tmp_path: Path) -> None:
    store = LakeStore(tmp_path.as_uri())
    written = store.write("t", "date=2013-01-01", SCHEMA, batches(100))
    assert written.row_count == 100
    assert Path(written.path) == tmp_path / "t" / "date=2013-01-01" / "data.parquet"
    assert written.byte_size == Path(written.path).stat().st_size
    assert written.content_hash == store.file_hash(written.path)
    assert store.list_partitions("t") == ["2013-01-01"]
    assert [p.name for p in (tmp_path / "t" / "date=2013-01-01").iterdir()] == ["data.parquet"]
    assert not list((tmp_path / "t" / TMP_DIR).iterdir())


def test_same_data_same_hash_and_changed_data_new_hash(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path))
    first = store.write("t", None, SCHEMA, batches(10))
    again = store.write("t", None, SCHEMA, batches(10))
    changed = store.write("t", None, SCHEMA, batches(11))
    assert first.content_hash == again.content_hash
    assert changed.content_hash != first.content_hash


def test_failed_write_keeps_previous_version(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path))
    before = store.write("t", "date=2013-01-01", SCHEMA, batches(5))

    def broken() -> Iterator[pa.RecordBatch]:
        yield batches(3)[0]
        raise RuntimeError("source connection lost")

    with pytest.raises(RuntimeError, match="source connection lost"):
        store.write("t", "date=2013-01-01", SCHEMA, broken())
    assert store.file_hash(before.path) == before.content_hash
    assert store.read_table(before.path).num_rows == 5
    assert [p.name for p in Path(before.path).parent.iterdir()] == ["data.parquet"]
    assert not list((tmp_path / "t" / TMP_DIR).iterdir())


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unsupported scheme 'gs'"):
        LakeStore("gs://bucket/lake")
