"""Scores of one candidate and comparisons of two, overall and per subgroup.

Scores carry percentile bootstrap intervals. A comparison joins candidate and baseline on
``flight_id`` (identical rows) and bootstraps the *paired* delta; its interval is
``delta ± z·se``. Per-subgroup intervals are Bonferroni-widened (``alpha / m`` for the
``m`` subgroups of a metric) so that, with dozens of subgroups, an unchanged algorithm
does not get a "regressed" by chance. A verdict also needs the delta to exceed
``min_relative_effect`` of the baseline's value. Identical predictions give a delta of
exactly 0 with a zero-width interval: "no significant change", by construction.
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
from clearlake.evaluation.config import EvaluationConfig
from clearlake.evaluation.metrics import METRICS, FloatArray, bootstrap_values, subgroup_seed

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
    frame: pd.DataFrame, config: EvaluationConfig
) -> Iterator[tuple[str, str, np.ndarray[Any, Any]]]:
    """``(kind, subgroup, row indices)``: overall first, then each large-enough subgroup."""
    yield "overall", "all", np.arange(len(frame))
    for kind in config.subgroups:
        labels = frame[kind].astype(str).to_numpy()
        for value in sorted(set(labels)):
            rows = np.flatnonzero(labels == value)
            if len(rows) >= config.min_subgroup_rows:
                yield kind, value, rows


def score_predictions(predictions: pd.DataFrame, config: EvaluationConfig) -> pd.DataFrame:
    """The ``candidate_scores`` frame (columns :data:`SCORES_COLUMNS`)."""
    actual = predictions["actual"].to_numpy(dtype=float)
    predicted = predictions["prediction"].to_numpy(dtype=float)
    alpha = 1.0 - config.bootstrap.confidence
    metrics = [METRICS[m] for m in config.metrics]
    records = []
    for kind, subgroup, rows in subgroups(predictions, config):
        components = [m.component(actual[rows], predicted[rows]) for m in metrics]
        boots = bootstrap_values(
            components,
            [m.finish for m in metrics],
            samples=config.bootstrap.samples,
            seed=subgroup_seed(config.bootstrap.seed, kind, subgroup),
        )
        for metric, component, boot in zip(metrics, components, boots, strict=True):
            low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
            value = float(metric.finish(np.atleast_1d(component.mean()))[0])
            records.append((metric.name, kind, subgroup, value, float(low), float(high), len(rows)))
    return pd.DataFrame.from_records(records, columns=SCORES_COLUMNS)


def verdict(
    *,
    delta: float,
    ci_low: float,
    ci_high: float,
    baseline_value: float,
    lower_is_better: bool,
    min_relative_effect: float,
) -> str:
    if abs(delta) < min_relative_effect * abs(baseline_value) or ci_low <= 0 <= ci_high:
        return NO_CHANGE
    better = delta < 0 if lower_is_better else delta > 0
    return IMPROVED if better else REGRESSED


@dataclass(frozen=True)
class Comparison:
    frame: pd.DataFrame
    rows_compared: int
    rows_only_candidate: int
    rows_only_baseline: int


def compare_predictions(
    candidate: pd.DataFrame, baseline: pd.DataFrame, config: EvaluationConfig
) -> Comparison:
    """The ``candidate_comparison`` frame (columns :data:`COMPARISON_COLUMNS`)."""
    joined = candidate.merge(
        baseline[["flight_id", "actual", "prediction"]], on="flight_id", suffixes=("", "_baseline")
    )
    differing = int((joined["actual"] != joined["actual_baseline"]).sum())
    if differing:
        raise ClearlakeError(
            f"Candidate and baseline disagree on the target of {differing} shared row(s): they "
            "were evaluated on different suite versions. Re-evaluate the baseline."
        )
    if joined.empty:
        raise ClearlakeError("Candidate and baseline predictions share no rows (flight_id).")
    actual = joined["actual"].to_numpy(dtype=float)
    ours = joined["prediction"].to_numpy(dtype=float)
    theirs = joined["prediction_baseline"].to_numpy(dtype=float)
    groups = list(subgroups(joined, config))
    alpha = 1.0 - config.bootstrap.confidence
    tests = max(1, len(groups) - 1)
    z_overall = NormalDist().inv_cdf(1 - alpha / 2)
    z_subgroup = NormalDist().inv_cdf(1 - alpha / (2 * tests))
    metrics = [METRICS[m] for m in config.metrics]
    records = []
    for kind, subgroup, rows in groups:
        components: list[FloatArray] = []
        for metric in metrics:
            components += [
                metric.component(actual[rows], ours[rows]),
                metric.component(actual[rows], theirs[rows]),
            ]
        boots = bootstrap_values(
            components,
            [m.finish for m in metrics for _ in (0, 1)],
            samples=config.bootstrap.samples,
            seed=subgroup_seed(config.bootstrap.seed, kind, subgroup),
        )
        z = z_overall if kind == "overall" else z_subgroup
        for i, metric in enumerate(metrics):
            value = float(metric.finish(np.atleast_1d(components[2 * i].mean()))[0])
            base = float(metric.finish(np.atleast_1d(components[2 * i + 1].mean()))[0])
            delta = value - base
            se = float(np.std(boots[2 * i] - boots[2 * i + 1], ddof=1))
            low, high = delta - z * se, delta + z * se
            records.append(
                (
                    metric.name,
                    kind,
                    subgroup,
                    value,
                    base,
                    delta,
                    low,
                    high,
                    verdict(
                        delta=delta,
                        ci_low=low,
                        ci_high=high,
                        baseline_value=base,
                        lower_is_better=metric.lower_is_better,
                        min_relative_effect=config.min_relative_effect,
                    ),
                    len(rows),
                )
            )
    return Comparison(
        frame=pd.DataFrame.from_records(records, columns=COMPARISON_COLUMNS),
        rows_compared=len(joined),
        rows_only_candidate=len(candidate) - len(joined),
        rows_only_baseline=len(baseline) - len(joined),
    )


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
    """``mae for carrier=WN +2.56 (CI …, n=…)`` per regressed row, for check messages.

    No square brackets: the text is printed by rich consoles, which would read them as markup.
    """
    bad = comparison[comparison["verdict"] == REGRESSED]
    return [
        f"{r.metric} "
        + ("overall" if r.subgroup_kind == "overall" else f"for {r.subgroup_kind}={r.subgroup}")
        + f" +{r.delta:.2f} (CI {r.ci_low:.2f}..{r.ci_high:.2f}, n={r.n_rows})"
        for r in bad.itertuples()
    ]
