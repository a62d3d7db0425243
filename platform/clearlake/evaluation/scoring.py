"""Scores of one candidate and comparisons of two, overall and per subgroup.

Scores carry percentile bootstrap intervals. A comparison joins candidate and baseline on
``row_id`` (identical rows) and bootstraps the *paired* delta — the same resampled rows for
both, for every metric — so the noise both share cancels; its interval is ``delta ± z·se``.
Multiplicity (per task, ``verdict.multiplicity``): with dozens of subgroups an unchanged
algorithm would get a "regressed" by chance, so per-subgroup decisions control the error
over a metric's subgroups — Bonferroni widens the interval to ``alpha / m``; Holm and
Benjamini-Hochberg adjust the normal p-values of ``delta / se`` instead (the interval shown
stays at ``alpha / m``). A verdict also needs the delta to exceed the metric's minimum
effect (relative to the baseline's value, or absolute). Identical predictions give a delta
of exactly 0 with a zero-width interval: "no significant change", by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clearlake.errors import ClearlakeError
from clearlake.evaluation.metrics import (
    Metric,
    bootstrap_values,
    min_effects,
    subgroup_seed,
)
from clearlake.evaluation.predictions import ROW_ID, outcome
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
        ("verdict", pa.string()),
        ("n_rows", pa.int64()),
    ]
)
SCORES_COLUMNS: list[str] = SCORES_SCHEMA.names
COMPARISON_COLUMNS: list[str] = COMPARISON_SCHEMA.names
IMPROVED, REGRESSED, NO_CHANGE, NO_BASELINE = (
    "improved",
    "regressed",
    "no significant change",
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
) -> str:
    """improved / regressed / no significant change of one metric in one subgroup."""
    floor = max(min_absolute_effect, min_relative_effect * abs(baseline_value))
    if not significant or not np.isfinite(delta) or abs(delta) < floor:
        return NO_CHANGE
    better = delta < 0 if lower_is_better else delta > 0
    return IMPROVED if better else REGRESSED


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


def compare_predictions(
    candidate: pd.DataFrame, baseline: pd.DataFrame, task: TaskConfig, metrics: list[Metric]
) -> Comparison:
    """The ``candidate_comparison`` frame (columns :data:`COMPARISON_COLUMNS`)."""
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
    ours, theirs = outcome(task, joined), outcome(task, joined, prefix="_baseline")
    groups = list(subgroups(joined, task))
    bootstrap = task.verdict.bootstrap
    alpha = 1.0 - bootstrap.confidence
    tests = max(1, len(groups) - 1)
    z_overall = NormalDist().inv_cdf(1 - alpha / 2)
    z_subgroup = NormalDist().inv_cdf(1 - alpha / (2 * tests))
    rows: list[dict[str, Any]] = []
    for kind, subgroup, index in groups:
        mine, other = ours.subset(index), theirs.subset(index)
        boots = bootstrap_values(
            [(m, o) for m in metrics for o in (mine, other)],
            samples=bootstrap.samples,
            seed=subgroup_seed(bootstrap.seed, kind, subgroup),
        )
        z = z_overall if kind == "overall" else z_subgroup
        for i, metric in enumerate(metrics):
            value, base = metric.value(mine), metric.value(other)
            delta = value - base
            paired = boots[2 * i] - boots[2 * i + 1]
            paired = paired[np.isfinite(paired)]
            se = float(np.std(paired, ddof=1)) if len(paired) > 1 else float("nan")
            rows.append(
                {
                    "metric": metric.name,
                    "subgroup_kind": kind,
                    "subgroup": subgroup,
                    "candidate_value": value,
                    "baseline_value": base,
                    "delta": delta,
                    "ci_low": delta - z * se,
                    "ci_high": delta + z * se,
                    "n_rows": len(index),
                    "_p": _p_value(delta, se),
                }
            )
    frame = pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS, "_p"])
    frame["verdict"] = _verdicts(frame, task, metrics, alpha)
    return Comparison(
        frame=frame[COMPARISON_COLUMNS],
        rows_compared=len(joined),
        rows_only_candidate=len(candidate) - len(joined),
        rows_only_baseline=len(baseline) - len(joined),
    )


def _p_value(delta: float, se: float) -> float:
    if not np.isfinite(delta) or not np.isfinite(se):
        return 1.0
    if se == 0:
        return 1.0 if delta == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(delta) / se))


def _verdicts(
    frame: pd.DataFrame, task: TaskConfig, metrics: list[Metric], alpha: float
) -> list[str]:
    method = task.verdict.multiplicity
    significant = pd.Series(False, index=frame.index)
    for metric in metrics:
        mine = frame["metric"] == metric.name
        overall = mine & (frame["subgroup_kind"] == "overall")
        significant[overall] = ~((frame["ci_low"] <= 0) & (frame["ci_high"] >= 0))[overall]
        significant[overall] &= frame.loc[overall, "ci_low"].notna()
        family = mine & (frame["subgroup_kind"] != "overall")
        if not family.any():
            continue
        if method == "bonferroni":  # the interval is already at alpha / m
            inside = (frame["ci_low"] <= 0) & (frame["ci_high"] >= 0)
            significant[family] = ~inside[family] & frame.loc[family, "ci_low"].notna()
        else:
            p = adjusted_p_values(frame.loc[family, "_p"].to_numpy(dtype=float), method)
            significant[family] = p < alpha
    lower = {m.name: m.lower_is_better for m in metrics}
    verdicts = []
    rows = zip(
        frame["metric"].astype(str),
        frame["delta"].to_numpy(dtype=float),
        frame["baseline_value"].to_numpy(dtype=float),
        significant,
        strict=True,
    )
    for name, delta, base, is_significant in rows:
        relative, absolute = min_effects(task, name)
        verdicts.append(
            verdict(
                delta=float(delta),
                significant=bool(is_significant),
                baseline_value=float(base),
                lower_is_better=lower[name],
                min_relative_effect=relative,
                min_absolute_effect=absolute,
            )
        )
    return verdicts


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
            "verdict": NO_BASELINE,
            "n_rows": scores["n_rows"],
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
        + f" {r.delta:+.4g} (CI {r.ci_low:.4g}..{r.ci_high:.4g}, n={r.n_rows})"
        for r in bad.itertuples()
    ]
