"""Evaluation suites: pinned windows of feature rows that candidates are trained and scored on.

A suite is declared in the configuration (name, start, end, role) and materialised as the
asset ``evaluation/suites/<name>`` (``<lake>/evaluation/suites/<name>/data.parquet``). Its
code version hashes its definition, so changing a window changes the suite's version and
marks everything evaluated on it as unsynced.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from clearlake.evaluation.config import SuiteConfig
from clearlake.evaluation.errors import SuiteNotMaterialisedError
from clearlake.features.datasets import TypedDataset
from clearlake.features.flight_features import (
    FLIGHT_FEATURES_SCHEMA,
    FlightFeatures,
    missing_days,
    read_flight_features,
)
from clearlake.lake.store import LakeStore
from clearlake.versioning import digest, json_version, source_version

SUITES_TABLE = "evaluation/suites"
TARGET = "arr_delay"

SUITE_SCHEMA = pa.schema(
    [f.with_nullable(False) if f.name == TARGET else f for f in FLIGHT_FEATURES_SCHEMA]
)


class EvaluationSuite(TypedDataset):
    """Feature rows of a window whose target is known, ordered by ``flight_id``."""

    name = "evaluation suite"
    schema = SUITE_SCHEMA


def build_suite(features: FlightFeatures, suite: SuiteConfig) -> EvaluationSuite:
    dates = features.column("flight_date")
    keep = pc.and_(
        pc.and_(
            pc.greater_equal(dates, pa.scalar(suite.start)),
            pc.less_equal(dates, pa.scalar(suite.end)),
        ),
        pc.is_valid(features.column(TARGET)),
    )
    table = features.table.filter(keep).sort_by("flight_id")
    return EvaluationSuite(table.cast(SUITE_SCHEMA))


def suite_from_lake(store: LakeStore, name: str, suite: SuiteConfig) -> EvaluationSuite:
    """Build a suite from the published feature partitions (all must be present)."""
    absent = missing_days(store, suite.start, suite.end)
    if absent:
        raise SuiteNotMaterialisedError(
            name,
            f"features/flight_features has no partition for {absent[0]}..{absent[-1]} "
            f"({len(absent)} day(s)): materialise them first",
        )
    return build_suite(read_flight_features(store, suite.start, suite.end), suite)


def suite_code_version(name: str, suite: SuiteConfig) -> str:
    """Hash of the suite's definition and of the code that builds it."""
    return digest(
        source_version(EvaluationSuite, build_suite, suite_from_lake),
        json_version({"name": name, **suite.model_dump(mode="json")}),
    )


def suite_table(name: str) -> str:
    return f"{SUITES_TABLE}/{name}"


def load_suite(store: LakeStore, name: str) -> EvaluationSuite:
    """The materialised suite ``name``; a clear error when it was never materialised."""
    path = store.partition_file(suite_table(name), None)
    if not store.exists(path):
        raise SuiteNotMaterialisedError(name, f"{path} is missing")
    return EvaluationSuite.read(
        store.read_table(path),
        hint=f"the stored suite {name!r} is stale: materialise evaluation/suites/{name} again",
    )
