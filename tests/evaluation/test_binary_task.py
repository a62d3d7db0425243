"""A binary task end to end on real components: a project declared in a temporary folder, its
feature partitions in a private lake, a real git repository of candidate commits, real sensor
ticks and Dagster runs; scored with ROC AUC, log loss and Brier score per subgroup."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_TASK, Shop, shop_environment
from flights_example.demo_repos import SampleCommit

from clearlake.evaluation.results import stored_frame
from clearlake.names import (
    candidate_partitions_name,
    comparison_key,
    leaderboard_key,
    predictions_key,
    scores_key,
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


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    home = tmp_path_factory.mktemp("shop-home")
    with shop_environment(home, [SHOP_BASE_RATE, LOGISTIC, TWO_COLUMNS]) as env:
        yield env


def test_commits_ran_on_the_task_job_and_partitions(shop: Shop) -> None:
    partitions = shop.instance.get_dynamic_partitions(candidate_partitions_name(SHOP_TASK))
    assert sorted(partitions) == sorted(shop.keys)
    assert [shop.outcomes[k].job for k in shop.keys] == ["candidate_evaluation__returns"] * 3


def test_scores_per_subgroup_with_the_binary_metrics(shop: Shop) -> None:
    store, keys = shop.store, shop.keys
    predictions = stored_frame(store, predictions_key(SHOP_TASK), keys[1])
    assert predictions is not None
    assert list(predictions.columns) == ["row_id", "region", "basket", "actual", "prediction"]
    assert set(predictions["actual"]) == {0.0, 1.0}
    assert predictions["prediction"].between(0, 1).all()
    assert set(predictions["basket"]) == {"<50", "[50, 150)", ">=150"}
    scores = stored_frame(store, scores_key(SHOP_TASK), keys[1])
    assert scores is not None
    assert set(scores["metric"]) == {"roc_auc", "log_loss", "brier"}
    assert set(scores["subgroup_kind"]) == {"overall", "region", "basket"}
    auc = scores[scores["metric"] == "roc_auc"].set_index("subgroup")
    assert 0.6 < values(auc, "value")["all"] < 0.9
    assert (auc["ci_low"] < auc["value"]).all() and (auc["value"] < auc["ci_high"]).all()
    base = stored_frame(store, scores_key(SHOP_TASK), keys[0])
    assert base is not None
    base_auc = base[(base["metric"] == "roc_auc") & (base["subgroup_kind"] == "overall")]
    assert base_auc["value"].item() == 0.5  # one probability for every row: no ranking


def test_logistic_regression_improves_on_the_base_rate(shop: Shop) -> None:
    store, keys = shop.store, shop.keys
    first = stored_frame(store, comparison_key(SHOP_TASK), keys[0])
    assert first is not None and set(first["verdict"]) == {"no baseline"}
    compared = stored_frame(store, comparison_key(SHOP_TASK), keys[1])
    assert compared is not None
    overall = compared[compared["subgroup_kind"] == "overall"].set_index("metric")
    assert overall.loc["roc_auc", "verdict"] == "improved"
    assert values(overall, "delta")["roc_auc"] > 0
    assert overall.loc["log_loss", "verdict"] == "improved"
    assert values(overall, "ci_high")["log_loss"] < 0
    assert overall.loc["brier", "verdict"] == "improved"
    assert "regressed" not in set(compared["verdict"])
    board = stored_frame(store, leaderboard_key(SHOP_TASK))
    assert board is not None and set(board["candidate"]) == set(keys[:2])


def test_two_probability_columns_fail_that_candidate_only(shop: Shop) -> None:
    failed = shop.outcomes[shop.keys[2]]
    assert not failed.success
    assert "2 values per row, expected one" in (failed.error or "")
    assert "probability of the positive class in [0, 1]" in (failed.error or "")
    assert shop.outcomes[shop.keys[1]].success
