"""Declared schemas of the lake tables replicated from production.

The schema is the contract between production and everything downstream: data that
does not match it is reported as drift, never silently coerced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from clearlake.errors import UnknownTableError

UTC_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class LakeTable:
    """A production table mirrored into the lake."""

    name: str
    schema: pa.Schema
    description: str
    key_columns: tuple[str, ...]
    partition_column: str | None = None
    """Date column the daily partitions are cut on; ``None`` for snapshot tables."""
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @property
    def partitioned(self) -> bool:
        return self.partition_column is not None


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(n, t, nullable=nullable) for n, t, nullable in fields])


FLIGHTS_SCHEMA = _schema(
    ("flight_date", pa.date32(), False),
    ("year", pa.int64(), False),
    ("month", pa.int64(), False),
    ("day", pa.int64(), False),
    ("dep_time", pa.int64(), True),
    ("sched_dep_time", pa.int64(), False),
    ("dep_delay", pa.float64(), True),
    ("arr_time", pa.int64(), True),
    ("sched_arr_time", pa.int64(), False),
    ("arr_delay", pa.float64(), True),
    ("carrier", pa.string(), False),
    ("flight", pa.int64(), False),
    ("tailnum", pa.string(), True),
    ("origin", pa.string(), False),
    ("dest", pa.string(), False),
    ("air_time", pa.float64(), True),
    ("distance", pa.float64(), False),
    ("hour", pa.int64(), False),
    ("minute", pa.int64(), False),
    ("time_hour", UTC_TS, False),
)

WEATHER_SCHEMA = _schema(
    ("observed_date", pa.date32(), False),
    ("origin", pa.string(), False),
    ("year", pa.int64(), False),
    ("month", pa.int64(), False),
    ("day", pa.int64(), False),
    ("hour", pa.int64(), False),
    ("temp", pa.float64(), True),
    ("dewp", pa.float64(), True),
    ("humid", pa.float64(), True),
    ("wind_dir", pa.float64(), True),
    ("wind_speed", pa.float64(), True),
    ("wind_gust", pa.float64(), True),
    ("precip", pa.float64(), True),
    ("pressure", pa.float64(), True),
    ("visib", pa.float64(), True),
    ("time_hour", UTC_TS, False),
)

PLANES_SCHEMA = _schema(
    ("tailnum", pa.string(), False),
    ("year", pa.int64(), True),
    ("type", pa.string(), True),
    ("manufacturer", pa.string(), True),
    ("model", pa.string(), True),
    ("engines", pa.int64(), True),
    ("seats", pa.int64(), True),
    ("speed", pa.float64(), True),
    ("engine", pa.string(), True),
)

AIRLINES_SCHEMA = _schema(("carrier", pa.string(), False), ("name", pa.string(), False))

AIRPORTS_SCHEMA = _schema(
    ("faa", pa.string(), False),
    ("name", pa.string(), True),
    ("lat", pa.float64(), True),
    ("lon", pa.float64(), True),
    ("alt", pa.float64(), True),
    ("tz", pa.float64(), True),
    ("dst", pa.string(), True),
    ("tzone", pa.string(), True),
)

FIRST_DAY = dt.date(2013, 1, 1)
LAST_DAY = dt.date(2013, 12, 31)

LAKE_TABLES: dict[str, LakeTable] = {
    t.name: t
    for t in (
        LakeTable(
            name="flights",
            schema=FLIGHTS_SCHEMA,
            description="Every departure from the NYC airports, one row per flight.",
            key_columns=("flight_date", "carrier", "flight", "origin"),
            partition_column="flight_date",
            first_day=FIRST_DAY,
            last_day=LAST_DAY,
        ),
        LakeTable(
            name="weather",
            schema=WEATHER_SCHEMA,
            description="Hourly weather observations at the NYC airports.",
            key_columns=("origin", "time_hour"),
            partition_column="observed_date",
            first_day=FIRST_DAY,
            last_day=LAST_DAY,
        ),
        LakeTable(
            name="planes",
            schema=PLANES_SCHEMA,
            description="Aircraft registry: one row per tail number.",
            key_columns=("tailnum",),
        ),
        LakeTable(
            name="airlines",
            schema=AIRLINES_SCHEMA,
            description="Carrier codes and names.",
            key_columns=("carrier",),
        ),
        LakeTable(
            name="airports",
            schema=AIRPORTS_SCHEMA,
            description="Airport codes, names and locations.",
            key_columns=("faa",),
        ),
    )
}


def get_table(name: str) -> LakeTable:
    try:
        return LAKE_TABLES[name]
    except KeyError:
        raise UnknownTableError(name, list(LAKE_TABLES)) from None
