"""Lake JSON records are published whole: readers racing writers (threads and another
process) only ever read complete records; errors name the file.

The S3 side of the same race runs on the moto server in tests/stack/test_s3_lake.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from clearlake.errors import LakeRecordError
from clearlake.lake.json_records import json_path, read_json, write_json
from clearlake.lake.store import LakeStore

WRITES = 120
SIZE = 200_000
"""Rewrites per writer, bytes per record (200–400 kB): large enough that a plain in-place
write is caught half-done by a reader (the writer this replaced tore in every run)."""


def record(writer: str, n: int) -> dict[str, Any]:
    """A record whose size varies with ``n`` and that checks itself (length and digest)."""
    piece = f"{writer}:{n}:"
    body = piece * ((SIZE + SIZE // 10 * (n % 11)) // len(piece))
    return {
        "writer": writer,
        "n": n,
        "body": body,
        "sha": hashlib.sha256(body.encode()).hexdigest(),
    }


def whole(found: dict[str, Any]) -> bool:
    return hashlib.sha256(found["body"].encode()).hexdigest() == found["sha"]


WRITER = """
import sys
from clearlake.lake.json_records import write_json
from clearlake.lake.store import LakeStore
sys.path.insert(0, sys.argv[3])
from test_json_records import WRITES, record
store = LakeStore(sys.argv[1])
print("ready", flush=True)
for n in range(WRITES):
    write_json(store, sys.argv[2], record("process", n))
"""


def test_readers_never_see_a_partial_record_while_a_thread_and_a_process_rewrite_it(
    tmp_path: Path,
) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    path = json_path(store, "evaluation/shop/gate", "repo@1a2b3c4")
    write_json(store, path, record("first", 0))
    other = subprocess.Popen(
        [sys.executable, "-c", WRITER, store.url, path, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdout.readline().strip() == "ready"
    done = threading.Event()
    seen: list[tuple[str, int]] = []
    broken: list[str] = []

    def read_until_done() -> None:
        while not done.is_set():
            try:
                found = read_json(store, path)
            except LakeRecordError as exc:  # a torn file is not JSON
                broken.append(str(exc))
                continue
            assert found is not None
            if not whole(found):
                broken.append(f"{found['writer']}:{found['n']} is cut")
            seen.append((found["writer"], found["n"]))

    readers = [threading.Thread(target=read_until_done) for _ in range(2)]
    for reader in readers:
        reader.start()
    for n in range(WRITES):
        write_json(store, path, record("thread", n))
    assert other.wait(timeout=120) == 0
    done.set()
    for reader in readers:
        reader.join()

    assert broken == []
    assert {writer for writer, _ in seen} >= {"thread", "process"}  # the race did happen
    final = read_json(store, path)
    assert final is not None and (final["writer"], final["n"]) in {
        ("thread", WRITES - 1),
        ("process", WRITES - 1),
    }
    assert os.listdir(Path(path).parent) == ["repo@1a2b3c4.json"]  # no temporary left


def test_a_failed_write_keeps_the_previous_record_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    store = LakeStore(str(tmp_path))
    path = json_path(store, "evaluation/shop/seed_spread", "repo@1a2b3c4")
    write_json(store, path, {"runs": 3})

    looped: dict[str, Any] = {"runs": 4}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular reference"):
        write_json(store, path, looped)  # fails before anything is opened
    taken = json_path(store, "evaluation/shop/seed_spread", "taken")
    Path(taken, "inside").mkdir(parents=True)  # a folder where the record goes: rename fails
    with pytest.raises(OSError):
        write_json(store, taken, {"runs": 5})

    assert read_json(store, path) == {"runs": 3}
    assert sorted(os.listdir(Path(path).parent)) == ["repo@1a2b3c4.json", "taken.json"]


def test_missing_record_is_none_and_a_foreign_file_names_itself(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path))
    assert read_json(store, json_path(store, "evaluation/shop/gate", "absent")) is None
    cut = tmp_path / "evaluation" / "cut.json"
    cut.parent.mkdir(parents=True)
    cut.write_text('{"runs": 3, "spre')
    with pytest.raises(LakeRecordError, match=r"cut\.json: not JSON .*delete it and re-run"):
        read_json(store, str(cut))
    cut.write_text("[1, 2]")
    with pytest.raises(LakeRecordError, match=r"cut\.json: a JSON list, not an object"):
        read_json(store, str(cut))
