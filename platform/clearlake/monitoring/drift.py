"""Drift of the model's inputs and scores: the population stability index (PSI).

PSI ``= Σ_b (p_b − q_b) · ln(p_b / q_b)`` over bins ``b`` of the reference (``q``) and the
day (``p``). Numeric values are cut at the reference's quantiles (equal-mass bins, so a
skewed column still gets resolution where its rows are); other values bin by category
(the reference's categories, plus one bin for every category it never saw). Shares are
floored at 1e-4 so an empty bin gives a large but finite index. PSI was chosen over KS or
chi-square p-values because with thousands of rows a day every test is significant:
drift is a question of size, and PSI has the industry's usual thresholds (0.1 moderate,
0.2 large).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

FLOOR = 1e-4


def _shares(counts: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=float)
    return np.maximum(shares, FLOOR)


def psi(reference: pd.Series, current: pd.Series, *, bins: int = 10) -> float:
    """The PSI of ``current`` against ``reference`` (nulls are a category of their own)."""
    ref, cur = reference.dropna(), current.dropna()
    null_ref, null_cur = reference.isna().mean(), current.isna().mean()
    if pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref):
        values = ref.to_numpy(dtype=float)
        edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
        q = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        p = np.bincount(
            np.searchsorted(edges, cur.to_numpy(dtype=float), side="right"),
            minlength=len(edges) + 1,
        )
    else:
        categories = sorted(set(ref.astype(str)))
        index = {c: i for i, c in enumerate(categories)}
        q = np.bincount([index[c] for c in ref.astype(str)], minlength=len(categories) + 1)
        p = np.bincount(
            [index.get(c, len(categories)) for c in cur.astype(str)],
            minlength=len(categories) + 1,
        )
    q = np.append(q * (1 - null_ref) / max(q.sum(), 1), null_ref)
    p = np.append(p * (1 - null_cur) / max(p.sum(), 1), null_cur)
    qs, ps = _shares(q), _shares(p)
    return float(np.sum((ps - qs) * np.log(ps / qs)))


def drift_rows(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: list[str],
    prediction: str,
    bins: int,
    psi_threshold: float,
    prediction_psi_threshold: float,
) -> pd.DataFrame:
    """One row per column (the model's score first): ``column``, ``psi``, ``threshold``,
    ``drifting``."""
    records = []
    for column in [prediction, *columns]:
        if column not in current or column not in reference:
            continue
        value = psi(reference[column], current[column], bins=bins)
        threshold = prediction_psi_threshold if column == prediction else psi_threshold
        records.append(
            {
                "column": column,
                "psi": value,
                "threshold": threshold,
                "drifting": bool(value >= threshold),
            }
        )
    return pd.DataFrame.from_records(records, columns=["column", "psi", "threshold", "drifting"])
