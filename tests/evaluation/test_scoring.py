"""Scores and comparisons: determinism, A/A soundness, detection of a subgroup regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clearlake.errors import ClearlakeError
from clearlake.evaluation.metrics import BUILTIN, Metric
from clearlake.evaluation.scoring import (
    COMPARISON_COLUMNS,
    SCORES_COLUMNS,
    Comparison,
    compare_predictions,
    overall_verdict,
    regressions,
    score_predictions,
    seed_spread,
    verdict,
    without_baseline,
)
from clearlake.project.config import TaskConfig

TASK = TaskConfig.model_validate(
    {
        "dataset": "flights",
        "target": "delay",
        "type": "regression",
        "suites": {"train": {"start": "2024-01-01", "end": "2024-01-31"}, "holdout": {
            "start": "2024-02-01", "end": "2024-02-28"}},
        "metrics": ["mae", "rmse"],
        "subgroups": ["carrier", "origin", "month"],
    }
)  # fmt: skip
METRICS: list[Metric] = [BUILTIN["regression"][m] for m in ("mae", "rmse")]


def score(frame: pd.DataFrame, task: TaskConfig = TASK) -> pd.DataFrame:
    return score_predictions(frame, task, METRICS)


def compare(a: pd.DataFrame, b: pd.DataFrame, task: TaskConfig = TASK) -> Comparison:
    return compare_predictions(a, b, task, METRICS)


def with_verdict(**update: object) -> TaskConfig:
    return TASK.model_copy(update={"verdict": TASK.verdict.model_copy(update=update)})


CARRIERS = ["UA", "B6", "EV", "DL", "AA", "MQ", "US", "9E", "WN", "VX"]


def predictions(seed: int, rows: int = 20_000, *, noise: float = 12.0) -> pd.DataFrame:
    """Synthetic held-out rows: heavy-tailed delays and a model with ``noise`` error."""
    rng = np.random.default_rng(seed)
    actual = rng.standard_t(3, rows) * 20
    return pd.DataFrame(
        {
            "row_id": [f"f{i:06d}" for i in range(rows)],
            "carrier": rng.choice(CARRIERS, rows, p=np.linspace(2, 0.5, 10) / 12.5),
            "origin": rng.choice(["EWR", "JFK", "LGA"], rows),
            "month": rng.choice(["1", "2"], rows),
            "actual": actual,
            "prediction": actual + rng.normal(0, noise, rows),
        }
    )


def with_predictions(frame: pd.DataFrame, values: pd.Series[float]) -> pd.DataFrame:
    return frame.assign(prediction=values)


def test_scores_shape_and_intervals() -> None:
    scores = score(predictions(1))
    assert list(scores.columns) == SCORES_COLUMNS
    assert set(scores["subgroup_kind"]) == {"overall", "carrier", "origin", "month"}
    assert (scores["ci_low"] <= scores["value"]).all() and (
        scores["value"] <= scores["ci_high"]
    ).all()
    mae = scores[scores["metric"] == "mae"].set_index("subgroup")
    width = mae["ci_high"] - mae["ci_low"]
    assert width["all"] < width["UA"] < width["VX"]  # fewer rows, wider interval
    assert mae.loc["all", "n_rows"] == 20_000


def test_small_subgroups_are_not_scored() -> None:
    frame = predictions(2, rows=3_000)
    scores = score(frame, TASK.model_copy(update={"min_subgroup_rows": 250}))
    counts = frame["carrier"].value_counts()
    assert set(scores[scores["subgroup_kind"] == "carrier"]["subgroup"]) == set(
        counts[counts >= 250].index
    )


def test_same_inputs_give_the_same_numbers() -> None:
    frame = predictions(3)
    pd.testing.assert_frame_equal(score(frame), score(frame))
    other = with_predictions(frame, frame["prediction"] + 0.5)
    first = compare(other, frame).frame
    pd.testing.assert_frame_equal(first, compare(other, frame).frame)
    reseeded = with_verdict(bootstrap=TASK.verdict.bootstrap.model_copy(update={"seed": 7}))
    assert not score(frame, reseeded)["ci_low"].equals(score(frame)["ci_low"])


def test_identical_copy_is_no_significant_change_everywhere() -> None:
    frame = predictions(4)
    compared = compare(frame.copy(), frame)
    result = compared.frame
    assert list(result.columns) == COMPARISON_COLUMNS
    assert set(result["verdict"]) == {"no significant change"}
    assert (result["delta"] == 0).all() and (result["ci_low"] == 0).all()
    assert compared.rows_compared == len(frame) and compared.rows_only_candidate == 0


@pytest.mark.parametrize(
    ("min_relative_effect", "multiplicity"), [(0.0, "bonferroni"), (0.01, "bonferroni"),
                                              (0.0, "holm"), (0.0, "bh")]
)  # fmt: skip
def test_equally_good_models_rarely_differ(min_relative_effect: float, multiplicity: str) -> None:
    """A/A with independent errors of the same size: false alarms stay below the level.

    Twenty independent pairs; each comparison tests ~17 subgroups x 2 metrics. Without the
    Bonferroni widening most pairs would show some "significant" subgroup by chance.
    """
    config = with_verdict(min_relative_effect=min_relative_effect, multiplicity=multiplicity)
    flagged_pairs = 0
    for seed in range(20):
        truth = predictions(100 + seed, rows=8_000)
        rng = np.random.default_rng(500 + seed)
        other = with_predictions(truth, truth["actual"] + rng.normal(0, 12.0, len(truth)))
        result = compare(other, truth, config).frame
        flagged_pairs += bool(result["verdict"].isin(["improved", "regressed"]).any())
    assert flagged_pairs <= 3  # family-wise rate ~5%: expected 1 of 20


def test_regression_in_one_subgroup_is_found_and_named() -> None:
    baseline = predictions(5)
    worse = baseline["prediction"] + np.where(baseline["carrier"] == "WN", 8.0, 0.0)
    candidate = with_predictions(baseline, worse)
    result = compare(candidate, baseline).frame
    carriers = result[(result["subgroup_kind"] == "carrier") & (result["metric"] == "mae")]
    verdicts = dict(zip(carriers["subgroup"], carriers["verdict"], strict=True))
    assert verdicts.pop("WN") == "regressed"
    assert set(verdicts.values()) <= {"no significant change", "inconclusive"}
    named = regressions(result)
    assert any(r.startswith("mae for carrier=WN +") for r in named)


def test_improvement_is_found() -> None:
    baseline = predictions(6)
    better = with_predictions(
        baseline, baseline["actual"] + (baseline["prediction"] - baseline["actual"]) * 0.7
    )
    result = compare(better, baseline).frame
    assert overall_verdict(result, "mae") == "improved"
    overall = result[(result["subgroup_kind"] == "overall") & (result["metric"] == "mae")]
    assert overall["ci_high"].item() < 0


def test_comparison_refuses_different_targets() -> None:
    baseline = predictions(7, rows=1_000)
    shifted = baseline.assign(actual=baseline["actual"] + 1)
    with pytest.raises(ClearlakeError, match="different suite versions"):
        compare(shifted, baseline)


def test_comparison_uses_only_shared_rows() -> None:
    baseline = predictions(8, rows=2_000)
    compared = compare(baseline.iloc[100:], baseline.iloc[:1_900])
    assert compared.rows_compared == 1_800
    assert (compared.rows_only_candidate, compared.rows_only_baseline) == (100, 100)


def test_without_baseline_keeps_candidate_values() -> None:
    scores = score(predictions(9, rows=2_000))
    frame = without_baseline(scores)
    assert list(frame.columns) == COMPARISON_COLUMNS
    assert set(frame["verdict"]) == {"no baseline"}
    assert frame["candidate_value"].tolist() == scores["value"].tolist()
    assert overall_verdict(frame, "mae") == "no baseline"


@pytest.mark.parametrize(
    ("delta", "significant", "lower_is_better", "min_absolute", "expected", "mde"),
    [
        (-2.0, True, True, 0.0, "improved", 0.0),
        (2.0, True, True, 0.0, "regressed", 0.0),
        (2.0, True, False, 0.0, "improved", 0.0),
        (0.5, False, True, 0.0, "no significant change", 0.0),
        (0.05, True, True, 0.0, "no significant change", 0.0),  # significant but below 1%
        (0.5, True, True, 1.0, "no significant change", 0.0),  # below the absolute minimum
        (0.5, False, True, 1.0, "inconclusive", 1.5),  # could not have seen 1.0
        (2.0, True, True, 1.0, "regressed", 1.5),  # seen anyway
    ],
)
def test_verdict(
    delta: float,
    significant: bool,
    lower_is_better: bool,
    min_absolute: float,
    expected: str,
    mde: float,
) -> None:
    assert (
        verdict(
            delta=delta,
            significant=significant,
            baseline_value=10.0,
            lower_is_better=lower_is_better,
            min_relative_effect=0.01,
            min_absolute_effect=min_absolute,
            mde=mde,
        )
        == expected
    )


def test_small_subgroup_is_inconclusive_with_its_mde() -> None:
    """A subgroup too small to see the declared 1% is inconclusive (not "no change")."""
    baseline = predictions(11, rows=6_000)
    rng = np.random.default_rng(12)
    other = with_predictions(baseline, baseline["actual"] + rng.normal(0, 12.0, len(baseline)))
    result = compare(other, baseline).frame
    mae = result[result["metric"] == "mae"].set_index("subgroup")
    small = str(mae["n_rows"].idxmin())
    row, whole = mae.loc[small].to_dict(), mae.loc["all"].to_dict()
    assert row["verdict"] == "inconclusive"
    assert float(row["mde"]) > float(row["min_effect"]) > 0
    assert float(whole["mde"]) < float(row["mde"])


def test_seed_spread_widens_the_interval_and_silences_seed_noise() -> None:
    """Two runs of a stochastic model: the row bootstrap alone calls the seed change a
    regression; with the baseline's measured seed spread it is not one."""
    truth = predictions(13, rows=20_000)
    shared = truth["actual"] + np.random.default_rng(14).normal(0, 10.0, len(truth))
    runs = [
        with_predictions(truth, shared + np.random.default_rng(s).normal(0.6, 1.0, len(truth)))
        for s in range(4)
    ]
    # A different seed shifts the model by a constant: the "candidate" is one more draw.
    runs = [r.assign(prediction=r["prediction"] + 3.0 * i) for i, r in enumerate(runs)]
    spread = seed_spread(runs[:3], TASK, METRICS)
    overall = spread[(spread["metric"] == "mae") & (spread["subgroup_kind"] == "overall")]
    assert overall["seed_sd"].item() > 0 and overall["runs"].item() == 3
    plain = compare(runs[3], runs[0]).frame
    with_seeds = compare_predictions(runs[3], runs[0], TASK, METRICS, seed_spread=spread).frame
    assert "regressed" in set(plain["verdict"])
    assert "regressed" not in set(with_seeds["verdict"])
    assert (with_seeds["se"] >= plain["se"]).all()
