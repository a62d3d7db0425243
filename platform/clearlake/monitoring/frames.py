"""The rows a monitor reads and the tables it writes, as plain functions of the lake.

* the **reference** rows: a suite of the task (as materialised for evaluation) or a window
  of the dataset's days, with a known target;
* a **day's** dataset rows (features; the target may not be known yet);
* a day's **predictions** table: ``row_id``, the subgroup labels, ``prediction``, the
  declared drift columns and ``model`` (the watched key) — no target;
* a day's **labelled** table: the predictions joined with the day's targets once mature
  (``row_id``, subgroup labels, ``actual``, ``prediction``: the evaluation's shape, so
  the same scoring code applies).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from clearlake.evaluation.predictions import (
    ACTUAL,
    PREDICTION,
    ROW_ID,
    encode_actual,
    subgroup_labels,
)
from clearlake.evaluation.suites import build_suite, feature_table, load_suite, row_id
from clearlake.lake.store import LakeStore, date_partition
from clearlake.project.config import (
    FeatureConfig,
    MonitorConfig,
    SuiteConfig,
    TaskConfig,
    arrow_schema,
)

MODEL = "model"


def reference_window(task: TaskConfig, monitor: MonitorConfig) -> tuple[dt.date, dt.date]:
    reference = monitor.reference
    if reference.suite is not None:
        return task.suites[reference.suite].span()  # pinned: the project's cross-checks
    assert reference.start is not None and reference.end is not None
    return reference.start, reference.end


def dataset_days(store: LakeStore, dataset: FeatureConfig, name: str, days: list[str]) -> pa.Table:
    """The feature table's rows of ``days`` (absent days skipped), declared schema."""
    table = feature_table(name)
    files = [store.partition_file(table, date_partition(d)) for d in days]
    present = [f for f in files if store.exists(f)]
    declared = arrow_schema(dataset.columns)
    if not present:
        return declared.empty_table()
    return ds.dataset(present, format="parquet", filesystem=store.fs, schema=declared).to_table()


def reference_rows(
    store: LakeStore, *, task_name: str, task: TaskConfig, dataset: FeatureConfig
) -> pa.Table:
    """The reference window's rows with a known target, ordered by row id."""
    monitor = task.monitor
    assert monitor is not None
    if monitor.reference.suite is not None:
        return load_suite(
            store,
            task_name=task_name,
            task=task,
            dataset=dataset,
            suite_name=monitor.reference.suite,
        )
    start, end = reference_window(task, monitor)
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    rows = dataset_days(store, dataset, task.dataset, days)
    window = SuiteConfig(start=start, end=end)
    return build_suite(rows, task=task, dataset=dataset, suite=window)


def predictions_table(
    rows: pa.Table,
    values: np.ndarray[Any, Any],
    *,
    task: TaskConfig,
    dataset: FeatureConfig,
    model: str,
) -> pa.Table:
    """A day's (or the reference's) predictions, without the target."""
    assert task.monitor is not None
    columns: dict[str, Any] = {ROW_ID: pc.cast(rows.column(row_id(task, dataset)), pa.string())}
    for subgroup in task.subgroups:
        columns[subgroup.label] = pa.array(subgroup_labels(rows, subgroup), type=pa.string())
    kind = pa.list_(pa.float64()) if task.type == "multiclass" else pa.float64()
    columns[PREDICTION] = pa.array(values.tolist() if values.ndim == 2 else values, type=kind)
    for column in task.monitor.drift.columns:
        columns[f"drift__{column}"] = rows.column(column)
    columns[MODEL] = pa.array([model] * rows.num_rows, type=pa.string())
    return pa.table(columns)


def labelled_table(
    predictions: pa.Table, features: pa.Table, *, task: TaskConfig, dataset: FeatureConfig
) -> pa.Table:
    """Predictions joined with the rows' targets (rows whose target is unknown dropped)."""
    ids = pc.cast(features.column(row_id(task, dataset)), pa.string())
    known = pc.is_valid(features.column(task.target))
    targets = pa.table({ROW_ID: ids, ACTUAL: encode_actual(task, features.column(task.target))})
    targets = targets.filter(known)
    keep = [ROW_ID, *(s.label for s in task.subgroups), PREDICTION, MODEL]
    joined = predictions.select(keep).join(targets, ROW_ID, join_type="inner")
    ordered = [ROW_ID, *(s.label for s in task.subgroups), ACTUAL, PREDICTION, MODEL]
    return joined.select(ordered).sort_by(ROW_ID)


def score_column(frame: pd.DataFrame) -> pd.Series:
    """The model's score as one number per row (a multiclass row: its top probability)."""
    values = frame[PREDICTION]
    if len(values) and isinstance(values.iloc[0], (list, np.ndarray)):
        return pd.Series([float(np.max(v)) for v in values], index=frame.index)
    return values.astype(float)


def drift_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns drift is measured on: the score, and the declared columns by name."""
    out = pd.DataFrame({PREDICTION: score_column(frame)})
    for column in frame.columns:
        if column.startswith("drift__"):
            out[column.removeprefix("drift__")] = frame[column].to_numpy()
    return out
