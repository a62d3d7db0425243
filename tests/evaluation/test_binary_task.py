"""A binary task end to end on real components: a project declared in a temporary folder, its
feature partitions in a private lake, a real git repository of candidate commits, real sensor
ticks and Dagster runs; scored with ROC AUC, log loss and Brier score per subgroup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from evaluation_env import evaluation_definitions
from flights_example.demo_repos import SampleCommit, add_commit, init_repository

from clearlake import runs
from clearlake.demo import loop
from clearlake.evaluation.results import stored_frame
from clearlake.lake.store import LakeStore
from clearlake.names import (
    candidate_partitions_name,
    comparison_key,
    leaderboard_key,
    predictions_key,
    scores_key,
    suite_key,
)
from clearlake.project.load import Project, load_project
from clearlake.settings import load_settings

FIRST = dt.date(2024, 3, 1)
DAYS = 40
ROWS_PER_DAY = 150
PROJECT = {
    "project": {"name": "shop"},
    "sources": {
        "orders": {
            "partition": {"column": "order_date", "first_day": FIRST.isoformat()},
            "keys": ["order_id"],
            "columns": {"order_id": "string not null", "order_date": "date32 not null"},
        }
    },
    "features": {
        "returns": {
            "function": "shop_features:returns",
            "inputs": ["orders"],
            "row_id": "order_id",
            "date_column": "order_date",
            "columns": {
                "order_id": "string not null",
                "order_date": "date32 not null",
                "region": "string not null",
                "amount": "float64 not null",
                "returned": "bool",
            },
        }
    },
    "tasks": {
        "returns": {
            "dataset": "returns",
            "target": "returned",
            "type": "binary",
            "suites": {
                "train": {"start": "2024-03-01", "end": "2024-03-20", "role": "train"},
                "holdout": {"start": "2024-03-21", "end": "2024-04-09", "role": "test"},
            },
            "metrics": ["roc_auc", "log_loss", "brier"],
            "primary_metric": "log_loss",
            "subgroups": ["region", {"name": "basket", "column": "amount", "bins": [50, 150]}],
            "min_subgroup_rows": 150,
            "baseline_wait_seconds": 5,
        }
    },
}
BASE_RATE = SampleCommit(
    "Base rate",
    {
        "model.py": "import numpy as np\n\nclass Model:\n"
        "    def fit(self, train):\n        self.rate = float(train['returned'].mean())\n"
        "    def predict(self, frame):\n        return np.full(len(frame), self.rate)\n"
    },
)
LOGISTIC = SampleCommit(
    "Logistic regression on amount and region",
    {
        "model.py": "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n\n"
        "class Model:\n"
        "    def _x(self, frame):\n"
        "        x = pd.get_dummies(frame[['region']]).astype(float)\n"
        "        x['amount'] = frame['amount'] / 100\n"
        "        return x.reindex(columns=getattr(self, 'columns', x.columns), fill_value=0.0)\n"
        "    def fit(self, train):\n"
        "        x = self._x(train)\n        self.columns = x.columns\n"
        "        self.model = LogisticRegression().fit(x, train['returned'])\n"
        "    def predict(self, frame):\n"
        "        return self.model.predict_proba(self._x(frame))[:, 1]\n"
    },
)
TWO_COLUMNS = SampleCommit(
    "Return both class probabilities",
    {
        "model.py": LOGISTIC.files["model.py"].replace(
            "predict_proba(self._x(frame))[:, 1]", "predict_proba(self._x(frame))"
        )
    },
)


def values(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {
        str(k): float(v) for k, v in zip(frame.index, frame[column].to_numpy(float), strict=True)
    }


def write_features(store: LakeStore) -> None:
    """Orders whose return probability grows with the amount and is high in region 'west'."""
    rng = np.random.default_rng(42)
    schema = pa.schema(
        [
            pa.field("order_id", pa.string(), nullable=False),
            pa.field("order_date", pa.date32(), nullable=False),
            pa.field("region", pa.string(), nullable=False),
            pa.field("amount", pa.float64(), nullable=False),
            pa.field("returned", pa.bool_()),
        ]
    )
    for i in range(DAYS):
        day = FIRST + dt.timedelta(days=i)
        region = rng.choice(["north", "south", "west"], ROWS_PER_DAY)
        amount = rng.gamma(2.0, 50.0, ROWS_PER_DAY)
        logit = -2.5 + amount / 80 + np.where(region == "west", 1.0, 0.0)
        returned = rng.random(ROWS_PER_DAY) < 1 / (1 + np.exp(-logit))
        table = pa.table(
            {
                "order_id": [f"{day:%Y%m%d}-{n:04d}" for n in range(ROWS_PER_DAY)],
                "order_date": [day] * ROWS_PER_DAY,
                "region": region.tolist(),
                "amount": amount,
                "returned": returned.tolist(),
            },
            schema=schema,
        )
        path = store.partition_file("features/returns", f"date={day.isoformat()}")
        store.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        pq.write_table(table, path, filesystem=store.fs)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, object]]]:
    home = tmp_path_factory.mktemp("shop-home")
    repo = home / "returns-model"
    config = dict(PROJECT)
    config["repositories"] = [
        {"name": "returns-model", "task": "returns", "location": str(repo),
         "entrypoint": "model:Model"}
    ]  # fmt: skip
    (home / "project").mkdir()
    path = home / "project" / "clearlake.yaml"
    path.write_text(yaml.safe_dump(config))
    store = LakeStore(str(home / "lake"))
    write_features(store)
    init_repository(repo)
    shas = [
        add_commit(repo, c, timestamp=1_714_557_600 + 3600 * i)
        for i, c in enumerate([BASE_RATE, LOGISTIC, TWO_COLUMNS])
    ]
    variables = {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_LAKE_URL": store.url,
        "CLEARLAKE_CONFIG": str(path),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    (home / "dagster").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        project = load_project(path)
        instance = dg.DagsterInstance.get()
        definitions = evaluation_definitions(project, load_settings())
        suites = [suite_key("returns", s) for s in ("train", "holdout")]
        made = runs.materialize(definitions, instance, suites)
        assert made.success, runs.failure_message(made)
        done = loop.run_until_quiet(definitions, instance, lambda _: None)
        loop.refresh_leaderboards(definitions, instance, project)
        keys = [f"returns-model@{s[:7]}" for s in shas]
        yield (
            project,
            {
                "store": store,
                "instance": instance,
                "keys": keys,
                "outcomes": {e.key: e for e in done},
            },
        )
        instance.dispose()


def test_commits_ran_on_the_task_job_and_partitions(
    shop: tuple[Project, dict[str, object]],
) -> None:
    _, found = shop
    instance, keys = found["instance"], found["keys"]
    assert isinstance(instance, dg.DagsterInstance) and isinstance(keys, list)
    assert sorted(instance.get_dynamic_partitions(candidate_partitions_name("returns"))) == sorted(
        keys
    )
    outcomes = found["outcomes"]
    assert isinstance(outcomes, dict)
    assert [outcomes[k].job for k in keys] == ["candidate_evaluation__returns"] * 3


def test_scores_per_subgroup_with_the_binary_metrics(
    shop: tuple[Project, dict[str, object]],
) -> None:
    _, found = shop
    store, keys = found["store"], found["keys"]
    assert isinstance(store, LakeStore) and isinstance(keys, list)
    predictions = stored_frame(store, predictions_key("returns"), keys[1])
    assert predictions is not None
    assert list(predictions.columns) == ["row_id", "region", "basket", "actual", "prediction"]
    assert set(predictions["actual"]) == {0.0, 1.0}
    assert predictions["prediction"].between(0, 1).all()
    assert set(predictions["basket"]) == {"<50", "[50, 150)", ">=150"}
    scores = stored_frame(store, scores_key("returns"), keys[1])
    assert scores is not None
    assert set(scores["metric"]) == {"roc_auc", "log_loss", "brier"}
    assert set(scores["subgroup_kind"]) == {"overall", "region", "basket"}
    auc = scores[scores["metric"] == "roc_auc"].set_index("subgroup")
    assert 0.6 < values(auc, "value")["all"] < 0.9
    assert (auc["ci_low"] < auc["value"]).all() and (auc["value"] < auc["ci_high"]).all()
    base = stored_frame(store, scores_key("returns"), keys[0])
    assert base is not None
    base_auc = base[(base["metric"] == "roc_auc") & (base["subgroup_kind"] == "overall")]
    assert base_auc["value"].item() == 0.5  # one probability for every row: no ranking


def test_logistic_regression_improves_on_the_base_rate(
    shop: tuple[Project, dict[str, object]],
) -> None:
    _, found = shop
    store, keys = found["store"], found["keys"]
    assert isinstance(store, LakeStore) and isinstance(keys, list)
    first = stored_frame(store, comparison_key("returns"), keys[0])
    assert first is not None and set(first["verdict"]) == {"no baseline"}
    compared = stored_frame(store, comparison_key("returns"), keys[1])
    assert compared is not None
    overall = compared[compared["subgroup_kind"] == "overall"].set_index("metric")
    assert overall.loc["roc_auc", "verdict"] == "improved"
    assert values(overall, "delta")["roc_auc"] > 0
    assert overall.loc["log_loss", "verdict"] == "improved"
    assert values(overall, "ci_high")["log_loss"] < 0
    assert overall.loc["brier", "verdict"] == "improved"
    assert "regressed" not in set(compared["verdict"])
    board = stored_frame(store, leaderboard_key("returns"))
    assert board is not None and set(board["candidate"]) == set(keys[:2])


def test_two_probability_columns_fail_that_candidate_only(
    shop: tuple[Project, dict[str, object]],
) -> None:
    _, found = shop
    keys, outcomes = found["keys"], found["outcomes"]
    assert isinstance(keys, list) and isinstance(outcomes, dict)
    failed = outcomes[keys[2]]
    assert not failed.success
    assert "2 values per row, expected one" in (failed.error or "")
    assert "probability of the positive class in [0, 1]" in (failed.error or "")
    assert outcomes[keys[1]].success
