"""Data checks of ``flight_features``, as plain functions (the assets turn them into checks).

Each returns a :class:`CheckOutcome`; thresholds are arguments so tests can exercise the
failing side with real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from clearlake.features.datasets import schema_problems
from clearlake.features.flight_features import FLIGHT_FEATURES_SCHEMA, FlightFeatures


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, float | int | str] = field(default_factory=dict)


def published_schema(schemas: list[pa.Schema]) -> CheckOutcome:
    """Every published partition file has exactly the declared schema."""
    problems = sorted(
        {p for s in schemas for p in schema_problems(FLIGHT_FEATURES_SCHEMA, s.empty_table())}
    )
    return CheckOutcome(
        "schema_matches_declaration",
        not problems,
        "; ".join(problems) or f"{len(schemas)} partition file(s) match the declared schema",
        {"partitions_checked": len(schemas)},
    )


def unique_flight_ids(features: FlightFeatures) -> CheckOutcome:
    duplicates = features.num_rows - features.distinct_count("flight_id")
    return CheckOutcome(
        "unique_flight_ids",
        duplicates == 0,
        f"{duplicates} duplicate flight_id value(s)" if duplicates else "flight_id is unique",
        {"duplicates": duplicates},
    )


def target_range(
    features: FlightFeatures, *, low: float = -120.0, high: float = 1500.0
) -> CheckOutcome:
    """Arrival delays outside ``[low, high]`` minutes are data errors, not late flights."""
    delay = features.column("arr_delay")
    outside = pc.sum(pc.or_(pc.less(delay, low), pc.greater(delay, high))).as_py() or 0
    return CheckOutcome(
        "target_in_range",
        outside == 0,
        f"{outside} arr_delay value(s) outside [{low:g}, {high:g}] minutes"
        if outside
        else f"every arr_delay lies in [{low:g}, {high:g}] minutes",
        {
            "outside": int(outside),
            "target_null_fraction": round(features.null_fraction("arr_delay"), 4),
        },
    )


def weather_coverage(features: FlightFeatures, *, minimum: float = 0.9) -> CheckOutcome:
    """Most flights must find a weather observation at their origin hour."""
    covered = 1.0 - features.null_fraction("temp")
    return CheckOutcome(
        "weather_coverage",
        covered >= minimum,
        f"{covered:.1%} of flights have weather at the origin hour (minimum {minimum:.0%})",
        {"coverage": round(covered, 4)},
    )


def all_checks(features: FlightFeatures, schemas: list[pa.Schema]) -> list[CheckOutcome]:
    return [
        published_schema(schemas),
        unique_flight_ids(features),
        target_range(features),
        weather_coverage(features),
    ]
