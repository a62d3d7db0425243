"""Predictions of a candidate: validated for the task's type, then kept beside the rows.

The ``candidate_predictions`` table of a task holds one row per held-out row:

* ``row_id`` (string): the dataset's row id; comparisons join two candidates on it;
* one string column per subgroup of the task, named by its label (``region``,
  ``basket``…): the value or bucket the row belongs to (:func:`subgroup_labels`);
* ``actual``: regression the target (float); binary 1.0 for the positive class, else 0.0;
  multiclass the class name (string);
* ``prediction``: regression the predicted value; binary the probability of the positive
  class; multiclass a list of probabilities, one per declared class in declared order.

Scores and comparisons need nothing else, so they work for any dataset.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.evaluation.errors import MalformedPredictionsError
from clearlake.evaluation.metrics import Outcome
from clearlake.project.config import SubgroupConfig, TaskConfig

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
ROW_ID, ACTUAL, PREDICTION = "row_id", "actual", "prediction"
RESERVED = (ROW_ID, ACTUAL, PREDICTION)
PROBABILITY_TOLERANCE = 1e-3
"""How far a multiclass row's probabilities may sum from 1 (float rounding of softmax)."""
EXPECTED = {
    "regression": "one finite number per input row, in input order",
    "binary": "one probability of the positive class in [0, 1] per input row, in input order",
    "multiclass": "a DataFrame or 2-D array with one column of probabilities per declared class "
    "(rows summing to 1), one row per input row, in input order",
}


def predictions_schema(task: TaskConfig) -> pa.Schema:
    """The stored shape of a task's ``candidate_predictions``."""
    multiclass = task.type == "multiclass"
    return pa.schema(
        [
            pa.field(ROW_ID, pa.string(), nullable=False),
            *(pa.field(s.label, pa.string(), nullable=False) for s in task.subgroups),
            pa.field(ACTUAL, pa.string() if multiclass else pa.float64(), nullable=False),
            pa.field(
                PREDICTION, pa.list_(pa.float64()) if multiclass else pa.float64(), nullable=False
            ),
        ]
    )


def expectation(task: TaskConfig) -> str:
    """What ``predict`` must return for this task (said in every malformed-output error)."""
    text = EXPECTED[task.type]
    return text + (f"; classes {', '.join(task.classes)}" if task.classes else "")


def validate_predictions(
    candidate: str, raw: pa.Table, *, task: TaskConfig, expected_rows: int
) -> FloatArray:
    """The candidate's output as floats (``(rows,)``, multiclass ``(rows, classes)``), or
    :class:`MalformedPredictionsError` saying what is wrong and what was expected."""
    expected = expectation(task)

    def bad(problem: str) -> MalformedPredictionsError:
        return MalformedPredictionsError(candidate, problem, expected=expected)

    if raw.num_rows != expected_rows:
        raise bad(f"{raw.num_rows} prediction(s) for {expected_rows} input row(s)")
    columns = raw.columns
    if task.type == "multiclass":
        assert task.classes is not None
        if len(columns) != len(task.classes) or PREDICTION in raw.column_names:
            raise bad(
                f"{len(columns)} column(s) of predictions for {len(task.classes)} classes"
                if PREDICTION not in raw.column_names
                else "one value per row, expected one column per class"
            )
    elif len(columns) != 1 or raw.column_names != [PREDICTION]:
        raise bad(f"{len(columns)} values per row, expected one")
    for column in columns:
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise bad(f"values of type {column.type}, expected numbers (int or float)")
    values = np.column_stack(
        [np.asarray(pc.cast(c, pa.float64()).to_numpy(zero_copy_only=False)) for c in columns]
    ).astype(float)
    if task.type != "multiclass":
        values = values[:, 0]
    nonfinite = ~np.isfinite(values).reshape(len(values), -1).all(axis=1)
    if nonfinite.any():
        first = int(np.flatnonzero(nonfinite)[0])
        raise bad(
            f"{int(nonfinite.sum())} row(s) are NaN, missing or infinite (first at row {first})"
        )
    if task.type != "regression":
        outside = ((values < 0) | (values > 1)).reshape(len(values), -1).any(axis=1)
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            raise bad(
                f"{int(outside.sum())} row(s) have probabilities outside [0, 1] (first at row "
                f"{first}: {values[first].tolist() if values.ndim == 2 else values[first]})"
            )
    if task.type == "multiclass":
        sums = values.sum(axis=1)
        off = np.abs(sums - 1) > PROBABILITY_TOLERANCE
        if off.any():
            first = int(np.flatnonzero(off)[0])
            raise bad(
                f"{int(off.sum())} row(s) have probabilities that do not sum to 1 (first at "
                f"row {first}: {sums[first]:.4f})"
            )
    return values


def subgroup_labels(table: pa.Table, subgroup: SubgroupConfig) -> list[str]:
    """Each row's subgroup value as text: the column's value, its bin or its derived part.

    Bins ``[a, b, c]`` give ``<a``, ``[a, b)``, ``[b, c)``, ``>=c``; derived parts are
    ``hour`` 0-23, ``weekday`` 0 (Monday)-6, ``month`` 1-12 and ``year``. Missing values
    are ``missing``.
    """
    column = table.column(subgroup.column)
    if subgroup.derive is not None:
        column = getattr(pc, subgroup.derive if subgroup.derive != "weekday" else "day_of_week")(
            column
        )
    values = column.to_pylist()
    if subgroup.bins is None:
        return ["missing" if v is None else str(v) for v in values]
    edges = subgroup.bins
    names = [f"<{_num(edges[0])}"]
    names += [f"[{_num(a)}, {_num(b)})" for a, b in itertools.pairwise(edges)]
    names.append(f">={_num(edges[-1])}")
    numbers = np.array([np.nan if v is None else float(v) for v in values])
    positions = np.searchsorted(np.asarray(edges, dtype=float), numbers, side="right")
    return [
        "missing" if np.isnan(n) else names[int(p)] for n, p in zip(numbers, positions, strict=True)
    ]


def _num(value: float) -> str:
    return f"{value:g}"


def encode_actual(task: TaskConfig, target: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The target as stored in ``actual`` (see the module docstring)."""
    if task.type == "regression":
        return pc.cast(target, pa.float64())
    if task.type == "multiclass":
        return pc.cast(target, pa.string())
    positive = True if task.positive_class is None else task.positive_class
    values = target.to_pylist()
    return pa.array([1.0 if _same(v, positive) else 0.0 for v in values], type=pa.float64())


def _same(value: object, positive: object) -> bool:
    if isinstance(positive, bool) or isinstance(value, bool):
        return bool(value) == bool(positive)
    return value == positive or str(value) == str(positive)


def predictions_table(
    suite: pa.Table, values: FloatArray, *, task: TaskConfig, row_id: str
) -> pa.Table:
    """The stored ``candidate_predictions`` of ``suite`` (see the module docstring)."""
    schema = predictions_schema(task)
    columns: dict[str, Any] = {ROW_ID: pc.cast(suite.column(row_id), pa.string())}
    for subgroup in task.subgroups:
        columns[subgroup.label] = pa.array(subgroup_labels(suite, subgroup), type=pa.string())
    columns[ACTUAL] = encode_actual(task, suite.column(task.target))
    columns[PREDICTION] = pa.array(
        values.tolist() if values.ndim == 2 else values, type=schema.field(PREDICTION).type
    )
    return pa.table(columns, schema=schema)


def outcome(task: TaskConfig, frame: pd.DataFrame, *, prefix: str = "") -> Outcome:
    """The metrics' view of a predictions frame (``prefix`` selects joined baseline columns)."""
    actual = frame[ACTUAL + prefix]
    predicted = frame[PREDICTION + prefix]
    if task.type == "multiclass":
        assert task.classes is not None
        index = {c: i for i, c in enumerate(task.classes)}
        return Outcome(
            np.array([index.get(str(a), -1) for a in actual], dtype=float),
            np.array([np.asarray(p, dtype=float) for p in predicted]).reshape(
                len(frame), len(task.classes)
            ),
            task.threshold,
        )
    return Outcome(actual.to_numpy(dtype=float), predicted.to_numpy(dtype=float), task.threshold)


def as_frame(table: pa.Table | pd.DataFrame) -> pd.DataFrame:
    return table.to_pandas() if isinstance(table, pa.Table) else table
