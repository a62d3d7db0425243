"""Predictions of a candidate: validated, then kept beside the rows they predict.

The ``candidate_predictions`` asset stores one row per held-out row:
``flight_id`` (str), ``carrier`` (str), ``origin`` (str), ``month`` (int),
``actual`` (float, the target) and ``prediction`` (float). Scores and comparisons need
nothing else, and comparisons join two candidates on ``flight_id`` (identical rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.evaluation.errors import MalformedPredictionsError
from clearlake.evaluation.suites import TARGET, EvaluationSuite

PREDICTIONS_SCHEMA = pa.schema(
    [
        pa.field("flight_id", pa.string(), nullable=False),
        pa.field("carrier", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("month", pa.int64(), nullable=False),
        pa.field("actual", pa.float64(), nullable=False),
        pa.field("prediction", pa.float64(), nullable=False),
    ]
)


def validate_predictions(
    candidate: str, raw: pa.Array | pa.ChunkedArray, *, expected_rows: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Finite floats, one per row, or :class:`MalformedPredictionsError` saying what is wrong."""
    if len(raw) != expected_rows:
        raise MalformedPredictionsError(
            candidate, f"{len(raw)} prediction(s) for {expected_rows} input row(s)"
        )
    if not (pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type)):
        raise MalformedPredictionsError(
            candidate, f"values of type {raw.type}, expected numbers (int or float)"
        )
    values = np.asarray(pc.cast(raw, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MalformedPredictionsError(
            candidate,
            f"{int(bad.sum())} value(s) are NaN, missing or infinite (first at row {first})",
        )
    return values


def predictions_table(
    suite: EvaluationSuite, values: np.ndarray[Any, np.dtype[np.float64]]
) -> pa.Table:
    """The stored shape of ``candidate_predictions`` (see the module docstring)."""
    table = suite.table
    return pa.table(
        {
            "flight_id": table.column("flight_id"),
            "carrier": table.column("carrier"),
            "origin": table.column("origin"),
            "month": table.column("month"),
            "actual": table.column(TARGET),
            "prediction": pa.array(values, type=pa.float64()),
        },
        schema=PREDICTIONS_SCHEMA,
    )


def as_frame(table: pa.Table | pd.DataFrame) -> pd.DataFrame:
    return table.to_pandas() if isinstance(table, pa.Table) else table
