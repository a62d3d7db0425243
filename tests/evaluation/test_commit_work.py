"""One new commit does the same work after a long history as after a short one.

Two histories of the flights example's task are synthesised (``SHORT`` and ``LONG``
candidates) with the files and Dagster records real evaluation writes, the candidate index
included; then commits arrive one by one, and after each the ``leaderboard`` asset (real
Dagster run, in process) and ``clearlake candidates``' listing run against the history.
Files opened, listings made and entries listed are counted through the store's filesystem,
and Dagster lookups through the instance: the counts must be equal for both histories,
commit after commit. (Before the index, each step opened 2–4 files per candidate.)
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import dagster as dg
import pytest

from assets.evaluation.leaderboard import leaderboard_asset
from clearlake.cli.candidates import listed_candidates
from clearlake.evaluation import candidate_index
from clearlake.project.load import current_project
from clearlake.settings import Settings, load_settings
from clearlake.testing import history, work

TASK, REPO = "arrival_delay", "flight-delays"
SHORT, LONG = 10, 1_000
"""The benchmark (benchmarks/history_scale.py) measures 10 vs 10,000 candidates."""


@dataclass
class History:
    settings: Settings
    instance: dg.DagsterInstance
    size: int


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("CLEARLAKE_LAKE_URL", "CLEARLAKE_CONFIG", "CLEARLAKE_SOURCE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path))  # restored after the test
    yield tmp_path


def synthesised(root: Path, size: int, *, index: bool = True) -> History:
    os.environ["CLEARLAKE_HOME"] = str(root)
    settings = load_settings()
    (root / "dagster").mkdir(parents=True)
    instance = dg.DagsterInstance.local_temp(str(root / "dagster"))
    metric = current_project(settings).task(TASK).primary
    history.synthesise_candidates(
        instance,
        work.counting_store(settings.lake_url),
        task=TASK,
        repo=REPO,
        count=size,
        metric=metric,
        index=index,
        records=False,  # the steps measured must not read them; they cost ~35 ms a candidate
    )
    return History(settings, instance, size)


def leaderboard(item: History) -> dg.ExecuteInProcessResult:
    os.environ["CLEARLAKE_HOME"] = str(item.settings.home)
    result = dg.materialize(
        [leaderboard_asset(current_project(item.settings), TASK)],
        instance=item.instance,
        resources={"lake": work.CountingLakeResource(url=item.settings.lake_url)},
    )
    assert result.success
    return result


def new_commit_work(item: History, index: int) -> dict[str, object]:
    """One more candidate evaluated, then the per-commit steps; what each of them did."""
    project = current_project(item.settings)
    url = item.settings.lake_url
    history.synthesise_candidates(
        item.instance,
        work.counting_store(url),
        task=TASK,
        repo=REPO,
        count=1,
        metric=project.task(TASK).primary,
        start=item.size + index,
        records=False,
    )
    observed: dict[str, object] = {}
    before = Counter(work.file_work(url))
    result = leaderboard(item)
    observed["leaderboard_files"] = dict(Counter(work.file_work(url)) - before)
    output = result.asset_materializations_for_node(result.all_node_events[0].node_name)[0]
    assert output.metadata["candidates"].value == item.size + index + 1
    counted = work.CountingInstance(item.instance)
    before = Counter(work.file_work(url))
    total, page = listed_candidates(
        store=work.counting_store(url),
        instance=cast(dg.DagsterInstance, counted),
        project=project,
        tasks=[TASK],
        repo=None,
        limit=20,
        offset=0,
        settings=item.settings,
    )
    assert total == item.size + index + 1
    assert page[0]["candidate"].startswith(f"{REPO}@") and page[0]["gate"] == "passed"
    assert page[0]["message"] == f"synthesised commit {item.size + index}"
    observed["candidates_files"] = dict(Counter(work.file_work(url)) - before)
    observed["candidates_dagster"] = {
        k: v for k, v in counted.counts.items() if k != "other:get_dynamic_partitions"
    }
    return observed


def test_one_new_commit_does_constant_work(homes: Path) -> None:
    short, long = synthesised(homes / "short", SHORT), synthesised(homes / "long", LONG)
    for index in range(2):  # commits arriving one after another
        seen = [new_commit_work(item, index) for item in (short, long)]
        assert seen[0] == seen[1], seen
        # the compacted index and the loose files of the new commits (pyarrow opens each twice)
        assert seen[0]["leaderboard_files"]["open"] == 2 * (2 + index), seen  # type: ignore[index]


def test_index_is_built_once_from_a_lake_written_before_it(homes: Path) -> None:
    """An upgraded lake has scores, comparisons and records but no index: the first reader
    builds it from them (once), and it holds what an always-indexed lake holds."""
    old, fresh = synthesised(homes / "old", 5, index=False), synthesised(homes / "fresh", 5)
    store = work.counting_store(old.settings.lake_url)
    assert not candidate_index.is_built(store, TASK)
    listed = [
        listed_candidates(
            store=work.counting_store(item.settings.lake_url),
            instance=item.instance,
            project=current_project(item.settings),
            tasks=[TASK],
            repo=None,
            limit=3,
            offset=0,
            settings=item.settings,
        )
        for item in (old, fresh)
    ]
    assert listed[0] == listed[1] and listed[0][0] == 5
    assert candidate_index.is_built(store, TASK)
    rebuilt, written = (
        candidate_index.read_index(work.counting_store(i.settings.lake_url), TASK)
        for i in (old, fresh)
    )
    assert rebuilt is not None and written is not None
    columns = [c for c in candidate_index.INDEX_COLUMNS if c != "indexed_at"]
    assert (
        rebuilt[columns]
        .sort_values(columns)
        .reset_index(drop=True)
        .equals(written[columns].sort_values(columns).reset_index(drop=True))
    )
    opened = work.file_work(old.settings.lake_url)["open"]
    candidate_index.read_index(store, TASK)  # built: one file, never the scan again
    assert work.file_work(old.settings.lake_url)["open"] - opened == 2
