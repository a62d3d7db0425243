"""A rolling test suite moved between a baseline and its candidate: the comparison stays
paired, on the candidate's window, by re-predicting the baseline commit there once.

Real: a PostgreSQL source growing day by day, ``clearlake build``, a git repository with
two commits, the commit sensor and the evaluation job's runs (candidates out of process).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from live_project import add_day, create_source, day, write_project
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.demo import loop
from clearlake.demo.repos import SampleCommit, add_commit, init_repository
from clearlake.evaluation.windows import cache_partition, cache_table
from clearlake.lake.store import LakeStore
from clearlake.orchestration.code_location import load_definitions
from clearlake.orchestration.lineage import latest

pytestmark = pytest.mark.slow

MODEL = """
import numpy as np


class Model:
    def fit(self, train):
        self.rate = float(train["returned"].mean()) + {shift}

    def predict(self, frame):
        return np.full(len(frame), self.rate)
"""

REPOSITORY = """
    test_suite: recent
    seeds: {{runs: 0}}
    verdict:
      bootstrap: {{samples: 50, seed: 7}}
repositories:
  - name: returns-model
    location: "{location}"
    entrypoint: "model:Model"
"""


def test_a_baseline_is_re_predicted_on_the_window_its_candidate_was_scored_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_db: str
) -> None:
    create_source(postgres_db)
    folder = tmp_path / "project"
    write_project(folder, with_task=True, rolling=True)
    repo = init_repository(tmp_path / "repo")
    config = folder / "clearlake.yaml"
    config.write_text(config.read_text() + REPOSITORY.format(location=repo))
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    for name, value in {
        "CLEARLAKE_CONFIG": str(config),
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": postgres_db,
        "CLEARLAKE_LAKE_URL": (home / "lake").as_uri(),
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    lake = LakeStore((home / "lake").as_uri())
    runner = CliRunner()

    def build() -> None:
        result = runner.invoke(app, ["build"], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    for n in range(7):
        add_day(postgres_db, day(n))
    build()  # the rolling suite's newest partition: day 7, holding days 4..6
    base = add_commit(repo, SampleCommit("Base rate", {"model.py": MODEL.format(shift=0.0)}))
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        first = loop.run_until_quiet(load_definitions(), instance, lambda _: None)
    assert [e.success for e in first] == [True]

    add_day(postgres_db, day(7))
    build()  # the window moves: day 8, holding days 5..7
    candidate = add_commit(
        repo, SampleCommit("Shifted rate", {"model.py": MODEL.format(shift=0.05)})
    )
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        second = loop.run_until_quiet(load_definitions(), instance, lambda _: None)
        base_key, key = f"returns-model@{base[:7]}", f"returns-model@{candidate[:7]}"
        assert [e.key for e in second] == [key]
        old = latest(instance, names.predictions_key("returns"), base_key)
        new = latest(instance, names.predictions_key("returns"), key)
        comparison = latest(instance, names.comparison_key("returns"), key)
    assert old is not None and new is not None and comparison is not None
    assert old.metadata["test_window"] == f"{day(4)}..{day(6)}"
    assert new.metadata["test_window"] == f"{day(5)}..{day(7)}"
    assert comparison.metadata["baseline"] == base_key
    assert comparison.metadata["rows_only_baseline"] == "0"
    assert comparison.metadata["rows_only_candidate"] == "0"
    cached = lake.read_table(
        lake.partition_file(cache_table("returns"), cache_partition(base_key, (day(5), day(7))))
    )
    candidate_rows = lake.read_table(
        lake.partition_file("evaluation/returns/candidate_predictions", f"key={key}")
    )
    assert cached.column("row_id").to_pylist() == candidate_rows.column("row_id").to_pylist()
