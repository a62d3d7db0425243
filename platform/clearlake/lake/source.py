"""The production database, read through ADBC (database → Arrow, no pandas round-trip).

Every read happens inside one consistent snapshot: a ``REPEATABLE READ READ ONLY``
transaction on PostgreSQL, a read transaction on SQLite. Results stream as Arrow record
batches so memory stays bounded whatever the table size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import ClearlakeError, ConfigurationError, SourceUnavailableError
from clearlake.lake.tables import LakeTable

_SQL_TYPES = {
    "postgresql": {
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE PRECISION",
        pa.string(): "TEXT",
        pa.date32(): "DATE",
        pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    },
    "sqlite": {
        pa.int64(): "INTEGER",
        pa.float64(): "REAL",
        pa.string(): "TEXT",
        pa.date32(): "TEXT",
        pa.timestamp("us", tz="UTC"): "TEXT",
    },
}

BATCH_ROWS = 65_536
SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


@dataclass(frozen=True)
class Snapshot:
    """An open, consistent read of the source."""

    connection: Any
    dialect: str
    started_at: dt.datetime

    def export(self) -> str | None:
        """An id other connections can adopt to read this very snapshot (PostgreSQL only).

        It stays valid while this snapshot's transaction is open — the way ``pg_dump -j``
        reads one consistent database with several connections.
        """
        if self.dialect != "postgresql":
            return None
        with self.stream("SELECT pg_export_snapshot() AS id") as reader:
            return str(reader.read_all().column("id")[0].as_py())

    @contextmanager
    def stream(self, query: str, params: tuple[Any, ...] = ()) -> Iterator[pa.RecordBatchReader]:
        """The query's result as a stream of record batches (valid inside the block)."""
        with self.connection.cursor() as cursor:
            if self.dialect == "sqlite":
                cursor.adbc_statement.set_options(
                    **{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)}
                )
            cursor.execute(query, params or None)
            yield cursor.fetch_record_batch()

    def newest_day(self, table: LakeTable) -> dt.date | None:
        """The newest day of ``table``'s partition column in this snapshot (UTC)."""
        assert table.partition_column is not None
        query = f"SELECT MAX({table.partition_column}) AS newest FROM {table.relation}"
        with self.stream(query) as reader:
            return as_day(reader.read_all().column("newest")[0].as_py())


class SourceDatabase:
    """A PostgreSQL (``postgresql://…``) or SQLite (``sqlite:///path``) source."""

    def __init__(self, url: str) -> None:
        self.url = url
        scheme = urlparse(url).scheme.split("+")[0]
        if scheme in ("postgresql", "postgres"):
            self.dialect = "postgresql"
        elif scheme == "sqlite":
            self.dialect = "sqlite"
        else:
            raise ConfigurationError(
                f"Source URL {url!r} is not supported: use postgresql://user@host/db "
                "or sqlite:///path/to/file.sqlite."
            )

    @property
    def display_url(self) -> str:
        parsed = urlparse(self.url)
        if parsed.password:
            return self.url.replace(f":{parsed.password}@", ":***@")
        return self.url

    def connect(self) -> Any:
        try:
            if self.dialect == "postgresql":
                import adbc_driver_postgresql.dbapi as pg

                return pg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
            import adbc_driver_sqlite.dbapi as sq

            path = self.url.removeprefix("sqlite:///")
            if path != ":memory:" and not _sqlite_exists(path):
                raise SourceUnavailableError(self.display_url, f"no database file at {path}")
            return sq.connect(f"file:{path}?mode=ro" if path != ":memory:" else path)
        except ClearlakeError:  # already names its object (the lake, a day, a table)
            raise
        except Exception as exc:  # the drivers raise their own hierarchy
            raise SourceUnavailableError(self.display_url, _first_line(exc)) from exc

    @contextmanager
    def snapshot(self, *, shared: str | None = None) -> Iterator[Snapshot]:
        """One consistent, read-only view of the source for everything read inside.

        ``shared`` (from :meth:`Snapshot.export`) makes this connection read the exact
        snapshot of another, still open one.
        """
        if shared is not None and not SNAPSHOT_ID.match(shared):
            raise ValueError(f"{shared!r} is not an exported PostgreSQL snapshot id")
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                if self.dialect == "postgresql":
                    # The dbapi already opened a transaction; fix its isolation first.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    if shared is not None:
                        cursor.execute(f"SET TRANSACTION SNAPSHOT '{shared}'")
                else:
                    cursor.execute("SELECT 1")  # opens the read transaction
                    cursor.fetchall()
            yield Snapshot(connection, self.dialect, dt.datetime.now(dt.UTC))
        except ClearlakeError:  # already names its object (the lake, a day, a table)
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                raise SourceUnavailableError(self.display_url, _first_line(exc)) from exc
            raise
        finally:
            try:
                connection.rollback()
            finally:
                connection.close()

    def newest_day(self, table: LakeTable) -> dt.date | None:
        """Production's newest day of ``table``'s partition column (UTC for timestamps)."""
        with self.snapshot() as snapshot:
            return snapshot.newest_day(table)

    def append(self, table: LakeTable, data: pa.Table) -> None:
        """Insert rows into an existing table (the sample database receiving a day)."""
        connection = self._writer()
        try:
            with connection.cursor() as cursor:
                if self.dialect == "sqlite":
                    data = _sqlite_representation(data)
                cursor.adbc_ingest(table.name, data, mode="append")
            connection.commit()
        finally:
            connection.close()

    def _writer(self) -> Any:
        if self.dialect == "sqlite":
            import adbc_driver_sqlite.dbapi as sq

            return sq.connect(self.url.removeprefix("sqlite:///"))
        return self.connect()

    # -- used by the sample database and the tests ------------------------------------
    def replace_table(self, table: LakeTable, data: pa.Table) -> None:
        """Drop, create with declared types, bulk-load, index. Writes, so not snapshot."""
        connection = self._writer()
        types = _SQL_TYPES[self.dialect]
        columns = ", ".join(
            f"{f.name} {types[f.type]}{'' if f.nullable else ' NOT NULL'}" for f in table.schema
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
                cursor.execute(f"CREATE TABLE {table.name} ({columns})")
                if self.dialect == "sqlite":
                    data = _sqlite_representation(data)
                cursor.adbc_ingest(table.name, data, mode="append")
                if table.partition_column:
                    cursor.execute(
                        f"CREATE INDEX {table.name}_{table.partition_column}_idx "
                        f"ON {table.name} ({table.partition_column})"
                    )
            connection.commit()
        finally:
            connection.close()


def as_day(value: object) -> dt.date | None:
    """The UTC calendar day of a date, a timestamp or its ISO-8601 text (SQLite)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _sqlite_representation(data: pa.Table) -> pa.Table:
    """SQLite has no date/time types: store ISO-8601 text, as applications do."""
    for index, column in enumerate(data.columns):
        if pa.types.is_date(column.type):
            data = data.set_column(index, data.field(index).name, column.cast(pa.string()))
        elif pa.types.is_timestamp(column.type):
            text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
            data = data.set_column(index, data.field(index).name, text)
    return data


def _sqlite_exists(path: str) -> bool:
    return Path(path).is_file()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_CONNECTION_ERROR = re.compile(
    r"\b(connection|could not connect|server closed|i/o error|io error)\b", re.IGNORECASE
)
"""Whole words: a bare substring "io" matched every "connection", "region", "version"."""


def _is_connection_error(exc: BaseException) -> bool:
    return _CONNECTION_ERROR.search(str(exc)) is not None
