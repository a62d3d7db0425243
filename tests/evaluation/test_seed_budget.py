"""An inconclusive comparison buys seed runs within its budget, with the level split over
its planned looks; it decides once the bought runs, averaged per side, shrink the seed
term, and otherwise the headline says what was spent and what would resolve the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from evaluation_env import SHOP_BASE_RATE, SHOP_TASK, Shop, shop_environment
from sklearn.ensemble import GradientBoostingRegressor

from assets.evaluation.candidates import task_metrics
from clearlake.demo.repos import SampleCommit
from clearlake.evaluation import gate, scoring, seeds, sequential
from clearlake.evaluation.metrics import BUILTIN
from clearlake.evaluation.results import stored_frame
from clearlake.evaluation.scoring import INCONCLUSIVE, NO_CHANGE, Comparison
from clearlake.evaluation.seeds import SeedNoise, SeedSpread
from clearlake.lake.json_records import read_json
from clearlake.names import comparison_key, predictions_key
from clearlake.project.config import TaskConfig

BOOSTING = """import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

DRAWS = {draws}

class Model:
    def _x(self, frame):
        west = (frame['region'] == 'west').to_numpy(float)
        return np.column_stack([frame['amount'].to_numpy(float), west])
    def fit(self, train, seed=None):
        rng = np.random.RandomState(seed)
        rng.random_sample(DRAWS)  # a harmless refactor: the random stream moves on
        self.model = GradientBoostingClassifier(
            n_estimators=20, max_depth=2, subsample={subsample}, random_state=rng
        ).fit(self._x(train), train['returned'])
    def predict(self, frame):
        return np.clip(self.model.predict_proba(self._x(frame))[:, 1], 0.01, 0.99)
"""


def boosting(message: str, draws: int, subsample: float = 0.5) -> SampleCommit:
    return SampleCommit(message, {"model.py": BOOSTING.format(draws=draws, subsample=subsample)})


def task_with(budget: int) -> TaskConfig:
    return TaskConfig.model_validate(
        {
            "dataset": "d",
            "target": "y",
            "type": "binary",
            "suites": {
                "train": {"start": "2024-01-01", "end": "2024-01-02", "role": "train"},
                "holdout": {"start": "2024-01-03", "end": "2024-01-04", "role": "test"},
            },
            "metrics": ["log_loss"],
            "seeds": {"budget_runs": budget},
        }
    )


def frame(verdict: str, *, se: float = 1.0, seed_sd: float = 0.6, mde: float = 2.8) -> pd.DataFrame:
    return pd.DataFrame(
        [{"verdict": verdict, "se": se, "seed_sd": seed_sd, "mde": mde, "min_effect": 2.0}]
    )


def row(found: pd.DataFrame) -> dict[str, Any]:
    return {str(k): v for k, v in found.iloc[0].items()}


def test_looks_split_the_level_and_stop_at_the_budget() -> None:
    task = task_with(8)
    assert sequential.planned_looks(task) == 3
    judged = sequential.look_task(task)
    assert judged.verdict.bootstrap.confidence == pytest.approx(1 - 0.05 / 3)
    asked: list[list[int]] = []

    def compare(bought: sequential.Bought) -> tuple[Comparison, SeedNoise]:
        runs = f"{len(bought.baseline)}+{len(bought.candidate)}"
        return Comparison(frame(INCONCLUSIVE), 1, 0, 0), SeedNoise(None, runs)

    def more(seeds: list[int]) -> sequential.Bought:
        asked.append(seeds)
        return sequential.Bought((pd.DataFrame(),) * 2, (pd.DataFrame(),) * 2)

    done = sequential.resolve(task, compare=compare, more=more)
    assert (done.spent, done.looks, asked) == (8, 3, [[1000, 1001], [1002, 1003]])
    assert done.noise.method == "4+4"  # every run of both sides reached the last look
    assert done.note(8) == (
        "seed budget: 8 of 8 extra seed runs spent in 2 extra look(s); metrics averaged over "
        "5 seed runs per side; level split over 3 planned looks (0.0167 each)"
    )
    assert sequential.planned_looks(task_with(0)) == 1 and sequential.look_task(task_with(0))
    assert sequential.resolve(task_with(0), compare=compare, more=more).note(0) == ""


def test_only_rows_held_back_by_the_seed_term_buy_runs() -> None:
    # se_rows = sqrt(1 - 2·0.36) = 0.53: the rows alone give MDE 1.48 < 2.0 → seed-limited
    assert sequential.seed_limited(frame(INCONCLUSIVE)).all()
    # a small suite: rows alone give MDE 2.8 > 2.0 → more seeds cannot help
    assert not sequential.seed_limited(frame(INCONCLUSIVE, seed_sd=0.0)).any()
    assert not sequential.seed_limited(frame(NO_CHANGE)).any()
    hint = gate.resolve_hint(row(frame(INCONCLUSIVE)))
    assert hint == (
        "more seed runs (seeds.budget_runs: without the seed term the MDE is 1.482) or a "
        "minimum effect of at least 2.8 (now 2)"
    )
    small = gate.resolve_hint(row(frame(INCONCLUSIVE, seed_sd=0.0)))
    assert small.startswith("a larger test suite (the rows alone give MDE 2.8)")


REGRESSION = TaskConfig.model_validate(
    {
        "dataset": "d",
        "target": "y",
        "type": "regression",
        "suites": {
            "train": {"start": "2024-01-01", "end": "2024-01-02", "role": "train"},
            "holdout": {"start": "2024-01-03", "end": "2024-01-04", "role": "test"},
        },
        "metrics": ["mae"],
        "subgroups": ["region"],
        "verdict": {"bootstrap": {"samples": 50}, "min_relative_effect": 0.03},
        "seeds": {"runs": 2, "budget_runs": 8},
    }
)


class Subsampled:
    """Gradient boosting on half-samples, seeded through the contract; a "commit" draws
    ``draws`` values first (a seed-only change)."""

    def __init__(self) -> None:
        rng = np.random.default_rng(7)
        self.train, self.test = self._rows(rng, 2_000), self._rows(rng, 4_000)

    @staticmethod
    def _rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
        x = rng.normal(size=(n, 3))
        y = 3 * x[:, 0] + np.sin(2 * x[:, 1]) + rng.normal(size=n)
        region = np.where(x[:, 2] > 0, "east", "west")
        return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "y": y, "region": region})

    def run(self, seed: int, draws: int) -> pd.DataFrame:
        rng = np.random.RandomState(seed)
        rng.random_sample(draws)
        columns = ["x0", "x1", "x2"]
        model = GradientBoostingRegressor(
            n_estimators=30, max_depth=3, subsample=0.5, random_state=rng
        ).fit(self.train[columns], self.train["y"])
        return pd.DataFrame(
            {
                "row_id": self.test.index.astype(str),
                "region": self.test["region"],
                "actual": self.test["y"],
                "prediction": model.predict(self.test[columns]),
            }
        )


def test_the_budgeted_top_up_decides_a_seed_only_change_inconclusive_at_two_seed_runs() -> None:
    """A real stochastic model, a seed-only commit, the baseline's 2 seed runs: every row is
    inconclusive for the seed term alone. The bought runs (4 per side) make each side's value
    a mean over 5 seeds, so the seed term shrinks as σ²/5 and the comparison decides "no
    significant change" — which tightening the bound of σ alone could not do."""
    model, metrics = Subsampled(), [BUILTIN["regression"]["mae"]]
    baseline, candidate = model.run(0, draws=0), model.run(0, draws=3)
    spread = scoring.seed_spread(
        [baseline, model.run(1, draws=0), model.run(2, draws=0)], REGRESSION, metrics
    )
    level, judged = REGRESSION.seeds.upper_bound_level, sequential.look_task(REGRESSION)
    fitted: list[int] = []
    seen: list[sequential.Bought] = []

    def bound(bought: sequential.Bought) -> pd.DataFrame:
        extra = sequential.bought_spreads(
            bought, candidate=candidate, task=REGRESSION, metrics=metrics
        )
        return seeds.upper_bound([spread, *extra], own=spread, level=level)[0]

    def compare(bought: sequential.Bought) -> tuple[Comparison, SeedNoise]:
        seen.append(bought)
        noise = bound(bought)
        found = scoring.compare_predictions(
            candidate,
            baseline,
            judged,
            metrics,
            seed_spread=noise,
            candidate_runs=bought.candidate,
            baseline_runs=bought.baseline,
        )
        return found, SeedNoise(noise, "")

    def more(look: list[int]) -> sequential.Bought:
        fitted.extend(look * 2)
        return sequential.Bought(
            tuple(model.run(s, draws=0) for s in look), tuple(model.run(s, draws=3) for s in look)
        )

    first = compare(sequential.Bought())[0].frame
    assert (first["verdict"] == INCONCLUSIVE).all(), first
    assert sequential.seed_limited(first).all()  # the rows alone would see the effect
    done = sequential.resolve(REGRESSION, compare=compare, more=more)
    decided = done.comparison.frame
    assert (decided["verdict"] == NO_CHANGE).all(), decided
    assert (done.spent, done.looks, len(fitted)) == (8, 3, 8)
    assert done.note(REGRESSION.seeds.budget_runs) == (
        "seed budget: 8 of 8 extra seed runs spent in 2 extra look(s); metrics averaged over "
        "5 seed runs per side; level split over 3 planned looks (0.0167 each)"
    )
    assert "means of the metric over 5 candidate and 5 baseline seed runs" in (
        done.comparison.interval
    )
    # The same runs used only to tighten the bound of σ, each side still one draw:
    unaveraged = scoring.compare_predictions(
        candidate, baseline, judged, metrics, seed_spread=bound(seen[-1])
    ).frame
    assert (unaveraged["verdict"] == INCONCLUSIVE).all(), unaveraged


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    home = tmp_path_factory.mktemp("seed-budget")
    commits = [SHOP_BASE_RATE, boosting("Boosting", 0), boosting("Refactor", 3)]
    with shop_environment(home, commits, seeds={"runs": 2, "budget_runs": 4}) as env:
        yield env


@pytest.mark.slow
def test_a_noisy_seed_only_change_is_decided_within_a_small_budget(shop: Shop) -> None:
    """Boosting on half-samples reseeded by a refactor: before seed runs were averaged, 8
    bought runs left it inconclusive (the seed term 2·σ² alone exceeded the minimum effect).
    Now its one extra look (4 runs: 3 per side averaged; 2 df from the baseline's own seed
    runs, 2 from the candidate's 3 runs, 1 from the baseline's 2 bought ones) decides it;
    the subgroups the budget could not decide stay listed."""
    found = gate.load_outcome(shop.store, SHOP_TASK, shop.keys[2])
    assert found is not None and found.baseline == shop.keys[1]
    assert found.status == gate.PASSED, found.details()
    assert found.seed_budget == (
        "seed budget: 4 of 4 extra seed runs spent in 1 extra look(s); metrics averaged over "
        "3 seed runs per side; level split over 2 planned looks (0.025 each)"
    )
    assert "and the seed runs bought for this comparison (2 spread(s)), 5 degrees of " in (
        found.seed_note
    )
    headline = found.headline()
    assert headline.startswith(f"passed vs {shop.keys[1]}: no significant regression; ")
    assert f"row(s) inconclusive; {found.seed_budget}; " in headline
    assert found.inconclusive and not any(
        t.startswith("log_loss overall") for t in found.inconclusive
    )


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """Boosting on 95% subsamples: a seed moves its log loss by 0.0002-0.0004 (sd)."""
    home = tmp_path_factory.mktemp("seed-budget-steady")
    commits = [
        SHOP_BASE_RATE,
        boosting("Boosting", 0, subsample=0.95),
        boosting("Refactor", 3, subsample=0.95),
    ]
    with shop_environment(home, commits, seeds={"runs": 2, "budget_runs": 8}) as env:
        yield env


def first_look(shop: Shop) -> pd.DataFrame:
    """The refactor's comparison as its first look judged it: the stored predictions of
    both sides, the baseline's cached seed spread (its 2 seed runs), no bought runs."""
    baseline, candidate = shop.keys[1], shop.keys[2]
    task = shop.project.task(SHOP_TASK)
    cached = read_json(shop.store, seeds.spread_path(shop.store, SHOP_TASK, baseline))
    assert cached is not None and cached["kind"] == "measured"
    spread = SeedSpread(
        pd.DataFrame(cached["spread"], columns=scoring.SPREAD_SCHEMA.names),
        cached["note"],
        cached["kind"],
    )
    noise = seeds.seed_noise(
        shop.store, task_name=SHOP_TASK, task=task, spread=spread, sides=[baseline, candidate]
    )
    frames = [
        stored_frame(shop.store, predictions_key(SHOP_TASK), k) for k in (baseline, candidate)
    ]
    assert frames[0] is not None and frames[1] is not None
    compared = scoring.compare_predictions(
        frames[1],
        frames[0],
        sequential.look_task(task),
        task_metrics(shop.project, task),
        seed_spread=noise.frame,
    )
    return compared.frame


@pytest.mark.slow
def test_bought_seed_runs_turn_an_inconclusive_refactor_into_a_decision(steady: Shop) -> None:
    """A quieter model's refactor: with the baseline's 2 seed runs the upper bound of the
    seed sd (2 degrees of freedom) hides any effect the size of the minimum, although the
    rows alone would see it; the runs bought within the budget shrink the bound and the
    same comparison passes, its headline saying what was spent."""
    first = first_look(steady)
    primary = first[(first["metric"] == "log_loss") & (first["subgroup_kind"] == "overall")]
    assert primary["verdict"].item() == INCONCLUSIVE  # what the gate saw at the first look
    assert sequential.seed_limited(primary).all()  # ...only for want of seed runs
    found = gate.load_outcome(steady.store, SHOP_TASK, steady.keys[2])
    assert found is not None and found.baseline == steady.keys[1]
    assert found.status == gate.PASSED, found.details()
    # subgroup rows stay seed-limited after the first extra look: both looks are bought
    assert found.seed_budget == (
        "seed budget: 8 of 8 extra seed runs spent in 2 extra look(s); metrics averaged over "
        "5 seed runs per side; level split over 3 planned looks (0.0167 each)"
    )
    assert "and the seed runs bought for this comparison (2 spread(s)), 9 degrees of " in (
        found.seed_note
    )
    headline = found.headline()
    assert headline.startswith(f"passed vs {steady.keys[1]}: no significant regression")
    assert f"; {found.seed_budget}; " in headline and "to resolve" not in headline
    comparison = stored_frame(steady.store, comparison_key(SHOP_TASK), steady.keys[2])
    assert comparison is not None
    decided = comparison[
        (comparison["metric"] == "log_loss") & (comparison["subgroup_kind"] == "overall")
    ]
    assert decided["verdict"].item() == NO_CHANGE
