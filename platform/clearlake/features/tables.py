"""Feature tables: what a project's ``features:`` declare, and where the lake keeps them.

A feature table ``<name>`` is stored as ``features/<name>/date=YYYY-MM-DD/data.parquet``
in its declared schema, one partition per day of its date column; evaluation reads
exactly that. Its days default to those all its daily inputs have (the latest first day,
the earliest declared last day; open-ended when no input declares one).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.dataset as ds

from clearlake.errors import PartitionNotFoundError
from clearlake.features import build as build_module
from clearlake.features import datasets
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LakeTable, lake_tables
from clearlake.project.config import FeatureCheckConfig, FeatureConfig, arrow_schema
from clearlake.project.load import Project
from clearlake.versioning import digest, source_version

FEATURES = "features"


def feature_path(name: str) -> str:
    """The lake table of feature table ``name`` (``features/<name>``)."""
    return f"{FEATURES}/{name}"


@dataclass(frozen=True)
class FeatureTable:
    """One declared feature table, resolved against its project."""

    name: str
    config: FeatureConfig
    schema: pa.Schema
    inputs: dict[str, LakeTable]
    """The lake tables it reads (exactly: they are its lineage)."""
    first_day: dt.date
    last_day: dt.date | None
    code_version: str
    sql: str | None = None
    """The query text of a SQL feature."""

    @property
    def path(self) -> str:
        return feature_path(self.name)

    @property
    def row_id(self) -> str:
        return self.config.row_id

    @property
    def date_column(self) -> str:
        return self.config.date_column

    @property
    def checks(self) -> list[FeatureCheckConfig]:
        return list(self.config.checks)

    @property
    def kind(self) -> str:
        return "sql" if self.sql is not None else "python"


def _code_version(project: Project, config: FeatureConfig, schema: pa.Schema) -> tuple[str, str]:
    """Hash of the SQL file or of the function's module, the declared schema and the
    platform code that turns a result into the schema. Returns ``(version, sql text)``."""
    platform = source_version(build_module, datasets)
    if config.sql is not None:
        text = project.resolve(config.sql).read_text()
        return digest(text, str(schema), platform), text
    assert config.function is not None
    function = project.load_object(config.function, what="feature function")
    module = importlib.import_module(function.__module__)
    return digest(inspect.getsource(module), config.function, str(schema), platform), ""


def feature_table(project: Project, name: str) -> FeatureTable:
    config = project.feature(name)
    tables = lake_tables(project)
    inputs = {t: tables[t] for t in project.feature_inputs(name)}
    daily = [t for t in inputs.values() if t.first_day is not None]
    first = config.first_day or max(t.first_day for t in daily if t.first_day is not None)
    declared_lasts = [t.last_day for t in daily if t.last_day is not None]
    last = config.last_day or (min(declared_lasts) if declared_lasts else None)
    schema = arrow_schema(config.columns)
    version, sql = _code_version(project, config, schema)
    return FeatureTable(
        name=name,
        config=config,
        schema=schema,
        inputs=inputs,
        first_day=first,
        last_day=last,
        code_version=version,
        sql=sql if config.sql is not None else None,
    )


def feature_tables(project: Project) -> dict[str, FeatureTable]:
    """Every feature table ``project`` declares, in declaration order."""
    return {name: feature_table(project, name) for name in project.config.features}


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def missing_days(store: LakeStore, table: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days ``start..end`` without a partition of lake table ``table``."""
    present = set(store.list_partitions(table))
    return [d for d in days_between(start, end) if d.isoformat() not in present]


def read_feature(store: LakeStore, table: FeatureTable, start: dt.date, end: dt.date) -> pa.Table:
    """The published partitions ``start..end`` in the declared schema (a missing day or a
    stale partition is an error that says what to materialise)."""
    absent = missing_days(store, table.path, start, end)
    if absent:
        raise PartitionNotFoundError(table.path, absent[0].isoformat())
    files = [
        store.partition_file(table.path, f"date={d.isoformat()}") for d in days_between(start, end)
    ]
    stored = ds.dataset(files, format="parquet", filesystem=store.fs).to_table()
    problems = [
        p for p in datasets.schema_problems(table.schema, stored) if "is not nullable" not in p
    ]
    if problems:
        raise datasets.DatasetSchemaError(
            table.name, [*problems, f"stored partitions are stale: materialise {table.path} again"]
        )
    return stored.cast(table.schema)
