"""Typed datasets: a declared Arrow schema wrapped around the data, not a bare dataframe.

A :class:`TypedDataset` subclass declares its ``schema``; constructing one checks the data
against it (column names, order, types and nullability) and raises
:class:`DatasetSchemaError` naming the dataset and the columns at fault. Code that receives
a typed dataset therefore knows what it holds without looking.
"""

from __future__ import annotations

from typing import ClassVar, Self

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import ClearlakeError
from clearlake.versioning import digest


class DatasetSchemaError(ClearlakeError):
    def __init__(self, dataset: str, problems: list[str]) -> None:
        self.dataset = dataset
        self.problems = problems
        super().__init__(
            f"Data does not match the declared schema of {dataset}: " + "; ".join(problems)
        )


def schema_problems(declared: pa.Schema, table: pa.Table) -> list[str]:
    """Differences between ``table`` and ``declared`` (empty when it conforms)."""
    problems: list[str] = []
    actual = table.schema
    missing = [n for n in declared.names if n not in actual.names]
    extra = [n for n in actual.names if n not in declared.names]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"undeclared column(s) {', '.join(extra)}")
    for field in declared:
        if field.name not in actual.names:
            continue
        found = actual.field(field.name)
        if not found.type.equals(field.type):
            problems.append(f"column {field.name} is {found.type}, declared {field.type}")
        elif not field.nullable and table.column(field.name).null_count:
            nulls = table.column(field.name).null_count
            problems.append(f"column {field.name} has {nulls} null(s) but is not nullable")
    if not problems and actual.names != declared.names:
        problems.append(f"columns are in order {actual.names}, declared {declared.names}")
    return problems


class TypedDataset:
    """Base of every typed dataset; subclasses set ``name`` and ``schema``."""

    name: ClassVar[str]
    schema: ClassVar[pa.Schema]

    def __init__(self, table: pa.Table) -> None:
        problems = schema_problems(self.schema, table)
        if problems:
            raise DatasetSchemaError(self.name, problems)
        self.table = table.replace_schema_metadata(None)

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame) -> Self:
        """Convert with the declared types; a column that cannot be converted is an error."""
        missing = [n for n in cls.schema.names if n not in frame.columns]
        if missing:
            raise DatasetSchemaError(cls.name, [f"missing column(s) {', '.join(missing)}"])
        try:
            table = pa.Table.from_pandas(
                frame[cls.schema.names], schema=cls.schema, preserve_index=False
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise DatasetSchemaError(cls.name, [str(exc)]) from None
        return cls(table)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Self:
        return cls(table)

    @classmethod
    def read(cls, table: pa.Table, *, hint: str = "") -> Self:
        """Data read back from storage: Parquet may relax nullability, nothing else."""
        problems = [p for p in schema_problems(cls.schema, table) if "is not nullable" not in p]
        if problems:
            raise DatasetSchemaError(cls.name, [*problems, hint] if hint else problems)
        return cls(table.cast(cls.schema))

    def to_pandas(self) -> pd.DataFrame:
        return self.table.to_pandas()

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def __len__(self) -> int:
        return self.table.num_rows

    def content_hash(self) -> str:
        """A data version: the same rows in the same order give the same hash."""
        return table_digest(self.table)

    def column(self, name: str) -> pa.ChunkedArray:
        return self.table.column(name)

    def null_fraction(self, name: str) -> float:
        return self.table.column(name).null_count / max(self.num_rows, 1)

    def distinct_count(self, name: str) -> int:
        return len(pc.unique(self.table.column(name)))


def table_digest(table: pa.Table) -> str:
    """Content hash of an Arrow table (schema + values), independent of chunking."""
    sink = pa.BufferOutputStream()
    combined = table.replace_schema_metadata(None).combine_chunks()
    with pa.ipc.new_stream(sink, combined.schema) as writer:
        writer.write_table(combined)
    return digest(sink.getvalue().to_pybytes())


def frame_digest(frame: pd.DataFrame) -> str:
    return table_digest(pa.Table.from_pandas(frame, preserve_index=False))


def concat_tables(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """Concatenate typed tables (an empty list gives an empty table of ``schema``)."""
    return pa.concat_tables(tables) if tables else schema.empty_table()
