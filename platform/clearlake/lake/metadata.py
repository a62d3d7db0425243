"""The Dagster metadata every published lake partition carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from clearlake.lake.store import WrittenPartition
from clearlake.project.arrow_types import type_name


def written_metadata(written: WrittenPartition) -> dict[str, Any]:
    """Where the partition is, its size and its exact content version.

    ``content_hash`` is the partition's own: in a ranged run Dagster gives every
    partition the range's combined data version, so this is what tells the days apart.
    """
    return {
        "path": dg.MetadataValue.path(written.uri),
        "dagster/row_count": written.row_count,
        "bytes": written.byte_size,
        "content_hash": written.content_hash[:16],
    }


def declared_table_schema(
    schema: pa.Schema, descriptions: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """A declared Arrow schema as Dagster's column schema (types as configured, nullability)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name,
                type_name(f.type),
                description=(descriptions or {}).get(f.name) or None,
                constraints=dg.TableColumnConstraints(nullable=f.nullable),
            )
            for f in schema
        ]
    )
