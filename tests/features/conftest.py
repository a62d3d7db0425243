"""A private lake for feature tests: the shared sample lake's tables, linked, plus room to write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clearlake.lake.store import LakeStore
from clearlake.lake.tables import lake_tables


def link_lake(source: LakeStore, root: Path) -> LakeStore:
    """A lake whose source tables are the shared ones (read-only use) and whose derived
    tables (features, evaluation) are written under ``root`` only."""
    root.mkdir(parents=True, exist_ok=True)
    for table in lake_tables():
        os.symlink(Path(source.root) / table, root / table)
    return LakeStore(str(root))


@pytest.fixture
def private_lake(tmp_path: Path, sample_lake: LakeStore) -> LakeStore:
    return link_lake(sample_lake, tmp_path / "lake")
