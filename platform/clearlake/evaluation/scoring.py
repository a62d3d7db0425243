"""Scores of one candidate and comparisons of two, overall and per subgroup.

Method (documented for users in the candidate report as well):

* **Test rows.** A comparison joins candidate and baseline on ``row_id`` and bootstraps the
  *paired* delta — the same resampled rows for both, for every metric — so the noise both
  share cancels; ``se_rows`` is the bootstrap standard deviation of the delta.
* **Training seed.** The bootstrap sees fixed models: two runs of one stochastic algorithm
  under different seeds differ by more than it says (the issue measured 7 of 20 seed-only
  commits blocked). The seed-to-seed standard deviation ``seed_sd`` (per metric and
  subgroup: the chi-square upper bound of the variance pooled from seeded runs of the
  repository's commits, :func:`.seeds.seed_noise`) enters as
  ``se = sqrt(se_rows² + 2·seed_sd²)``: candidate and baseline are each one draw.
  With ``k`` seed runs per side (bought by :mod:`.sequential`), the estimand is the
  *expected metric over training seeds* (the model one fit deploys), estimated by the mean
  of the runs' metrics; each side's seed term then shrinks to ``σ²/k`` and ``seed_sd``
  stores ``σ·sqrt((1/k_candidate + 1/k_baseline)/2)``, so the identity above still holds.
  (The metric of seed-averaged predictions would judge an ensemble nobody deploys, better
  than any one fit by a margin that differs between the two sides.)
* **Multiplicity.** One family per comparison: every metric x every subgroup, overall
  included. Holm (family-wise) or Benjamini-Hochberg (false discoveries) adjust the
  normal p-values of ``delta / se``; Bonferroni multiplies them by the family size. The
  interval stored (``ci_low``/``ci_high``) and shown is ``delta ± z(alpha / 2m)·se``: a
  *simultaneous* (Bonferroni) normal interval over the family, seed-inflated — its text
  label is :func:`interval_label`. Beside it, ``boot_low``/``boot_high`` keep the per-row
  paired bootstrap percentile interval (test rows only, no multiplicity, no seed).
* **Minimum effect and power.** A verdict needs the delta to exceed the metric's minimum
  effect (absolute, or relative to the baseline's value). A row whose minimum detectable
  effect ``MDE = (z(alpha / 2m) + z(power))·se`` exceeds that minimum is *inconclusive*
  (too few rows or too much seed noise to see the effect the task cares about), never
  "no significant change". Identical predictions of a deterministic algorithm give a
  delta of exactly 0 with ``se = 0``: "no significant change", by construction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.errors import ClearlakeError
from clearlake.evaluation.metrics import (
    Metric,
    Outcome,
    bootstrap_values,
    min_effects,
    subgroup_seed,
)
from clearlake.evaluation.predictions import PREDICTION, ROW_ID, outcome
from clearlake.project.config import TaskConfig

SCORES_SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("subgroup_kind", pa.string()),
        ("subgroup", pa.string()),
        ("value", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("n_rows", pa.int64()),
    ]
)
COMPARISON_SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("subgroup_kind", pa.string()),
        ("subgroup", pa.string()),
        ("candidate_value", pa.float64()),
        ("baseline_value", pa.float64()),
        ("delta", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("boot_low", pa.float64()),
        ("boot_high", pa.float64()),
        ("verdict", pa.string()),
        ("n_rows", pa.int64()),
        ("se", pa.float64()),
        ("seed_sd", pa.float64()),
        ("mde", pa.float64()),
        ("min_effect", pa.float64()),
        ("p_adjusted", pa.float64()),
    ]
)
SPREAD_SCHEMA = pa.schema(
    [
        ("metric", pa.string()),
        ("subgroup_kind", pa.string()),
        ("subgroup", pa.string()),
        ("seed_sd", pa.float64()),
        ("runs", pa.int64()),
    ]
)
SCORES_COLUMNS: list[str] = SCORES_SCHEMA.names
COMPARISON_COLUMNS: list[str] = COMPARISON_SCHEMA.names
PERCENTILE_COLUMNS = ("boot_low", "boot_high")
"""Added after the first comparisons were stored: readers treat them as optional."""
IMPROVED, REGRESSED, NO_CHANGE, INCONCLUSIVE, NO_BASELINE = (
    "improved",
    "regressed",
    "no significant change",
    "inconclusive",
    "no baseline",
)


def subgroups(
    frame: pd.DataFrame, task: TaskConfig
) -> Iterator[tuple[str, str, np.ndarray[Any, Any]]]:
    """``(kind, subgroup, row indices)``: overall first, then each large-enough subgroup."""
    yield "overall", "all", np.arange(len(frame))
    for spec in task.subgroups:
        labels = frame[spec.label].astype(str).to_numpy()
        for value in sorted(set(labels)):
            rows = np.flatnonzero(labels == value)
            if len(rows) >= task.min_subgroup_rows:
                yield spec.label, value, rows


def _interval(values: np.ndarray[Any, Any], alpha: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def score_predictions(
    predictions: pd.DataFrame, task: TaskConfig, metrics: list[Metric]
) -> pd.DataFrame:
    """The ``candidate_scores`` frame (columns :data:`SCORES_COLUMNS`)."""
    whole = outcome(task, predictions)
    bootstrap = task.verdict.bootstrap
    alpha = 1.0 - bootstrap.confidence
    records = []
    for kind, subgroup, rows in subgroups(predictions, task):
        part = whole.subset(rows)
        boots = bootstrap_values(
            [(m, part) for m in metrics],
            samples=bootstrap.samples,
            seed=subgroup_seed(bootstrap.seed, kind, subgroup),
        )
        for metric, boot in zip(metrics, boots, strict=True):
            low, high = _interval(boot, alpha)
            records.append((metric.name, kind, subgroup, metric.value(part), low, high, len(rows)))
    return pd.DataFrame.from_records(records, columns=SCORES_COLUMNS)


def verdict(
    *,
    delta: float,
    significant: bool,
    baseline_value: float,
    lower_is_better: bool,
    min_relative_effect: float,
    min_absolute_effect: float = 0.0,
    mde: float = 0.0,
) -> str:
    """improved / regressed / no significant change / inconclusive of one metric in one
    subgroup: a significant delta beyond the minimum effect is a change; otherwise a row
    that could not have detected the minimum effect (``mde`` above it) is inconclusive."""
    floor = min_effect(baseline_value, relative=min_relative_effect, absolute=min_absolute_effect)
    if significant and np.isfinite(delta) and abs(delta) >= floor and delta != 0:
        better = delta < 0 if lower_is_better else delta > 0
        return IMPROVED if better else REGRESSED
    if not np.isfinite(mde) or mde > floor:
        return INCONCLUSIVE
    return NO_CHANGE


def min_effect(baseline_value: float, *, relative: float, absolute: float) -> float:
    """The smallest delta that counts as a change for a metric whose baseline is this."""
    base = abs(baseline_value) if np.isfinite(baseline_value) else 0.0
    return max(absolute, relative * base)


def adjusted_p_values(p: np.ndarray[Any, Any], method: str) -> np.ndarray[Any, Any]:
    """Family-wise (Bonferroni, Holm) or false-discovery (Benjamini-Hochberg) adjustment."""
    m = len(p)
    if m == 0:
        return p
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        steps = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:  # bh
        steps = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(steps, 1.0)
    return adjusted


@dataclass(frozen=True)
class Comparison:
    frame: pd.DataFrame
    rows_compared: int
    rows_only_candidate: int
    rows_only_baseline: int
    interval: str = ""
    """What ``ci_low``/``ci_high`` are (:func:`interval_label`)."""


def interval_label(
    *, confidence: float, family: int, z: float, runs: tuple[int, int] = (1, 1)
) -> str:
    """The kind of the stored interval, said wherever it is shown."""
    averaged = ""
    if runs != (1, 1):
        averaged = (
            f"; values are means of the metric over {runs[0]} candidate and {runs[1]} "
            f"baseline seed runs (seed term σ²·(1/{runs[0]} + 1/{runs[1]}))"
        )
    return (
        f"simultaneous {confidence:.0%} normal interval over the family's {family} rows "
        f"(Bonferroni z = {z:.3g}), seed-inflated: se = sqrt(bootstrap se² + 2·seed sd²)"
        f"{averaged}; boot_low/boot_high: per-row {confidence:.0%} paired bootstrap "
        "percentile interval (test rows only)"
    )


def compare_predictions(
    candidate: pd.DataFrame,
    baseline: pd.DataFrame,
    task: TaskConfig,
    metrics: list[Metric],
    *,
    seed_spread: pd.DataFrame | None = None,
    candidate_runs: Sequence[pd.DataFrame] = (),
    baseline_runs: Sequence[pd.DataFrame] = (),
) -> Comparison:
    """The ``candidate_comparison`` frame (columns :data:`COMPARISON_COLUMNS`).

    ``seed_spread`` (columns of :data:`SPREAD_SCHEMA`): the seed-to-seed standard
    deviation of one run's metric per metric and subgroup; absent rows count as 0.
    ``candidate_runs``/``baseline_runs``: more seed runs of each side (predictions frames
    covering the compared rows): each side's value is then the mean over its runs.
    """
    joined = candidate.merge(
        baseline[[ROW_ID, "actual", "prediction"]], on=ROW_ID, suffixes=("", "_baseline")
    )
    differing = int((joined["actual"] != joined["actual_baseline"]).sum())
    if differing:
        raise ClearlakeError(
            f"Candidate and baseline disagree on the target of {differing} shared row(s): they "
            "were evaluated on different suite versions. Re-evaluate the baseline."
        )
    if joined.empty:
        raise ClearlakeError(f"Candidate and baseline predictions share no rows ({ROW_ID}).")
    ours = [outcome(task, joined), *_run_outcomes(task, joined, candidate_runs)]
    theirs = [
        outcome(task, joined, prefix="_baseline"),
        *_run_outcomes(task, joined, baseline_runs),
    ]
    sides = len(ours) + len(theirs)
    # Each side's seed term is σ²/k: stored as the per-side sd that keeps se² = se_rows² +
    # 2·seed_sd² (what the MDE split of gate.resolve_hint and sequential.seed_limited read).
    shrink = float(np.sqrt((1 / len(ours) + 1 / len(theirs)) / 2))
    groups = list(subgroups(joined, task))
    bootstrap = task.verdict.bootstrap
    alpha = 1.0 - bootstrap.confidence
    spread = _spread_lookup(seed_spread)
    rows: list[dict[str, Any]] = []
    for kind, subgroup, index in groups:
        parts = [o.subset(index) for o in (*ours, *theirs)]
        boots = bootstrap_values(
            [(m, o) for m in metrics for o in parts],
            samples=bootstrap.samples,
            seed=subgroup_seed(bootstrap.seed, kind, subgroup),
        )
        for i, metric in enumerate(metrics):
            per_run = boots[sides * i : sides * (i + 1)]
            values = [metric.value(part) for part in parts]
            value = float(np.mean(values[: len(ours)]))
            base = float(np.mean(values[len(ours) :]))
            delta = value - base
            paired = np.mean(per_run[: len(ours)], axis=0) - np.mean(per_run[len(ours) :], axis=0)
            paired = paired[np.isfinite(paired)]
            se_rows = float(np.std(paired, ddof=1)) if len(paired) > 1 else float("nan")
            boot_low, boot_high = _interval(paired, alpha)
            seed_sd = spread.get((metric.name, kind, subgroup), 0.0) * shrink
            se = float(np.sqrt(se_rows**2 + 2 * seed_sd**2))
            relative, absolute = min_effects(task, metric.name)
            rows.append(
                {
                    "metric": metric.name,
                    "subgroup_kind": kind,
                    "subgroup": subgroup,
                    "candidate_value": value,
                    "baseline_value": base,
                    "delta": delta,
                    "boot_low": boot_low,
                    "boot_high": boot_high,
                    "n_rows": len(index),
                    "se": se,
                    "seed_sd": seed_sd,
                    "min_effect": min_effect(base, relative=relative, absolute=absolute),
                    "_p": _p_value(delta, se),
                }
            )
    frame = pd.DataFrame(rows)
    family = len(frame)
    z = NormalDist().inv_cdf(1 - alpha / (2 * family))
    frame["ci_low"] = frame["delta"] - z * frame["se"]
    frame["ci_high"] = frame["delta"] + z * frame["se"]
    frame["mde"] = (z + NormalDist().inv_cdf(task.verdict.power)) * frame["se"]
    frame["p_adjusted"] = adjusted_p_values(
        frame["_p"].to_numpy(dtype=float), task.verdict.multiplicity
    )
    frame["verdict"] = _verdicts(frame, metrics, alpha)
    return Comparison(
        frame=frame[COMPARISON_COLUMNS],
        rows_compared=len(joined),
        rows_only_candidate=len(candidate) - len(joined),
        rows_only_baseline=len(baseline) - len(joined),
        interval=interval_label(
            confidence=1 - alpha, family=family, z=z, runs=(len(ours), len(theirs))
        ),
    )


def _run_outcomes(
    task: TaskConfig, joined: pd.DataFrame, runs: Sequence[pd.DataFrame]
) -> list[Outcome]:
    """The metrics' view of more seed runs of one side, on ``joined``'s rows and order."""
    found = []
    for number, run in enumerate(runs, start=1):
        values = run.set_index(ROW_ID)[PREDICTION].reindex(joined[ROW_ID].to_numpy())
        if values.isna().any():
            raise ClearlakeError(
                f"Seed run {number} lacks {int(values.isna().sum())} of the compared rows "
                f"({ROW_ID}): every seed run must predict the same suite as its side."
            )
        found.append(outcome(task, joined.assign(**{PREDICTION: values.to_numpy()})))
    return found


def _spread_lookup(spread: pd.DataFrame | None) -> dict[tuple[str, str, str], float]:
    if spread is None or spread.empty:
        return {}
    values = spread["seed_sd"].to_numpy(dtype=float)
    keys = zip(spread["metric"], spread["subgroup_kind"], spread["subgroup"], strict=True)
    return {
        (str(m), str(k), str(g)): float(v) if np.isfinite(v) else 0.0
        for (m, k, g), v in zip(keys, values, strict=True)
    }


def seed_spread(runs: list[pd.DataFrame], task: TaskConfig, metrics: list[Metric]) -> pd.DataFrame:
    """Seed-to-seed standard deviation of every metric in every subgroup across ``runs``
    (predictions frames of one algorithm version under different seeds, same rows)."""
    values: dict[tuple[str, str, str], list[float]] = {}
    for run in runs:
        whole = outcome(task, run)
        for kind, subgroup, rows in subgroups(run, task):
            part = whole.subset(rows)
            for metric in metrics:
                values.setdefault((metric.name, kind, subgroup), []).append(metric.value(part))
    records = [
        (m, k, g, float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, len(v))
        for (m, k, g), v in values.items()
    ]
    return pd.DataFrame.from_records(records, columns=SPREAD_SCHEMA.names)


def _p_value(delta: float, se: float) -> float:
    if not np.isfinite(delta) or not np.isfinite(se):
        return 1.0
    if se == 0:
        return 1.0 if delta == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(delta) / se))


def _verdicts(frame: pd.DataFrame, metrics: list[Metric], alpha: float) -> list[str]:
    lower = {m.name: m.lower_is_better for m in metrics}
    rows = zip(
        frame["metric"].astype(str),
        frame["delta"].to_numpy(dtype=float),
        frame["p_adjusted"].to_numpy(dtype=float),
        frame["min_effect"].to_numpy(dtype=float),
        frame["mde"].to_numpy(dtype=float),
        strict=True,
    )
    return [
        verdict(
            delta=float(delta),
            significant=bool(p < alpha),
            baseline_value=0.0,
            lower_is_better=lower[name],
            min_relative_effect=0.0,
            min_absolute_effect=float(floor),
            mde=float(mde),
        )
        for name, delta, p, floor, mde in rows
    ]


def without_baseline(scores: pd.DataFrame) -> pd.DataFrame:
    """A comparison frame for a candidate with no baseline: its values, verdict 'no baseline'."""
    return pd.DataFrame(
        {
            "metric": scores["metric"],
            "subgroup_kind": scores["subgroup_kind"],
            "subgroup": scores["subgroup"],
            "candidate_value": scores["value"],
            "baseline_value": np.nan,
            "delta": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "boot_low": np.nan,
            "boot_high": np.nan,
            "verdict": NO_BASELINE,
            "n_rows": scores["n_rows"],
            "se": np.nan,
            "seed_sd": np.nan,
            "mde": np.nan,
            "min_effect": np.nan,
            "p_adjusted": np.nan,
        },
        columns=COMPARISON_COLUMNS,
    )


def as_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """The stored form: exactly ``schema`` (floats stay floats even when all missing)."""
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def overall_verdict(comparison: pd.DataFrame, primary_metric: str) -> str:
    row = comparison[
        (comparison["metric"] == primary_metric) & (comparison["subgroup_kind"] == "overall")
    ]
    return str(row["verdict"].iloc[0]) if len(row) else NO_BASELINE


def regressions(comparison: pd.DataFrame) -> list[str]:
    """``mae for region=west +2.56 (CI …, n=…)`` per regressed row, for check messages.

    No square brackets: the text is printed by rich consoles, which would read them as markup.
    """
    bad = comparison[comparison["verdict"] == REGRESSED]
    return [
        f"{r.metric} "
        + ("overall" if r.subgroup_kind == "overall" else f"for {r.subgroup_kind}={r.subgroup}")
        + f" {r.delta:+.4g} (simultaneous CI {r.ci_low:.4g}..{r.ci_high:.4g}, n={r.n_rows})"
        for r in bad.itertuples()
    ]
