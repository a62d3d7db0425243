"""A writer killed mid-partition (a real SIGKILL) leaves the previous version visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from clearlake.lake.reader import read
from clearlake.lake.store import STALE_TMP_AGE, TMP_DIR, TMP_SUFFIX, LakeStore

SCHEMA = pa.schema([("n", pa.int64())])

SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa
    from clearlake.lake.store import LakeStore

    def batches():
        for i in range(10_000):
            yield pa.record_batch([pa.array(range(i * 1000, (i + 1) * 1000))], names=["n"])
            if i == 5:
                print("writing", flush=True)
            time.sleep(0.01)

    schema = pa.schema([("n", pa.int64())])
    LakeStore(sys.argv[1]).write("numbers", "date=2013-01-01", schema, batches())
    """
)


def test_killed_writer_leaves_previous_partition_and_rerun_succeeds(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path))
    before = store.write(
        "numbers", "date=2013-01-01", SCHEMA, [pa.record_batch([pa.array([1, 2, 3])], names=["n"])]
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    staging_dir = tmp_path / "numbers" / TMP_DIR
    staged = list(staging_dir.glob(f"*{TMP_SUFFIX}"))
    assert staged and staged[0].stat().st_size > 0, "the writer should be mid-write"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    # Readers see the previous version, whole; the half-written file stays hidden.
    assert store.file_hash(before.path) == before.content_hash
    assert read("numbers", store=store)["n"].tolist() == [1, 2, 3]
    assert store.list_partitions("numbers") == ["2013-01-01"]
    # A reader's glob over the partition folders never meets the leftover.
    glob = f"{tmp_path}/numbers/*/*.parquet"
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall() == [
        (3,)
    ]
    assert staged[0].exists(), "the killed writer's temporary stays until a later write"

    # The next write removes temporaries old enough not to belong to a live writer.
    old = time.time() - STALE_TMP_AGE.total_seconds() - 60
    os.utime(staged[0], (old, old))
    after = store.write(
        "numbers", "date=2013-01-01", SCHEMA, [pa.record_batch([pa.array([4, 5])], names=["n"])]
    )
    assert after.row_count == 2
    assert read("numbers", store=store)["n"].tolist() == [4, 5]
    assert not list(staging_dir.iterdir())
