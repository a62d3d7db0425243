"""Which rows got worse: per-row losses of two candidates on the same rows, and the flip table.

A row's loss is the per-row term of a decomposable metric, so the mean of ``loss_B -
loss_A`` over any set of rows is that set's metric delta (what slice discovery tests):

* regression: absolute error (the mean is MAE);
* binary: log loss of the probability (the mean is log loss); a row *flips* when its class
  at the task's threshold changes;
* multiclass: negative log-probability of the true class; a row flips when the most
  probable class changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation.metrics import EPS, Outcome
from clearlake.evaluation.predictions import ACTUAL, PREDICTION, ROW_ID, outcome
from clearlake.project.config import TaskConfig

BASELINE = "_baseline"
"""Suffix of side A's columns in a joined frame (as :func:`scoring.compare_predictions`)."""
LOSS_NAMES = {"regression": "absolute error", "binary": "log loss", "multiclass": "log loss"}


def join_sides(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """B's rows with A's ``actual`` and ``prediction`` beside them (suffix ``_baseline``), on
    the rows both predicted, in row-id order."""
    joined = b.merge(a[[ROW_ID, ACTUAL, PREDICTION]], on=ROW_ID, suffixes=("", BASELINE))
    return joined.sort_values(ROW_ID, kind="stable").reset_index(drop=True)


def row_loss(task: TaskConfig, side: Outcome) -> np.ndarray[Any, Any]:
    """The per-row loss of one side (see the module docstring)."""
    if task.type == "regression":
        return np.abs(side.predicted - side.actual)
    if task.type == "binary":
        p = np.clip(side.predicted, EPS, 1 - EPS)
        loss: np.ndarray[Any, Any] = -(side.actual * np.log(p) + (1 - side.actual) * np.log(1 - p))
        return loss
    index = side.actual.astype(np.int64)
    known = index >= 0
    chosen = np.full(len(index), np.nan)
    chosen[known] = side.predicted[np.flatnonzero(known), index[known]]
    out: np.ndarray[Any, Any] = -np.log(np.clip(chosen, EPS, 1 - EPS))
    return out


def loss_delta(task: TaskConfig, joined: pd.DataFrame) -> np.ndarray[Any, Any]:
    """``loss_B - loss_A`` per joined row."""
    b, a = outcome(task, joined), outcome(task, joined, prefix=BASELINE)
    return row_loss(task, b) - row_loss(task, a)


def _classes(task: TaskConfig, side: Outcome) -> np.ndarray[Any, Any]:
    if task.type == "binary":
        return (side.predicted >= side.threshold).astype(int)
    return np.argmax(side.predicted, axis=1)


def flip_table(
    task: TaskConfig,
    joined: pd.DataFrame,
    *,
    features: pd.DataFrame | None = None,
    limit: int = 20,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The ``limit`` rows whose loss grew most (B worse than A first), with their subgroup
    labels and, when given, their feature values (``features`` indexed by row id); and the
    counts of rows worse, better, unchanged (and flipped, for classification)."""
    b, a = outcome(task, joined), outcome(task, joined, prefix=BASELINE)
    loss_b, loss_a = row_loss(task, b), row_loss(task, a)
    change = loss_b - loss_a
    table = pd.DataFrame({ROW_ID: joined[ROW_ID].astype(str)})
    for subgroup in task.subgroups:
        table[subgroup.label] = joined[subgroup.label].astype(str)
    if task.type == "multiclass":
        assert task.classes is not None
        classes = np.asarray(task.classes)
        table["actual"] = joined[ACTUAL].astype(str)
        table["class_a"] = classes[_classes(task, a)]
        table["class_b"] = classes[_classes(task, b)]
        table["p_true_a"], table["p_true_b"] = np.exp(-loss_a), np.exp(-loss_b)
    else:
        table["actual"] = a.actual
        table["prediction_a"], table["prediction_b"] = a.predicted, b.predicted
    if task.type == "binary":
        table["class_a"], table["class_b"] = _classes(task, a), _classes(task, b)
    table["loss_a"], table["loss_b"], table["change"] = loss_a, loss_b, change
    counts = {
        "rows": len(table),
        "worse": int((change > 0).sum()),
        "better": int((change < 0).sum()),
        "unchanged": int((change == 0).sum()),
    }
    if task.type != "regression":
        table["flipped"] = table["class_a"] != table["class_b"]
        counts["flipped"] = int(table["flipped"].sum())
    top = table.sort_values("change", ascending=False, kind="stable").head(limit)
    if features is not None and len(top):
        shown = features.reindex(top[ROW_ID].to_numpy())
        shown = shown.drop(columns=[c for c in shown.columns if c in top.columns])
        top = pd.concat([top.reset_index(drop=True), shown.reset_index(drop=True)], axis=1)
    return top.reset_index(drop=True), counts
