"""The candidate contract per task type: what predict may return, and what it may not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clearlake.evaluation.candidate_process import as_prediction_table
from clearlake.evaluation.errors import MalformedPredictionsError
from clearlake.evaluation.predictions import (
    predictions_table,
    subgroup_labels,
    validate_predictions,
)
from clearlake.project.config import SubgroupConfig, TaskConfig

SUITES = {"train": {"start": "2024-01-01", "end": "2024-01-31"}, "holdout": {
    "start": "2024-02-01", "end": "2024-02-28"}}  # fmt: skip
CLASSES = ["on_time", "late", "cancelled"]
TASKS = {
    "regression": TaskConfig.model_validate(
        {"dataset": "d", "target": "y", "type": "regression", "suites": SUITES,
         "metrics": ["mae"]}
    ),
    "binary": TaskConfig.model_validate(
        {"dataset": "d", "target": "y", "type": "binary", "suites": SUITES,
         "metrics": ["roc_auc"], "positive_class": "yes"}
    ),
    "multiclass": TaskConfig.model_validate(
        {"dataset": "d", "target": "y", "type": "multiclass", "suites": SUITES,
         "metrics": ["accuracy"], "classes": CLASSES}
    ),
}  # fmt: skip


def returned(kind: str, raw: Any, rows: int = 3) -> np.ndarray[Any, Any]:
    """What the platform makes of ``predict``'s return value (child, then parent side)."""
    task = TASKS[kind]
    table, problem = as_prediction_table(raw, task.classes)
    if table is None:
        raise MalformedPredictionsError("repo@1234567", str(problem))
    return validate_predictions("repo@1234567", table, task=task, expected_rows=rows)


def test_each_type_accepts_its_shape() -> None:
    assert returned("regression", pd.Series([1, 2.5, -3])).tolist() == [1.0, 2.5, -3.0]
    assert returned("binary", np.array([0.0, 0.5, 1.0])).tolist() == [0.0, 0.5, 1.0]
    matrix = returned("multiclass", [[0.2, 0.7, 0.1], [1, 0, 0], [0.3, 0.3, 0.4]])
    assert matrix.shape == (3, 3)
    named = pd.DataFrame({"late": [0.7, 0.0, 0.3], "cancelled": [0.1, 0.0, 0.4],
                          "on_time": [0.2, 1.0, 0.3]})  # fmt: skip
    assert returned("multiclass", named).tolist() == matrix.tolist()  # put in declared order


@pytest.mark.parametrize(
    ("kind", "raw", "problem", "expected"),
    [
        ("regression", [1.0, float("nan"), 2.0], "1 row(s) are NaN", "one finite number"),
        ("regression", [1.0, 2.0], "2 prediction(s) for 3 input row(s)", "one finite number"),
        ("regression", ["a", "b", "c"], "values of type string", "one finite number"),
        ("binary", [0.2, 1.3, 0.5], "probabilities outside [0, 1]", "probability of the positive"),
        ("binary", [[0.8, 0.2]] * 3, "2 values per row, expected one", "positive class in [0, 1]"),
        ("multiclass", [0.1, 0.2, 0.3], "one value per row, expected one column per class",
         "one column of probabilities per declared class"),
        ("multiclass", [[0.5, 0.5]] * 3, "2 column(s) of predictions for 3 classes",
         "classes on_time, late, cancelled"),
        ("multiclass", [[0.5, 0.5, 0.5]] * 3, "do not sum to 1", "rows summing to 1"),
        ("multiclass", [[1.2, -0.2, 0.0]] * 3, "outside [0, 1]", "declared class"),
    ],
)  # fmt: skip
def test_malformed_predictions_name_the_expectation(
    kind: str, raw: Any, problem: str, expected: str
) -> None:
    with pytest.raises(MalformedPredictionsError) as error:
        returned(kind, raw)
    message = str(error.value)
    assert message.startswith("Candidate repo@1234567: returned malformed predictions")
    assert problem in message and expected in message, message


def test_subgroup_labels_from_values_bins_and_derived_parts() -> None:
    table = pa.table(
        {
            "dest": ["ATL", None, "BOS"],
            "hour": [5, 9, 23],
            "at": pa.array(
                [dt.datetime(2024, 1, 1, 7), dt.datetime(2024, 1, 6, 13), dt.datetime(2024, 3, 1)],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    assert subgroup_labels(table, SubgroupConfig(column="dest")) == ["ATL", "missing", "BOS"]
    bins = SubgroupConfig(name="slot", column="hour", bins=[6, 12, 18])
    assert subgroup_labels(table, bins) == ["<6", "[6, 12)", ">=18"]
    assert subgroup_labels(table, SubgroupConfig(column="at", derive="hour")) == ["7", "13", "0"]
    assert subgroup_labels(table, SubgroupConfig(column="at", derive="weekday")) == ["0", "5", "4"]


def test_binary_predictions_table_encodes_the_positive_class() -> None:
    task = TASKS["binary"].model_copy(update={"subgroups": [SubgroupConfig(column="dest")]})
    suite = pa.table({"id": [3, 1, 2], "dest": ["A", "B", "A"], "y": ["yes", "no", "yes"]})
    table = predictions_table(suite, np.array([0.9, 0.1, 0.6]), task=task, row_id="id")
    assert table.column_names == ["row_id", "dest", "actual", "prediction"]
    assert table.column("row_id").to_pylist() == ["3", "1", "2"]
    assert table.column("actual").to_pylist() == [1.0, 0.0, 1.0]
