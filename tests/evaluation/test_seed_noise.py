"""The gate's A/A false-alarm rate stays at or below its declared level for stochastic
model families the example does not use, seeded through the contract (``fit(train, seed)``).

Real runs on the shop's binary task: a random forest (bootstrap) and a gradient boosting
(subsample), each the champion of an A/A calibration — refitted under fresh seeds and
compared with itself through the gate's own code, with the seed noise every verdict uses
(pooled, chi-square upper bound). Both the share of blocked trials and the share of
significant rows (metric x subgroup, overall included) must stay at or below 5%.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_TASK, Shop, shop_environment
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.demo.repos import SampleCommit
from clearlake.evaluation import calibration, gate, seeds
from clearlake.evaluation.results import stored_frame
from clearlake.names import gate_calibration_key

pytestmark = pytest.mark.slow

FAMILY = """import numpy as np
from sklearn.ensemble import {cls}

class Model:
    def _x(self, frame):
        west = (frame['region'] == 'west').to_numpy(float)
        return np.column_stack([frame['amount'].to_numpy(float), west])
    def fit(self, train, seed=None):
        self.model = {cls}({args}, random_state=seed).fit(self._x(train), train['returned'])
    def predict(self, frame):
        return np.clip(self.model.predict_proba(self._x(frame))[:, 1], 0.01, 0.99)
"""
FOREST = SampleCommit(
    "Random forest (bootstrap)",
    {
        "model.py": FAMILY.format(
            cls="RandomForestClassifier",
            args="n_estimators=15, max_depth=4, bootstrap=True, min_samples_leaf=20",
        )
    },
)
BOOSTING = SampleCommit(
    "Gradient boosting (subsample)",
    {
        "model.py": FAMILY.format(
            cls="GradientBoostingClassifier", args="n_estimators=20, max_depth=2, subsample=0.5"
        )
    },
)
TRIALS = 8
KEY = gate_calibration_key(SHOP_TASK)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    home = tmp_path_factory.mktemp("seed-noise")
    with shop_environment(home, [SHOP_BASE_RATE, FOREST, BOOSTING]) as env:
        yield env


def calibrate(shop: Shop, champion: str) -> tuple[calibration.Calibration, pd.DataFrame]:
    shown = CliRunner().invoke(
        app, ["gate", "calibrate", SHOP_TASK, "--champion", champion, "--trials", str(TRIALS)]
    )
    assert shown.exit_code == 0, shown.output
    found = calibration.load(shop.store, KEY)
    table = stored_frame(shop.store, KEY)
    assert found is not None and table is not None and found.champion == champion
    return found, table


@pytest.mark.parametrize("index", [1, 2], ids=["random-forest", "gradient-boosting"])
def test_a_a_rates_stay_within_the_declared_level(shop: Shop, index: int) -> None:
    champion = shop.keys[index]
    found, table = calibrate(shop, champion)
    assert found.kind == "measured" and found.trials == TRIALS
    assert found.blocked / found.trials <= found.declared_level, found.headline()
    rows = int(table["trials"].sum())
    flagged = int(table["false_alarms"].sum())
    assert rows == TRIALS * len(table) and flagged / rows <= found.declared_level, (flagged, rows)
    assert "chi-square upper bound of the seed variance pooled over" in found.seed_note


def test_three_runs_widen_the_interval(shop: Shop) -> None:
    """The sd used is the upper bound: above the sample sd of the same runs, by the chi-square
    factor for their degrees of freedom, and the outcome's seed note says so."""
    forest = shop.keys[1]
    spread = seeds._cached(  # the measured spread of the forest, the boosting's baseline
        shop.store,
        seeds.spread_path(shop.store, SHOP_TASK, forest),
        seeds._settings_key(shop.project.task(SHOP_TASK)),
    )
    assert spread is not None and spread.frame is not None and spread.kind == "measured"
    task = shop.project.task(SHOP_TASK)
    only = task.model_copy(update={"seeds": task.seeds.model_copy(update={"pool": False})})
    noise = seeds.seed_noise(
        shop.store, task_name=SHOP_TASK, task=only, spread=spread, sides=[forest]
    )
    assert noise.frame is not None
    merged = spread.frame.merge(noise.frame, on=seeds.KEYS, suffixes=("_sample", "_used"))
    assert (merged["runs_used"] == 3).all()  # seed 0 and the two seed runs: 2 df
    moving = merged[merged["seed_sd_sample"] > 0]
    factor = moving["seed_sd_used"] / moving["seed_sd_sample"]
    assert np.allclose(factor, np.sqrt(2 / 0.10258658877510107))  # chi2.ppf(0.05, 2)
    boosting = gate.load_outcome(shop.store, SHOP_TASK, shop.keys[2])
    assert boosting is not None and boosting.baseline == forest
    assert "one-sided 95% chi-square upper bound" in boosting.seed_note
