"""The monitor's statistics against hand computations and simulated stable/degraded days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clearlake.evaluation.metrics import BUILTIN, Outcome
from clearlake.monitoring import decisions, detection, episodes
from clearlake.monitoring.decomposition import decompose, weighted_value
from clearlake.monitoring.drift import psi
from clearlake.monitoring.statistics import (
    BOOTSTRAP,
    DEGRADED,
    INCONCLUSIVE,
    WELCH,
    Sample,
    compare,
    decide,
    fixed_window_days,
    window_level,
)
from clearlake.project.config import MonitorConfig
from tests.monitoring.synthetic import FIRST, TASK, days

MAE = BUILTIN["regression"]["mae"]
RMSE = BUILTIN["regression"]["rmse"]
MONITOR = MonitorConfig.model_validate({"reference": {"suite": "train"}})


def test_welch_on_per_row_losses_matches_scipy() -> None:
    recent, reference = days(3, rows=400, seed=1), days(20, rows=400, seed=2)
    tests = compare(Sample(recent, TASK), Sample(reference, TASK), [MAE])
    row = tests[tests["subgroup_kind"] == "overall"].iloc[0]
    a = np.abs(recent["actual"] - recent["prediction"])
    b = np.abs(reference["actual"] - reference["prediction"])
    welch = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    assert row["method"] == WELCH
    assert row["delta"] == pytest.approx(a.mean() - b.mean())
    assert row["se"] == pytest.approx(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    assert row["p_value"] == pytest.approx(welch.pvalue, abs=2e-3)  # z vs t, 1,200 rows
    assert set(tests["subgroup"]) == {"all", "north", "south", "west"}


def test_a_metric_that_is_not_a_mean_uses_a_two_sample_bootstrap() -> None:
    recent, reference = days(2, rows=300, seed=3), days(10, rows=300, seed=4)
    tests = compare(Sample(recent, TASK), Sample(reference, TASK), [RMSE], samples=400)
    row = tests[tests["subgroup_kind"] == "overall"].iloc[0]
    assert row["method"] == BOOTSTRAP
    # rmse of N(0, 1) noise: se ≈ sqrt(1/(2n) + 1/(2m)) by the delta method
    expected = np.sqrt(1 / (2 * len(recent)) + 1 / (2 * len(reference)))
    assert row["se"] == pytest.approx(expected, rel=0.2)


def test_decide_holm_minimum_effect_and_inconclusive() -> None:
    tests = pd.DataFrame(
        {
            "metric": ["mae", "mae", "mae"],
            "subgroup_kind": ["overall", "region", "region"],
            "subgroup": ["all", "west", "tiny"],
            "reference_value": [1.0, 1.0, 1.0],
            "recent_value": [1.005, 1.2, 1.3],
            "delta": [0.005, 0.2, 0.3],
            "se": [0.001, 0.02, 0.5],
            "p_value": [1e-6, 1e-20, 0.3],
        }
    )
    decided = decide(
        tests, level=0.01, power=0.8, floors={"mae": (0.01, 0.0)}, lower_is_better={"mae": True}
    ).set_index("subgroup")
    # significant but below the 1% minimum effect: not an alert; well measured: stable
    assert decided.loc["all", "state"] == "stable"
    assert decided.loc["west", "state"] == DEGRADED
    assert decided.loc["tiny", "state"] == INCONCLUSIVE  # MDE ≈ (z(.01/3)+z(.8))·0.5 ≫ 0.01
    assert decided.loc["west", "p_adjusted"] == pytest.approx(3e-20)


def test_decomposition_against_a_hand_computation() -> None:
    # Reference: region a (2 rows, errors 1, 1), b (2 rows, errors 3, 3): MAE 2.
    # New window: a 1 row (error 2), b 3 rows (errors 3, 3, 3): MAE 2.75.
    ref = Outcome(np.zeros(4), np.array([1.0, 1.0, 3.0, 3.0]))
    new = Outcome(np.zeros(4), np.array([2.0, 3.0, 3.0, 3.0]))
    parts = decompose(
        MAE,
        reference=ref,
        reference_groups=np.array(["a", "a", "b", "b"]),
        new=new,
        new_groups=np.array(["a", "b", "b", "b"]),
        kind="region",
    )
    # re-weighted reference: 1/4·1 + 3/4·3 = 2.5 → mix +0.5, within +0.25 (a got worse by 1)
    assert parts.reference == pytest.approx(2.0)
    assert parts.reweighted == pytest.approx(2.5)
    assert parts.mix_shift == pytest.approx(0.5) and parts.within == pytest.approx(0.25)
    assert parts.total == pytest.approx(parts.mix_shift + parts.within)
    assert "mix shift by region +0.5, within region +0.25" in parts.text()


def test_weighted_auc_equals_the_auc_of_replicated_rows() -> None:
    auc = BUILTIN["binary"]["roc_auc"]
    actual = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    scores = np.array([0.9, 0.8, 0.4, 0.3, 0.6, 0.7])
    weights = np.array([2.0, 1.0, 1.0, 1.0, 0.0, 1.0])  # sums to 6 rows
    replicated = np.repeat(np.arange(6), weights.astype(int))
    expected = auc.value(Outcome(actual[replicated], scores[replicated]))
    assert weighted_value(auc, Outcome(actual, scores), weights) == pytest.approx(expected)


def test_psi_against_a_hand_computation() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi(reference, current) == pytest.approx(expected, rel=1e-3)
    numbers = pd.Series(np.random.default_rng(0).normal(0, 1, 5000))
    assert psi(numbers, numbers.sample(frac=1, random_state=1)) == pytest.approx(0, abs=1e-9)
    assert psi(numbers, numbers + 1.0) > 0.2


def monitor(**fields: Any) -> MonitorConfig:
    return MonitorConfig.model_validate({"reference": {"suite": "train"}, **fields})


def simulate(labelled: pd.DataFrame, reference: pd.DataFrame, config: MonitorConfig) -> Any:
    state = episodes.MonitorState(task="t")
    sample = Sample(reference, TASK)
    all_days = decisions.pending_days(list(labelled["day"]), state, config)
    events, _ = decisions.run(
        state, labelled, sample, days=all_days, task=TASK, monitor=config, metrics=[MAE]
    )
    return state, events


def test_ninety_stable_days_raise_no_alert() -> None:
    reference = days(28, rows=300, seed=10, first=FIRST - dt.timedelta(days=28))
    state, events = simulate(days(90, rows=300, seed=11), reference, monitor())
    assert events == [] and state.episodes == []
    assert state.last_decision == (FIRST + dt.timedelta(days=89)).isoformat()


def test_a_degraded_subgroup_opens_one_episode_then_resolves_once() -> None:
    reference = days(28, rows=600, seed=20, first=FIRST - dt.timedelta(days=28))
    labelled = days(60, rows=600, seed=21, degrade={"west": 1.3}, from_day=20, until_day=35)
    state, events = simulate(labelled, reference, monitor(min_relative_effect=0.1))
    assert state.open_episodes() == []
    assert [(e.id, event) for e, event in events] == [
        (events[0][0].id, "opened"),
        (events[0][0].id, "resolved"),
    ]
    episode = events[0][0]
    assert episode.subgroup == "west" and episode.metrics == ["mae"]
    opened = dt.date.fromisoformat(episode.opened)
    assert FIRST + dt.timedelta(days=20) <= opened <= FIRST + dt.timedelta(days=23)
    assert dt.date.fromisoformat(str(episode.resolved)) >= FIRST + dt.timedelta(days=35)
    text = episodes.message("t", "repo@abc1234", episode, "opened")
    assert "degraded for region=west" in text and "welch z on per-row losses" in text
    assert "mix shift by region" in text and "window" in text and "interval" in text


def test_the_per_test_level_splits_the_declared_level() -> None:
    assert window_level(monitor()) == pytest.approx(0.05 / (90 * 6))
    assert window_level(monitor(cadence="week")) == pytest.approx(0.05 / (13 * 6))


def test_fixed_window_days_is_the_textbook_power_calculation() -> None:
    # effect 0.1, sd 1 both, 1,000 rows/day, huge reference, one-sided 0.05, power 0.8:
    # n = ((1.645 + 0.842) / 0.1)² = 618.3 rows → 0.618 days
    needed = fixed_window_days(
        effect=0.1,
        sd_recent=1.0,
        sd_reference=1.0,
        rows_per_day=1000,
        reference_rows=1e12,
        level=0.05,
        power=0.8,
    )
    assert needed == pytest.approx(0.6183, rel=1e-3)


def test_windows_skip_days_without_rows() -> None:
    labelled = days(3, rows=100, seed=5)
    rows = detection.trailing(labelled, FIRST + dt.timedelta(days=10), 8)
    assert rows.empty
    out = detection.evaluate(
        labelled,
        Sample(days(5, rows=100, seed=6), TASK),
        end=FIRST + dt.timedelta(days=2),
        task=TASK,
        monitor=monitor(windows=[1, 2, 30]),
        metrics=[MAE],
    )
    assert sorted(set(out["window_days"])) == [1, 2, 30]
    assert out[out["window_days"] == 30]["n_recent"].max() == 300


def test_weekly_cadence_decides_on_sundays() -> None:
    state = episodes.MonitorState(task="t")
    labelled_days = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range(14)]
    pending = decisions.pending_days(labelled_days, state, monitor(cadence="week"))
    assert [d.isoweekday() for d in pending] == [7, 7]


def test_a_new_watched_model_closes_the_old_ones_episodes_once() -> None:
    state = episodes.MonitorState(task="t", watched="m@1111111")
    state.episodes.append(
        episodes.Episode("region", "west", "2025-02-01", ["mae"], [], delivered=["opened"])
    )
    state.evidence_from["region=west"] = "2025-01-20"
    events = episodes.replace_model(state, "m@2222222", day="2025-02-10")
    assert [(e.id, event) for e, event in events] == [("region=west@2025-02-01", "resolved")]
    assert state.open_episodes() == [] and state.evidence_from == {}
    text = episodes.message("t", "m@2222222", events[0][0], "resolved")
    assert "closed for region=west on 2025-02-10" in text
    assert "the watched model changed from m@1111111 to m@2222222" in text
    assert events[0][0].pending() == ["resolved"]
    assert episodes.replace_model(state, "m@2222222", day="2025-02-11") == []
