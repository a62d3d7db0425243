"""The candidate index on a real lake: appends, upserts, bounded compaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from clearlake.evaluation import candidate_index as ci
from clearlake.evaluation.git import CommitInfo
from clearlake.lake.store import LakeStore

TASK = "t"
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def commit(i: int) -> CommitInfo:
    return CommitInfo(f"{i:040x}", f"commit {i}\n\nbody", "a <a@b>", T0 + dt.timedelta(hours=i), ())


def scores(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["mae", "mae"],
            "subgroup_kind": ["overall", "carrier"],
            "subgroup": ["all", "UA"],
            "value": [value, value + 1],
            "ci_low": [value - 1, value],
            "ci_high": [value + 1, value + 2],
        }
    )


def test_appends_upsert_and_compaction_is_bounded(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    assert ci.read_index(store, TASK) is None  # never built: the caller rebuilds
    ci.compact(store, TASK, after=0)  # an empty lake: an empty index
    keys = [f"r@{i:07x}" for i in range(ci.COMPACT_AFTER + 2)]
    for i, key in enumerate(keys):
        ci.index_candidate(store, TASK, key, commit=commit(i))  # started: commit only
    ci.index_candidate(store, TASK, keys[0], commit=commit(0), scores=scores(3.0))  # scored
    assert len(ci.loose_files(store, TASK)) == len(keys) + 1
    index = ci.read_index(store, TASK)
    assert index is not None and index["candidate"].nunique() == len(keys)
    assert ci.scored(index)["candidate"].tolist() == [keys[0]] * 2  # the newest rows won
    compaction = ci.compact(store, TASK)
    assert len(compaction.folded) == len(keys) + 2  # the loose files and the empty fold
    assert ci.scored(compaction.index)["candidate"].tolist() == [keys[0]] * 2
    assert ci.loose_files(store, TASK) == []
    folder = tmp_path / "lake" / ci.index_table(TASK)
    names = {p.name for p in folder.iterdir()} - {"_tmp"}  # folded folders gone
    assert len(names) == 1 and names.pop().startswith(ci.COMPACTED_PREFIX)
    ci.index_candidate(store, TASK, keys[1], commit=commit(1), scores=scores(5.0))
    assert ci.compact(store, TASK).folded == []  # below the bound: nothing rewritten
    after = ci.read_index(store, TASK)
    assert after is not None
    rows = ci.scored(after)
    assert set(rows["candidate"]) == {keys[0], keys[1]}
    assert rows[rows["candidate"] == keys[1]]["value"].tolist() == [5.0, 6.0]
    assert ci.subject(after.loc[after["candidate"] == keys[1], "message"].iloc[0]) == "commit 1"
