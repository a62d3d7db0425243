"""Slice discovery: where, beyond the declared subgroups, did B do worse than A?

The input is one number per row, ``loss_B - loss_A`` (a decomposable loss, so a slice's mean
is exactly that slice's metric delta), and the rows' declared subgroup labels. A slice is a
conjunction ``column=value`` of one label per column, up to ``max_level`` columns (two-way
and more are what the declared, one-way subgroups cannot show).

* **Lattice pruning by support** (SliceLine's rule, Sagadeeva & Boehm 2021): a slice with
  fewer than ``min_support`` rows is not tested, and no slice containing it is generated —
  a conjunction never has more rows than any of its parts. Level ``k + 1`` is built only
  from pairs of surviving level-``k`` slices that share ``k - 1`` predicates.
* **Interval and test**: the mean of the paired per-row delta with its normal standard
  error; ``p`` from ``delta / se``. Every tested slice is one member of the family, and the
  p-values are adjusted with the task's own multiplicity rule (Holm or Benjamini-Hochberg,
  :func:`clearlake.evaluation.scoring.adjusted_p_values`, the gate's code); the interval
  shown is the simultaneous Bonferroni one, ``delta ± z(alpha / 2m)·se``, as the gate's.
  Testing hundreds of slices with a per-slice 5% level would "find" a dozen by chance.

No seed term here: slices rank where the rows moved; the gate's verdicts (with the seed
spread) stay the deltas of the declared subgroups.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation import flips
from clearlake.evaluation.scoring import adjusted_p_values
from clearlake.project.config import TaskConfig

SLICE_COLUMNS = [
    "slice",
    "level",
    "n_rows",
    "delta",
    "ci_low",
    "ci_high",
    "p_adjusted",
    "significant",
]


@dataclass(frozen=True)
class SliceSearch:
    """The slices found and how the search was done (said wherever they are shown)."""

    frame: pd.DataFrame
    """Columns :data:`SLICE_COLUMNS`, the regressed significant slices first (largest
    delta), then the others by delta; ``slice`` reads ``carrier=WN & origin=EWR``."""
    tested: int
    pruned: int
    """Slices not tested because they (or a part of them) had fewer rows than the support."""
    min_support: int
    method: str
    loss: str

    def regressed(self) -> pd.DataFrame:
        """The significant slices where B is worse (positive delta)."""
        return self.frame[self.frame["significant"] & (self.frame["delta"] > 0)]

    def note(self) -> str:
        return (
            f"{self.tested} slice(s) of up to {int(self.frame['level'].max() or 0)} subgroup "
            f"column(s) tested (at least {self.min_support} rows; {self.pruned} pruned by "
            f"support); per-row {self.loss} of B minus A; {self.method} over the tested "
            "slices, simultaneous normal intervals (test rows only: no seed term)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "slices": _records(self.frame),
            "tested": self.tested,
            "pruned": self.pruned,
            "min_support": self.min_support,
            "method": self.method,
            "loss": self.loss,
            "note": self.note() if len(self.frame) else "no slice had enough rows",
        }


Predicate = tuple[str, str]


def discover_slices(
    labels: pd.DataFrame,
    delta: np.ndarray[Any, Any],
    *,
    columns: Sequence[str],
    min_support: int,
    method: str = "holm",
    confidence: float = 0.95,
    max_level: int = 2,
    loss: str = "loss",
) -> SliceSearch:
    """Every slice of ``columns`` (labels of the rows of ``delta``) with enough rows, tested
    and ranked (see the module docstring)."""
    delta = np.asarray(delta, dtype=float)
    if len(labels) != len(delta):
        raise ValueError(f"{len(labels)} label rows for {len(delta)} deltas")
    codes = {c: labels[c].astype(str).to_numpy() for c in columns}
    position = {c: i for i, c in enumerate(columns)}  # predicates in declared order
    masks: dict[tuple[Predicate, ...], np.ndarray[Any, Any]] = {}
    pruned = 0
    level: dict[tuple[Predicate, ...], np.ndarray[Any, Any]] = {}
    for column in columns:
        for value in sorted(set(codes[column])):
            mask = codes[column] == value
            if mask.sum() >= min_support:
                level[((column, value),)] = mask
            else:
                pruned += 1
    masks.update(level)
    for _ in range(1, max_level):
        following: dict[tuple[Predicate, ...], np.ndarray[Any, Any]] = {}
        ordered = sorted(level, key=lambda key: [(position[c], v) for c, v in key])
        for left, right in itertools.combinations(ordered, 2):
            if left[:-1] != right[:-1] or left[-1][0] == right[-1][0]:
                continue  # SliceLine's join: same prefix, a new column
            slice_key = (*left, right[-1])
            if any(part not in level for part in _parts(slice_key)):
                pruned += 1  # a part lacks support: the slice cannot have it
                continue
            mask = level[left] & level[right]
            if mask.sum() >= min_support:
                following[slice_key] = mask
            else:
                pruned += 1
        masks.update(following)
        level = following
        if not level:
            break
    return _tested(masks, delta, pruned, min_support, method, confidence, loss)


def slices_between(task: TaskConfig, joined: pd.DataFrame, *, max_level: int = 2) -> SliceSearch:
    """The slices of ``task``'s declared subgroup columns where B (a :func:`flips.join_sides`
    frame of A and B) did worse than A, at the task's own support, level and multiplicity.

    Subgroup columns the stored predictions do not carry (written before the subgroup was
    declared) are left out of the search."""
    columns = [s.label for s in task.subgroups if s.label in joined.columns]
    return discover_slices(
        joined[columns],
        flips.loss_delta(task, joined),
        columns=columns,
        min_support=task.min_subgroup_rows,
        method=task.verdict.multiplicity,
        confidence=task.verdict.bootstrap.confidence,
        max_level=max_level,
        loss=flips.LOSS_NAMES[task.type],
    )


def _parts(key: tuple[Predicate, ...]) -> list[tuple[Predicate, ...]]:
    return [key[:i] + key[i + 1 :] for i in range(len(key))]


def _tested(
    masks: dict[tuple[Predicate, ...], np.ndarray[Any, Any]],
    delta: np.ndarray[Any, Any],
    pruned: int,
    min_support: int,
    method: str,
    confidence: float,
    loss: str,
) -> SliceSearch:
    rows = []
    for key, mask in masks.items():
        values = delta[mask]
        values = values[np.isfinite(values)]
        n = len(values)
        mean = float(values.mean()) if n else float("nan")
        se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        rows.append(
            {
                "slice": " & ".join(f"{c}={v}" for c, v in key),
                "level": len(key),
                "n_rows": int(mask.sum()),
                "delta": mean,
                "_se": se,
                "_p": _p_value(mean, se),
            }
        )
    frame = pd.DataFrame(rows, columns=["slice", "level", "n_rows", "delta", "_se", "_p"])
    family = len(frame)
    alpha = 1.0 - confidence
    if family:
        z = NormalDist().inv_cdf(1 - alpha / (2 * family))
        frame["ci_low"] = frame["delta"] - z * frame["_se"]
        frame["ci_high"] = frame["delta"] + z * frame["_se"]
        frame["p_adjusted"] = adjusted_p_values(frame["_p"].to_numpy(dtype=float), method)
    else:
        frame["ci_low"] = frame["ci_high"] = frame["p_adjusted"] = pd.Series(dtype=float)
    frame["significant"] = frame["p_adjusted"] < alpha
    frame["_rank"] = np.where(frame["significant"] & (frame["delta"] > 0), 0, 1)
    frame = frame.sort_values(["_rank", "delta", "level"], ascending=[True, False, False])
    return SliceSearch(
        frame=frame[SLICE_COLUMNS].reset_index(drop=True),
        tested=family,
        pruned=pruned,
        min_support=min_support,
        method=method,
        loss=loss,
    )


def p_text(value: object) -> str:
    """An adjusted p-value as shown: never ``0`` (a z-test's tail underflows, it is tiny)."""
    number = float(value)  # type: ignore[arg-type]
    if not np.isfinite(number):
        return "-"
    return "<0.0001" if number < 1e-4 else f"{number:.2g}"


def _p_value(mean: float, se: float) -> float:
    if not (np.isfinite(mean) and np.isfinite(se)):
        return 1.0
    if se == 0:
        return 1.0 if mean == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(mean) / se))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                str(k): (None if isinstance(v, float) and not np.isfinite(v) else _plain(v))
                for k, v in row.items()
            }
        )
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
