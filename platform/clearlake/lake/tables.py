"""Lake tables: what a project's ``sources:`` declare, in the shape replication works with.

The declared schema is the contract between production and everything downstream: data
that does not match it is reported as drift, never silently coerced. Nothing here names a
table; every table comes from the project configuration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from clearlake.errors import UnknownTableError
from clearlake.project.config import SourceConfig, arrow_schema
from clearlake.project.load import Project, current_project
from clearlake.settings import load_settings


@dataclass(frozen=True)
class LakeTable:
    """A production table (or query) mirrored into the lake as ``lake/<name>``."""

    name: str
    schema: pa.Schema
    description: str
    key_columns: tuple[str, ...]
    partition_column: str | None = None
    """Date or timestamp column the daily partitions are cut on; ``None`` for snapshots."""
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    """``None`` for a daily table: open-ended, its partitions grow up to today."""
    source_table: str | None = None
    """The production table when it is not named like the lake table."""
    query: str | None = None
    """A SELECT replicated instead of a table (read as a subquery)."""
    refresh_days: int = 0
    """Trailing days re-read for late rows by the new-days sensor."""

    @property
    def partitioned(self) -> bool:
        return self.partition_column is not None

    @property
    def relation(self) -> str:
        """What the source reads FROM: the table, or the query as a subquery."""
        if self.query is not None:
            return f"({self.query.strip().rstrip(';')}) AS clearlake_source"
        return self.source_table or self.name

    @property
    def partition_type(self) -> pa.DataType | None:
        if self.partition_column is None:
            return None
        return self.schema.field(self.partition_column).type

    @classmethod
    def from_source(cls, name: str, source: SourceConfig) -> LakeTable:
        daily = source.daily
        return cls(
            name=name,
            schema=arrow_schema(source.columns),
            description=source.description,
            key_columns=tuple(source.keys),
            partition_column=daily.column if daily else None,
            first_day=daily.first_day if daily else None,
            last_day=daily.last_day if daily else None,
            source_table=source.table,
            query=source.query,
            refresh_days=daily.refresh_days if daily else 0,
        )


def lake_tables(project: Project | None = None) -> dict[str, LakeTable]:
    """Every lake table ``project`` declares (default: the current project), in order."""
    project = project or current_project(load_settings())
    return {name: LakeTable.from_source(name, s) for name, s in project.config.sources.items()}


def get_table(name: str, project: Project | None = None) -> LakeTable:
    """One declared lake table, or :class:`UnknownTableError` listing the declared ones."""
    tables = lake_tables(project)
    try:
        return tables[name]
    except KeyError:
        raise UnknownTableError(name, list(tables)) from None


def __getattr__(name: str) -> Any:
    """Compatibility for callers not yet given a project: ``LAKE_TABLES`` and
    ``<TABLE>_SCHEMA`` resolve against the current project. Prefer :func:`lake_tables`."""
    if name == "LAKE_TABLES":
        return lake_tables()
    if name.endswith("_SCHEMA") and name.isupper():
        return get_table(name.removesuffix("_SCHEMA").lower()).schema
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
