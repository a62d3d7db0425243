"""Evaluation suites: pinned windows of a task's dataset that candidates train and are scored on.

A suite is declared in a task (name, start, end, role) and materialised as the asset
``evaluation/<task>/suites/<name>`` (``<lake>/evaluation/<task>/suites/<name>/data.parquet``):
the dataset's rows whose date lies in the window and whose target is known, ordered by
row id, with the dataset's declared schema (target not null). Its code version hashes its
definition and the task fields that select its rows, so changing a window (or the target)
changes the suite's version and unsyncs what was evaluated on it — and nothing of another
task.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from clearlake.errors import ClearlakeError
from clearlake.evaluation.errors import SuiteNotMaterialisedError
from clearlake.features.datasets import schema_problems
from clearlake.lake.store import LakeStore
from clearlake.project.config import FeatureConfig, SuiteConfig, TaskConfig, arrow_schema
from clearlake.versioning import digest, json_version, source_version


def feature_table(dataset: str) -> str:
    """Where the lake keeps a feature table (``features/<name>/date=…/data.parquet``)."""
    return f"features/{dataset}"


def suite_table(task: str, suite: str) -> str:
    return f"evaluation/{task}/suites/{suite}"


def suite_schema(task: TaskConfig, dataset: FeatureConfig) -> pa.Schema:
    """The dataset's declared schema with the target not nullable."""
    schema = arrow_schema(dataset.columns)
    index = schema.get_field_index(task.target)
    return schema.set(index, schema.field(index).with_nullable(False))


def row_id(task: TaskConfig, dataset: FeatureConfig) -> str:
    return task.row_id or dataset.row_id


def date_column(task: TaskConfig, dataset: FeatureConfig) -> str:
    return task.date_column or dataset.date_column


def candidate_columns(task: TaskConfig, dataset: FeatureConfig, *, train: bool) -> list[str]:
    """The columns a candidate sees: the dataset's, minus ``exclude_columns`` (and the
    target, except in the training frame)."""
    hidden = set(task.exclude_columns) | (set() if train else {task.target})
    return [c for c in dataset.columns if c not in hidden]


def build_suite(
    features: pa.Table,
    *,
    task: TaskConfig,
    dataset: FeatureConfig,
    suite: SuiteConfig,
    window: tuple[dt.date, dt.date] | None = None,
) -> pa.Table:
    """The rows of ``suite``'s window (a rolling suite's: ``window``) with a known target,
    ordered by row id."""
    start, end = window or suite.span()
    dates = features.column(date_column(task, dataset))
    if pa.types.is_timestamp(dates.type):
        dates = pc.cast(dates, pa.date32())
    keep = pc.and_(
        pc.and_(
            pc.greater_equal(dates, pa.scalar(start)),
            pc.less_equal(dates, pa.scalar(end)),
        ),
        pc.is_valid(features.column(task.target)),
    )
    table = features.filter(keep).sort_by(row_id(task, dataset))
    if task.type == "multiclass":
        assert task.classes is not None
        found = set(pc.unique(pc.cast(table.column(task.target), pa.string())).to_pylist())
        unknown = sorted(found - set(task.classes))
        if unknown:
            raise ClearlakeError(
                f"Target {task.target} holds class(es) {', '.join(unknown)} that are not among "
                f"the task's declared classes ({', '.join(task.classes)}): declare them."
            )
    return table.cast(suite_schema(task, dataset))


def missing_days(store: LakeStore, dataset: str, start: dt.date, end: dt.date) -> list[dt.date]:
    present = set(store.list_partitions(feature_table(dataset)))
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [d for d in days if d.isoformat() not in present]


def suite_from_lake(
    store: LakeStore,
    *,
    task_name: str,
    task: TaskConfig,
    dataset: FeatureConfig,
    suite_name: str,
    partition: dt.date | None = None,
) -> pa.Table:
    """Build a suite from the published feature partitions (all must be present); a
    rolling suite's partition ``partition`` (see ``SuiteConfig.window_ending``)."""
    suite = task.suites[suite_name]
    table = feature_table(task.dataset)
    start, end = suite.window_ending(partition) if partition is not None else suite.span()
    absent = missing_days(store, task.dataset, start, end)
    if absent:
        raise SuiteNotMaterialisedError(
            task_name,
            suite_name,
            f"{table} has no partition for {absent[0]}..{absent[-1]} ({len(absent)} day(s)): "
            "materialise them first",
        )
    declared = arrow_schema(dataset.columns)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    files = [store.partition_file(table, f"date={d.isoformat()}") for d in days]
    features = ds.dataset(files, format="parquet", filesystem=store.fs, schema=declared).to_table()
    return build_suite(features, task=task, dataset=dataset, suite=suite, window=(start, end))


def suite_code_version(task: TaskConfig, suite_name: str) -> str:
    """Hash of the suite's definition, the task fields that select rows, and the code."""
    selecting = task.model_dump(
        mode="json", include={"dataset", "target", "type", "row_id", "date_column", "classes"}
    )
    return digest(
        source_version(build_suite, suite_from_lake, suite_schema),
        json_version({"name": suite_name, **_definition(task.suites[suite_name]), **selecting}),
    )


def _definition(suite: SuiteConfig) -> dict[str, object]:
    """A suite's declaration as hashed; a pinned one as before rolling suites existed (so
    adding them did not unsync every materialised suite)."""
    rolling = {"rolling_days", "label_delay_days"}
    return suite.model_dump(mode="json", exclude=None if suite.rolling else rolling)


def load_suite(
    store: LakeStore, *, task_name: str, task: TaskConfig, dataset: FeatureConfig, suite_name: str
) -> pa.Table:
    """The materialised suite (a rolling suite's current window: its newest partition); a
    clear error when it was never materialised or is stale."""
    path = store.partition_file(suite_table(task_name, suite_name), None)
    if task.suites[suite_name].rolling:
        current = current_partition(store, task_name, suite_name)
        if current is None:
            raise SuiteNotMaterialisedError(
                task_name, suite_name, "the rolling suite has no partition yet"
            )
        path = store.partition_file(suite_table(task_name, suite_name), f"date={current}")
    if not store.exists(path):
        raise SuiteNotMaterialisedError(task_name, suite_name, f"{path} is missing")
    table = store.read_table(path)
    problems = schema_problems(suite_schema(task, dataset), table)
    if problems:
        raise SuiteNotMaterialisedError(
            task_name,
            suite_name,
            "the stored suite does not match the dataset's declared schema ("
            + "; ".join(problems)
            + ")",
        )
    return table


def current_partition(store: LakeStore, task_name: str, suite_name: str) -> dt.date | None:
    """A rolling suite's newest materialised partition: the window candidates are scored on."""
    found = store.list_partitions(suite_table(task_name, suite_name))
    return dt.date.fromisoformat(max(found)) if found else None


def current_window(
    store: LakeStore, task_name: str, task: TaskConfig, suite_name: str
) -> tuple[dt.date, dt.date] | None:
    """The days a suite's stored rows cover now (a rolling suite's current window)."""
    suite = task.suites[suite_name]
    if not suite.rolling:
        return suite.span()
    current = current_partition(store, task_name, suite_name)
    return suite.window_ending(current) if current is not None else None
