"""Data checks of a feature table, as plain functions (the assets turn them into checks).

Two are always there and block what is downstream: the published files have exactly
the declared schema, and the row id identifies one row (evaluation joins on it). The
others are declared per table (``range``, ``coverage``), blocking only when declared so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from clearlake.features.datasets import schema_problems
from clearlake.project.config import FeatureCheckConfig

SCHEMA_CHECK = "schema_matches_declaration"
UNIQUE_CHECK = "unique_row_id"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, float | int | str] = field(default_factory=dict)


def published_schema(declared: pa.Schema, schemas: list[pa.Schema]) -> CheckOutcome:
    """Every published partition file has exactly the declared schema."""
    problems = sorted({p for s in schemas for p in schema_problems(declared, s.empty_table())})
    return CheckOutcome(
        SCHEMA_CHECK,
        not problems,
        "; ".join(problems) or f"{len(schemas)} partition file(s) match the declared schema",
        {"partitions_checked": len(schemas)},
    )


def unique_row_id(data: pa.Table, row_id: str) -> CheckOutcome:
    duplicates = data.num_rows - len(pc.unique(data.column(row_id)))
    return CheckOutcome(
        UNIQUE_CHECK,
        duplicates == 0,
        f"{duplicates} duplicate {row_id} value(s)" if duplicates else f"{row_id} is unique",
        {"duplicates": duplicates},
    )


def _null_fraction(data: pa.Table, column: str) -> float:
    return data.column(column).null_count / max(data.num_rows, 1)


def declared_check(check: FeatureCheckConfig, data: pa.Table) -> CheckOutcome:
    """A ``range`` or ``coverage`` check declared in the project."""
    column = data.column(check.column)
    if check.kind == "coverage":
        assert check.min_fraction is not None
        covered = 1.0 - _null_fraction(data, check.column)
        return CheckOutcome(
            check.name,
            covered >= check.min_fraction,
            f"{covered:.1%} of rows have {check.column} (minimum {check.min_fraction:.0%})",
            {"coverage": round(covered, 4)},
        )
    low = -float("inf") if check.min is None else check.min
    high = float("inf") if check.max is None else check.max
    outside = pc.sum(pc.or_(pc.less(column, low), pc.greater(column, high))).as_py() or 0
    bounds = f"[{low:g}, {high:g}]"
    return CheckOutcome(
        check.name,
        outside == 0,
        f"{outside} {check.column} value(s) outside {bounds}"
        if outside
        else f"every {check.column} lies in {bounds}",
        {
            "outside": int(outside),
            "null_fraction": round(_null_fraction(data, check.column), 4),
        },
    )


def all_checks(
    data: pa.Table,
    schemas: list[pa.Schema],
    *,
    declared: pa.Schema,
    row_id: str,
    checks: list[FeatureCheckConfig],
) -> list[CheckOutcome]:
    return [
        published_schema(declared, schemas),
        unique_row_id(data, row_id),
        *(declared_check(c, data) for c in checks),
    ]
