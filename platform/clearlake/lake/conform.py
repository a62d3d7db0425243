"""Match source record batches to a declared schema — or report drift, never coerce.

A few representations are not drift: SQLite has no DATE or TIMESTAMP types and keeps
them as ISO-8601 text, and a column with no values in a batch may come typed ``null``
or ``int64``. Those are converted with safe casts (a value that does not convert is an
error, not a silent change). Anything else — a missing column, a new column, another
type — is drift: the batch is kept exactly as the source gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Conformance:
    """Outcome of comparing a source schema with the declared one."""

    declared: pa.Schema
    source: pa.Schema
    problems: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.problems)

    @property
    def output_schema(self) -> pa.Schema:
        """Declared schema when conforming; the raw source schema on drift."""
        return self.source.remove_metadata() if self.drifted else self.declared


def _is_representation(source: pa.DataType, declared: pa.DataType) -> bool:
    if source == declared or pa.types.is_null(source):
        return True
    if pa.types.is_string(source) and (
        pa.types.is_date(declared) or pa.types.is_timestamp(declared)
    ):
        return True
    return pa.types.is_integer(source) and pa.types.is_floating(declared)


def compare(declared: pa.Schema, source: pa.Schema, *, names_only: bool = False) -> Conformance:
    """Problems between the declared and the source schema.

    ``names_only`` is for empty results, whose types carry no information (SQLite's
    driver infers every column of an empty result as int64).
    """
    result = Conformance(declared=declared, source=source)
    source_types = {f.name: f.type for f in source}
    for f in declared:
        if f.name not in source_types:
            result.problems.append(f"column {f.name!r} ({f.type}) is missing")
        elif not names_only and not _is_representation(source_types[f.name], f.type):
            result.problems.append(
                f"column {f.name!r} is {source_types[f.name]}, declared {f.type}"
            )
    for name, kind in source_types.items():
        if declared.get_field_index(name) < 0:
            result.problems.append(f"new column {name!r} ({kind}) is not declared")
    return result


def _convert(column: pa.Array, declared: pa.DataType) -> pa.Array:
    """Safe cast: ISO-8601 text parses to dates/timestamps; a bad value raises."""
    return column if column.type == declared else column.cast(declared, safe=True)


def conform_batch(batch: pa.RecordBatch, declared: pa.Schema) -> pa.RecordBatch:
    arrays = [_convert(batch.column(f.name), f.type) for f in declared]
    return pa.RecordBatch.from_arrays(arrays, schema=declared)


def conform_batches(
    batches: Iterable[pa.RecordBatch], conformance: Conformance
) -> Iterator[pa.RecordBatch]:
    """Yield batches in ``conformance.output_schema``."""
    for batch in batches:
        if conformance.drifted:
            yield batch.replace_schema_metadata(None).cast(conformance.output_schema)
        else:
            yield conform_batch(batch, conformance.declared)
