"""How much of an overall change is the subgroup mix, how much is the model getting worse.

``overall change = (reference re-weighted to the new mix − reference)``  [mix shift]
``             + (new − re-weighted reference)``                          [within subgroups]

The re-weighted reference gives each reference row the weight ``p_new(g) / p_ref(g)`` of
its subgroup ``g``: the reference's own rows, in the new window's proportions. For a mean
of per-row losses this is exactly ``Σ_g p_new(g) · metric_ref(g)``; for a metric that is
not additive over rows (ROC AUC, F1) the same importance weights enter the metric itself
(every built-in metric is computed from row weights). Subgroups of the new window that
the reference lacks cannot be re-weighted: their share is reported as ``unmatched``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation.metrics import Draws, Metric, Outcome


@dataclass(frozen=True)
class Decomposition:
    kind: str
    reference: float
    reweighted: float
    new: float
    unmatched: float
    """Share of the new window's rows in subgroups the reference does not have."""

    @property
    def total(self) -> float:
        return self.new - self.reference

    @property
    def mix_shift(self) -> float:
        return self.reweighted - self.reference

    @property
    def within(self) -> float:
        return self.new - self.reweighted

    def text(self) -> str:
        return (
            f"of the overall change {self.total:+.4g}, mix shift by {self.kind} "
            f"{self.mix_shift:+.4g}, within {self.kind} {self.within:+.4g}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reference": self.reference,
            "reweighted_reference": self.reweighted,
            "new": self.new,
            "total": self.total,
            "mix_shift": self.mix_shift,
            "within_subgroups": self.within,
            "unmatched_share": self.unmatched,
        }


def mix_weights(reference: np.ndarray[Any, Any], new: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Importance weights of the reference rows: ``p_new(g) / p_ref(g)`` of each row's
    subgroup ``g``, scaled to sum to the number of rows (what the metrics expect)."""
    ref_groups, ref_counts = np.unique(reference, return_counts=True)
    new_share = pd.Series(new).value_counts(normalize=True)
    ref_share = dict(zip(ref_groups, ref_counts / len(reference), strict=True))
    ratio = {g: float(new_share.get(g, 0.0)) / ref_share[g] for g in ref_groups}
    weights = np.array([ratio[g] for g in reference], dtype=float)
    total = weights.sum()
    return weights * len(reference) / total if total > 0 else np.ones(len(reference))


def weighted_value(metric: Metric, outcome: Outcome, weights: np.ndarray[Any, Any]) -> float:
    """``metric`` with row weights (summing to the row count), as a bootstrap draw is."""
    draws = Draws(len(outcome))
    draws.__dict__["weights"] = weights.reshape(1, -1).astype(np.float64)  # the cached property
    return float(metric.compute(outcome, draws)[0])


def decompose(
    metric: Metric,
    *,
    reference: Outcome,
    reference_groups: np.ndarray[Any, Any],
    new: Outcome,
    new_groups: np.ndarray[Any, Any],
    kind: str,
) -> Decomposition:
    """The overall change of ``metric`` split into mix shift and within-subgroup change."""
    reference_groups = reference_groups.astype(str)
    new_groups = new_groups.astype(str)
    known = np.isin(new_groups, np.unique(reference_groups))
    weights = mix_weights(reference_groups, new_groups[known])
    return Decomposition(
        kind=kind,
        reference=metric.value(reference),
        reweighted=weighted_value(metric, reference, weights),
        new=metric.value(new),
        unmatched=float(1 - known.mean()) if len(known) else 0.0,
    )
