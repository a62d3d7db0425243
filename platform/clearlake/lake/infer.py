"""Write a source's ``sources:`` declaration from the database catalogue, for a person to
review and commit (``clearlake lake infer-schema``).

Types come from what ADBC returns for the relation (a ``LIMIT 0`` read: the exact Arrow
types replication will see), nullability and the primary key from the catalogue
(PostgreSQL's ``information_schema``, SQLite's ``PRAGMA table_info``). What cannot be
known — a query's key, a description — is left as a TODO comment rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from clearlake.errors import ConfigurationError
from clearlake.lake.source import SourceDatabase, as_day
from clearlake.project.arrow_types import is_temporal, type_name

_SQLITE_TYPES = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}


@dataclass(frozen=True)
class Inferred:
    name: str
    columns: dict[str, tuple[pa.DataType, bool]]
    """column → (Arrow type, nullable), in the relation's order."""
    keys: list[str]
    table: str | None
    query: str | None
    partition_column: str | None
    first_day: dt.date | None


def _catalogue(source: SourceDatabase, table: str) -> tuple[dict[str, bool], list[str]]:
    """Nullability per column and the primary key (in key order) of a table."""
    schema, _, name = table.rpartition(".")
    with source.snapshot() as snapshot:
        if source.dialect == "sqlite":
            with snapshot.stream(f"PRAGMA table_info({name})") as reader:
                rows = reader.read_all().to_pylist()
            nullable = {r["name"]: not r["notnull"] and not r["pk"] for r in rows}
            keys = [r["name"] for r in sorted(rows, key=lambda r: r["pk"]) if r["pk"]]
            return nullable, keys
        owner = f"'{schema}'" if schema else "current_schema()"
        where = "{p}table_name = '" + name + "' AND {p}table_schema = " + owner
        with snapshot.stream(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            f"WHERE {where.format(p='')}"
        ) as reader:
            found = reader.read_all().to_pylist()
            nullable = {r["column_name"]: r["is_nullable"] == "YES" for r in found}
        with snapshot.stream(
            "SELECT k.column_name FROM information_schema.table_constraints c "
            "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
            "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
            f"WHERE c.constraint_type = 'PRIMARY KEY' AND {where.format(p='c.')} "
            "ORDER BY k.ordinal_position"
        ) as reader:
            keys = [r["column_name"] for r in reader.read_all().to_pylist()]
    return nullable, keys


def _types(source: SourceDatabase, relation: str, table: str | None) -> dict[str, pa.DataType]:
    if source.dialect == "sqlite" and table is not None:  # SQLite types nothing in an empty read
        with source.snapshot() as snapshot, snapshot.stream(f"PRAGMA table_info({table})") as r:
            rows = r.read_all().to_pylist()
        return {row["name"]: _sqlite_type(row["type"]) for row in rows}
    with source.snapshot() as snapshot, snapshot.stream(f"SELECT * FROM {relation} LIMIT 0") as r:
        schema = r.schema
    return {f.name: f.type for f in schema}


def _sqlite_type(declared: str) -> pa.DataType:
    text = declared.upper()
    if "DATE" in text and "TIME" not in text:
        return pa.date32()
    if "TIME" in text:
        return pa.timestamp("us", tz="UTC")
    for name, kind in _SQLITE_TYPES.items():
        if name in text or (name == "INTEGER" and "INT" in text):
            return kind
    return pa.string()


def infer_source(
    source: SourceDatabase,
    name: str,
    *,
    query: str | None = None,
    partition_column: str | None = None,
) -> Inferred:
    """What the catalogue says about ``name`` (a table) or ``query`` (a SELECT)."""
    table = None if query is not None else name
    relation = f"({query}) AS clearlake_source" if query is not None else name
    try:
        types = _types(source, relation, table)
    except Exception as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(
            f"Cannot read the schema of {relation} at {source.display_url}: "
            f"{str(exc).strip().splitlines()[0]}"
        ) from None
    if not types:
        raise ConfigurationError(f"No table {name!r} at {source.display_url}: check its name.")
    nullable, keys = _catalogue(source, name) if table is not None else ({}, [])
    first_day = None
    if partition_column is not None:
        if partition_column not in types:
            raise ConfigurationError(
                f"{partition_column!r} is not a column of {name} (columns: {', '.join(types)})"
            )
        if not is_temporal(types[partition_column]):
            raise ConfigurationError(
                f"Partition column {partition_column} is {type_name(types[partition_column])}: "
                "daily partitions need a date or timestamp column."
            )
        with (
            source.snapshot() as snapshot,
            snapshot.stream(f"SELECT MIN({partition_column}) AS first FROM {relation}") as r,
        ):
            first_day = as_day(r.read_all().column("first")[0].as_py())
    return Inferred(
        name=name.rpartition(".")[2],
        columns={c: (t, nullable.get(c, True)) for c, t in types.items()},
        keys=keys,
        table=name if name.rpartition(".")[2] != name else None,
        query=query,
        partition_column=partition_column,
        first_day=first_day,
    )


def declaration(inferred: Inferred) -> str:
    """The ``sources:`` YAML of ``inferred``, with TODOs where a person must decide."""
    lines = ["sources:", f"  {inferred.name}:", '    description: ""  # TODO: what one row is']
    if inferred.table is not None:
        lines.append(f"    table: {inferred.table}")
    if inferred.query is not None:
        lines.append("    query: |")
        lines += [f"      {line}" for line in inferred.query.strip().splitlines()]
    if inferred.partition_column is not None:
        first = inferred.first_day.isoformat() if inferred.first_day else "TODO"
        lines.append(
            f"    partition: {{column: {inferred.partition_column}, first_day: {first}}}"
            "  # open-ended: add last_day to freeze"
        )
    else:
        lines.append("    partition: snapshot  # or {column: <date column>, first_day: <day>}")
    if inferred.keys:
        lines.append(f"    keys: [{', '.join(inferred.keys)}]  # the primary key")
    else:
        lines.append(
            "    keys: []  # TODO: no primary key found; list the columns that identify a row"
        )
    lines.append("    columns:")
    for column, (kind, nullable) in inferred.columns.items():
        lines.append(f"      {column}: {type_name(kind)}{'' if nullable else ' not null'}")
    return "\n".join(lines) + "\n"
