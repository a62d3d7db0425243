"""A candidate report's provenance names what was evaluated: for a pipeline, every stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearlake.reports.candidate import candidate_provenance


@pytest.fixture
def empty_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path))
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", str(tmp_path / "lake"))
    return tmp_path


def test_a_combination_names_each_stage_commit_in_order(empty_lake: Path) -> None:
    record = candidate_provenance("late-features@1a2b3c4+late-arrivals@5d6e7f8")
    assert record["candidate_stages"] == "late-features@1a2b3c4 + late-arrivals@5d6e7f8"
    assert (record["candidate_repo"], record["candidate_commit"]) == ("late-arrivals", "5d6e7f8")


def test_a_single_repository_has_no_stage_list(empty_lake: Path) -> None:
    record = candidate_provenance("flight-delays@1a2b3c4")
    assert "candidate_stages" not in record
    assert record["candidate_commit"] == "1a2b3c4"
