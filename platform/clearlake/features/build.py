"""Building a feature table's days: run its SQL or its function, then hold it to its schema.

A result is converted to the declared schema only where nothing can change silently:
wider integers, numbers to floats, timestamp units and zones, text to text, an all-null
column to any type. Anything else (a missing or extra column, text where a number is
declared, nulls in a not-null column) is an error naming the feature, the column and the
fix. Rows are put in row-id order, so the same inputs give byte-identical partitions (the
same data version) whatever order the SQL engine or the function produced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import ClearlakeError
from clearlake.features.datasets import schema_problems
from clearlake.features.inputs import FeatureInputs, ReadCache
from clearlake.lake.store import LakeStore

if TYPE_CHECKING:
    from clearlake.features.tables import FeatureTable

FeatureFunction = Callable[[FeatureInputs, dt.date], "pa.Table | pd.DataFrame"]


class FeatureSchemaError(ClearlakeError):
    """A feature table's result does not fit its declared schema."""

    def __init__(self, feature: str, problems: list[str], fix: str) -> None:
        self.feature = feature
        self.problems = problems
        super().__init__(
            f"Feature table {feature} does not match its declared schema: "
            f"{'; '.join(problems)}. {fix}"
        )


def _convertible(source: pa.DataType, declared: pa.DataType) -> bool:
    if source == declared or pa.types.is_null(source):
        return True
    number = (
        pa.types.is_integer(source) or pa.types.is_floating(source) or pa.types.is_decimal(source)
    )
    pairs = [
        pa.types.is_integer(source) and pa.types.is_integer(declared),
        number and pa.types.is_floating(declared),
        pa.types.is_timestamp(source) and pa.types.is_timestamp(declared),
        pa.types.is_date(source) and pa.types.is_date(declared),
        _is_text(source) and _is_text(declared),
    ]
    return any(pairs)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _fix(table: FeatureTable) -> str:
    where = "its SQL" if table.sql is not None else f"{table.config.function}"
    return (
        f"Change {where} to return the declared columns and types (CAST in SQL), or change "
        f"the declaration of features.{table.name}.columns in the project's clearlake.yaml."
    )


def conform(table: FeatureTable, data: pa.Table) -> pa.Table:
    """``data`` in ``table``'s declared schema and row-id order, or :class:`FeatureSchemaError`."""
    schema = table.schema
    missing = [n for n in schema.names if n not in data.column_names]
    extra = [n for n in data.column_names if n not in schema.names]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"undeclared column(s) {', '.join(extra)}")
    columns = []
    for field in schema:
        if field.name in missing:
            continue
        column = data.column(field.name)
        if not _convertible(column.type, field.type):
            problems.append(f"column {field.name} is {column.type}, declared {field.type}")
            continue
        try:
            columns.append(column.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            problems.append(f"column {field.name} does not convert to {field.type}: {exc}")
    if problems:
        raise FeatureSchemaError(table.name, problems, _fix(table))
    typed = pa.Table.from_arrays(columns, schema=schema.remove_metadata())
    return _checked(table, _ordered(typed, table.row_id))


def _checked(table: FeatureTable, data: pa.Table) -> pa.Table:
    problems = schema_problems(table.schema, data)
    if problems:
        raise FeatureSchemaError(table.name, problems, _fix(table))
    return data


def _ordered(data: pa.Table, row_id: str) -> pa.Table:
    contiguous = data.combine_chunks()
    return contiguous.take(pc.sort_indices(contiguous, sort_keys=[(row_id, "ascending")]))


def from_pandas(table: FeatureTable, frame: pd.DataFrame) -> pa.Table:
    """A function's pandas result with the declared types (pandas' own conversion)."""
    missing = [n for n in table.schema.names if n not in frame.columns]
    if missing:
        raise FeatureSchemaError(
            table.name, [f"missing column(s) {', '.join(missing)}"], _fix(table)
        )
    try:
        data = pa.Table.from_pandas(
            frame[table.schema.names], schema=table.schema, preserve_index=False
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise FeatureSchemaError(table.name, [str(exc)], _fix(table)) from None
    return _checked(table, _ordered(data.replace_schema_metadata(None), table.row_id))


def build_days(
    table: FeatureTable,
    store: LakeStore,
    days: Sequence[dt.date],
    function: FeatureFunction | None = None,
) -> dict[dt.date, pa.Table]:
    """Each of ``days`` of ``table``, in its declared schema (``function`` for a function
    feature: the project's object, loaded by the caller)."""
    cache = ReadCache()
    try:
        return {day: _build_day(table, store, day, function, cache) for day in days}
    finally:
        cache.close()


def _build_day(
    table: FeatureTable,
    store: LakeStore,
    day: dt.date,
    function: FeatureFunction | None,
    cache: ReadCache,
) -> pa.Table:
    inputs = FeatureInputs(
        feature=table.name, tables=table.inputs, store=store, day=day, cache=cache
    )
    for name, declared in table.inputs.items():  # the day must be in the lake
        if declared.partitioned:
            inputs.require(name, day, day)
    if table.sql is not None:
        return conform(table, inputs.sql(table.sql))
    assert function is not None, f"feature {table.name} needs its function"
    result = function(inputs, day)
    if isinstance(result, pd.DataFrame):
        return from_pandas(table, result)
    if isinstance(result, pa.Table):
        return conform(table, result)
    raise FeatureSchemaError(
        table.name,
        [f"{table.config.function} returned {type(result).__name__}"],
        "Return a pyarrow.Table or a pandas.DataFrame.",
    )
