"""Is the watched model worse on its newest days than on its reference window?

Method (why each choice):

* **Unpaired.** Recent days and the reference window hold different rows, so nothing
  pairs: a metric that is a mean of per-row losses (MAE, log loss, Brier, accuracy) is
  compared with a **Welch z on the per-row losses** (exact variance, no resampling: fast
  enough for thousands of simulated days); any other metric (ROC AUC, RMSE, F1, custom)
  with a **two-sample bootstrap** of the difference (each window resampled on its own,
  ``se² = var(recent*) + var(reference*)``). Tests are one-sided: only degradation alerts.
* **Several trailing windows** (1, 2, 4, 8, 16, 28 days by default) are tested on every
  decision: a large drop is seen by the short windows within a day or two, a small one by
  the long windows once they fill, at about the days a fixed window sized for that effect
  would need (benchmarks/monitoring.py measures it), without knowing the effect in advance.
* **Level.** ``level`` bounds the probability of any false alert of a stable model over
  ``horizon_days`` days: Bonferroni over the decision days and the windows (each
  window-day family gets ``level / (decisions x windows)``: overlapping windows make this
  conservative, never optimistic), Holm within a family (subgroups x metrics).
* **Minimum effect and power.** An alert needs a significant change at least the
  metric's minimum effect; a subgroup whose minimum detectable effect (Bonferroni z +
  power z, times se) exceeds it is *inconclusive*, never "no change".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation.metrics import EPS, Metric, Outcome, bootstrap_values, subgroup_seed
from clearlake.evaluation.predictions import outcome
from clearlake.evaluation.scoring import adjusted_p_values, min_effect
from clearlake.project.config import MonitorConfig, TaskConfig

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
WELCH, BOOTSTRAP = "welch z on per-row losses", "two-sample bootstrap of the difference"
DEGRADED, INCONCLUSIVE, STABLE = "degraded", "inconclusive", "stable"
TEST_COLUMNS = [
    "window_days",
    "metric",
    "subgroup_kind",
    "subgroup",
    "recent_value",
    "reference_value",
    "delta",
    "se",
    "p_value",
    "p_adjusted",
    "level",
    "ci_low",
    "ci_high",
    "mde",
    "min_effect",
    "n_recent",
    "n_reference",
    "method",
    "state",
]


def _abs_error(o: Outcome) -> FloatArray:
    out: FloatArray = np.abs(o.predicted - o.actual)
    return out


def _binary_log_loss(o: Outcome) -> FloatArray:
    p = np.clip(o.predicted, EPS, 1 - EPS)
    out: FloatArray = -(o.actual * np.log(p) + (1 - o.actual) * np.log(1 - p))
    return out


def _squared_error(o: Outcome) -> FloatArray:
    out: FloatArray = (o.predicted - o.actual) ** 2
    return out


def _binary_correct(o: Outcome) -> FloatArray:
    out: FloatArray = ((o.predicted >= o.threshold) == (o.actual > 0.5)).astype(float)
    return out


def _class_correct(o: Outcome) -> FloatArray:
    out: FloatArray = (np.argmax(o.predicted, axis=1) == o.actual.astype(int)).astype(float)
    return out


def _class_log_loss(o: Outcome) -> FloatArray:
    chosen = o.predicted[np.arange(len(o)), o.actual.astype(int)]
    out: FloatArray = -np.log(np.clip(chosen, EPS, 1 - EPS))
    return out


PER_ROW: dict[tuple[str, str], Callable[[Outcome], FloatArray]] = {
    ("regression", "mae"): _abs_error,
    ("binary", "log_loss"): _binary_log_loss,
    ("binary", "brier"): _squared_error,
    ("binary", "accuracy"): _binary_correct,
    ("multiclass", "accuracy"): _class_correct,
    ("multiclass", "log_loss"): _class_log_loss,
}
"""Built-in metrics that are the mean of a per-row value (the Welch path)."""


def per_row(task: TaskConfig, metric: Metric) -> Callable[[Outcome], FloatArray] | None:
    """The per-row values whose mean is ``metric`` (``None``: not a mean of rows, or custom)."""
    custom = any(m.name == metric.name and m.function for m in task.metrics)
    return None if custom else PER_ROW.get((task.type, metric.name))


def watched_task(task: TaskConfig, monitor: MonitorConfig) -> TaskConfig:
    """The task restricted to the subgroups the monitor watches."""
    if monitor.subgroups is None:
        return task
    kept = [s for s in task.subgroups if s.label in monitor.subgroups]
    return task.model_copy(update={"subgroups": kept})


def groups(
    frame: pd.DataFrame, task: TaskConfig, *, min_rows: int | None = None
) -> Iterator[tuple[str, str, np.ndarray[Any, Any]]]:
    """``(kind, subgroup, rows)``: overall first, then each subgroup value with enough rows."""
    floor = task.min_subgroup_rows if min_rows is None else min_rows
    yield "overall", "all", np.arange(len(frame))
    for spec in task.subgroups:
        labels = frame[spec.label].astype(str).to_numpy()
        for value in sorted(set(labels)):
            rows = np.flatnonzero(labels == value)
            if len(rows) >= floor:
                yield spec.label, value, rows


@dataclass
class Sample:
    """One window's rows as the metrics see them, with per-group caches (the reference is
    compared with every trailing window on a decision: its statistics are computed once)."""

    frame: pd.DataFrame
    task: TaskConfig
    whole: Outcome = field(init=False)
    _cache: dict[tuple[str, str, str, str], Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.whole = outcome(self.task, self.frame)

    def group_rows(self) -> dict[tuple[str, str], np.ndarray[Any, Any]]:
        key = ("rows", "", "", "")
        if key not in self._cache:
            self._cache[key] = {(k, g): r for k, g, r in groups(self.frame, self.task)}
        found: dict[tuple[str, str], np.ndarray[Any, Any]] = self._cache[key]
        return found

    def moments(self, metric: Metric, kind: str, subgroup: str) -> tuple[float, float, int]:
        """Mean, variance and count of the metric's per-row values in a group."""
        key = ("moments", metric.name, kind, subgroup)
        if key not in self._cache:
            function = per_row(self.task, metric)
            assert function is not None
            values = function(self.whole.subset(self.group_rows()[(kind, subgroup)]))
            var = float(np.var(values, ddof=1)) if len(values) > 1 else float("nan")
            self._cache[key] = (float(np.mean(values)), var, len(values))
        found: tuple[float, float, int] = self._cache[key]
        return found

    def value(self, metric: Metric, kind: str, subgroup: str) -> float:
        key = ("value", metric.name, kind, subgroup)
        if key not in self._cache:
            self._cache[key] = metric.value(self.whole.subset(self.group_rows()[(kind, subgroup)]))
        found: float = self._cache[key]
        return found

    def boots(self, metric: Metric, kind: str, subgroup: str, *, samples: int, seed: int) -> Any:
        key = ("boots", metric.name, kind, subgroup)
        if key not in self._cache:
            part = self.whole.subset(self.group_rows()[(kind, subgroup)])
            drawn = bootstrap_values(
                [(metric, part)],
                samples=samples,
                seed=subgroup_seed(seed + len(self.frame), kind, subgroup),
            )[0]
            self._cache[key] = drawn[np.isfinite(drawn)]
        return self._cache[key]


def one_sided_p(delta: float, se: float, *, lower_is_better: bool) -> float:
    """P-value of 'worse than the reference' (a higher loss, a lower score)."""
    worse = delta if lower_is_better else -delta
    if not np.isfinite(worse) or not np.isfinite(se):
        return 1.0
    if se == 0:
        return 0.0 if worse > 0 else 1.0
    return 1.0 - NormalDist().cdf(worse / se)


def compare(
    recent: Sample,
    reference: Sample,
    metrics: list[Metric],
    *,
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Every (metric, group) both windows have: the unpaired change and its one-sided
    p-value of degradation (columns of :data:`TEST_COLUMNS` without the decision ones)."""
    records = []
    theirs = reference.group_rows()
    for (kind, subgroup), rows in recent.group_rows().items():
        if (kind, subgroup) not in theirs:
            continue
        for metric in metrics:
            if per_row(recent.task, metric) is not None:
                mean, var, n = recent.moments(metric, kind, subgroup)
                ref_mean, ref_var, ref_n = reference.moments(metric, kind, subgroup)
                value, base = mean, ref_mean
                se = float(np.sqrt(var / n + ref_var / ref_n))
                method = WELCH
            else:
                value = recent.value(metric, kind, subgroup)
                base = reference.value(metric, kind, subgroup)
                mine = recent.boots(metric, kind, subgroup, samples=samples, seed=seed)
                other = reference.boots(metric, kind, subgroup, samples=samples, seed=seed)
                se = float(np.sqrt(np.var(mine, ddof=1) + np.var(other, ddof=1)))
                method = BOOTSTRAP
            delta = value - base
            records.append(
                {
                    "metric": metric.name,
                    "subgroup_kind": kind,
                    "subgroup": subgroup,
                    "recent_value": value,
                    "reference_value": base,
                    "delta": delta,
                    "se": se,
                    "p_value": one_sided_p(delta, se, lower_is_better=metric.lower_is_better),
                    "n_recent": len(rows),
                    "n_reference": len(theirs[(kind, subgroup)]),
                    "method": method,
                }
            )
    return pd.DataFrame.from_records(records)


def window_level(monitor: MonitorConfig) -> float:
    """The level of one window's family on one decision (see the module docstring)."""
    return monitor.level / (monitor.decisions * len(monitor.windows))


def decide(
    tests: pd.DataFrame,
    *,
    level: float,
    power: float,
    floors: dict[str, tuple[float, float]],
    lower_is_better: dict[str, bool],
) -> pd.DataFrame:
    """Holm within the family ``tests`` (one window, one decision) at ``level``; each row
    ``degraded`` (significant, worse by at least its minimum effect), ``inconclusive``
    (could not have detected the minimum effect) or ``stable``. ``floors``: metric →
    ``(relative, absolute)`` minimum effects."""
    out = tests.copy()
    if out.empty:
        return out.reindex(columns=[c for c in TEST_COLUMNS if c != "window_days"])
    family = len(out)
    out["p_adjusted"] = adjusted_p_values(out["p_value"].to_numpy(dtype=float), "holm")
    out["level"] = level
    z = NormalDist().inv_cdf(1 - level / family) + NormalDist().inv_cdf(power)
    out["mde"] = z * out["se"]
    half = NormalDist().inv_cdf(1 - level / (2 * family)) * out["se"]
    out["ci_low"], out["ci_high"] = out["delta"] - half, out["delta"] + half
    out["min_effect"] = [
        min_effect(base, relative=floors[m][0], absolute=floors[m][1])
        for m, base in zip(out["metric"], out["reference_value"], strict=True)
    ]
    worse = np.where(
        [lower_is_better[m] for m in out["metric"]], out["delta"], -out["delta"]
    ).astype(float)
    significant = out["p_adjusted"].to_numpy(dtype=float) < level
    floor = out["min_effect"].to_numpy(dtype=float)
    state = np.where(
        significant & (worse >= floor) & (worse > 0),
        DEGRADED,
        np.where(~np.isfinite(out["mde"]) | (out["mde"] > floor), INCONCLUSIVE, STABLE),
    )
    out["state"] = state
    return out


def fixed_window_days(
    *,
    effect: float,
    sd_recent: float,
    sd_reference: float,
    rows_per_day: float,
    reference_rows: float,
    level: float,
    power: float,
) -> float:
    """Days a single fixed-window one-sided test at ``level`` needs to detect ``effect``
    with ``power`` (the textbook calculation the monitor's delay is held against);
    ``inf`` when even infinite recent days cannot, because the reference is too small."""
    z = NormalDist().inv_cdf(1 - level) + NormalDist().inv_cdf(power)
    budget = (effect / z) ** 2 - sd_reference**2 / reference_rows
    if budget <= 0:
        return float("inf")
    return float(sd_recent**2 / (rows_per_day * budget))
