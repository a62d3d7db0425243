"""Reading a task's stored results: what the CLI, reports and notebooks need.

The lake IO manager stores an asset at the path its key spells (candidate partitions under
``key=<candidate>``), so a result is found from its asset key — which the caller takes
from ``clearlake.names`` (``predictions_key(task)``, ``scores_key(task)``,
``comparison_key(task)``, ``leaderboard_key(task)``): the library never builds one.

>>> key = comparison_key("late_arrival")  # doctest: +SKIP
>>> comparison = stored_frame(store, key, "late-arrivals@1a2b3c4")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from clearlake.evaluation.candidates import CandidateKey
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project


def stored_path(store: LakeStore, asset_path: Sequence[str], candidate: str | None = None) -> str:
    """The data file of an asset (of one candidate, for a candidate-partitioned asset)."""
    return store.partition_file("/".join(asset_path), f"key={candidate}" if candidate else None)


def stored_frame(
    store: LakeStore, asset_key: object, candidate: str | None = None
) -> pd.DataFrame | None:
    """The stored table of ``asset_key`` (a ``dg.AssetKey``) as pandas; None if absent."""
    path = stored_path(store, list(asset_key.path), candidate)  # type: ignore[attr-defined]
    return store.read_table(path).to_pandas() if store.exists(path) else None


def task_of_candidate(project: Project, key: str) -> str:
    """The task a candidate key belongs to (through its repository)."""
    return project.task_of(CandidateKey.parse(key).repo)
