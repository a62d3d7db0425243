"""Compactions of the candidate index that overlap lose no row: real processes append and
compact at once (a manual ``compact`` beside the leaderboard's automatic one), then every
candidate any of them appended must be in the index, once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from clearlake.evaluation import candidate_index
from clearlake.lake.store import LakeStore

TASK = "arrival_delay"
WORKERS, ROUNDS = 3, 12
WORKER = """
import sys, time
from pathlib import Path
import pandas as pd
from clearlake.evaluation import candidate_index
from clearlake.lake.store import LakeStore

url, worker, rounds, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
store = LakeStore(url)
while not go.exists():
    time.sleep(0.005)
for i in range(rounds):
    key = f"w{worker}@{worker * 1000 + i:07x}"
    scores = pd.DataFrame({"metric": ["mae"], "subgroup_kind": ["overall"], "subgroup": ["all"],
                           "value": [float(i)], "ci_low": [0.0], "ci_high": [1.0]})
    candidate_index.index_candidate(store, "arrival_delay", key, commit=None, scores=scores)
    candidate_index.compact(store, "arrival_delay", after=0)
"""


def test_overlapping_compactions_lose_no_row(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    candidate_index.compact(store, TASK, after=0)  # built, empty
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store.url, str(w), str(ROUNDS), str(go)],
            stderr=subprocess.PIPE,
        )
        for w in range(WORKERS)
    ]
    time.sleep(0.5)  # every worker imported and waiting (late ones only overlap less)
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    index = candidate_index.read_index(store, TASK)
    assert index is not None
    expected = {f"w{w}@{w * 1000 + i:07x}" for w in range(WORKERS) for i in range(ROUNDS)}
    assert set(index["candidate"]) == expected
    assert len(index) == len(expected)  # rows two compactions both folded: read once
    final = candidate_index.compact(store, TASK, after=0)
    assert set(final.index["candidate"]) == expected
    files = candidate_index.index_files(store, TASK)
    assert len(files.compacted) == 1 and not files.loose
