"""``flight_features``: one row per flight, with what is known when it departs.

The task is predicting the arrival delay at departure (for connecting passengers and
ground crews): schedule, route, carrier, the departure delay, the weather at the origin
in the departure hour, the aircraft and the airline. The target (``arr_delay``) is kept,
null for cancelled flights; suites drop those. Times actually flown (``air_time``,
``arr_time``) are left out: they are not known at departure and would leak the answer.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clearlake.errors import PartitionNotFoundError
from clearlake.features import toolbox
from clearlake.features.datasets import TypedDataset
from clearlake.lake import reader
from clearlake.lake.store import LakeStore

TABLE = "features/flight_features"
"""Where the feature table lives in the lake (daily partitions ``date=YYYY-MM-DD``)."""

FLIGHT_FEATURES_SCHEMA = pa.schema(
    [
        pa.field("flight_id", pa.string(), nullable=False),
        pa.field("flight_date", pa.date32(), nullable=False),
        pa.field("month", pa.int64(), nullable=False),
        pa.field("day_of_week", pa.int64(), nullable=False),
        pa.field("sched_dep_hour", pa.int64(), nullable=False),
        pa.field("sched_dep_minute", pa.int64(), nullable=False),
        pa.field("carrier", pa.string(), nullable=False),
        pa.field("carrier_name", pa.string()),
        pa.field("flight", pa.int64(), nullable=False),
        pa.field("tailnum", pa.string()),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("dest", pa.string(), nullable=False),
        pa.field("distance", pa.float64(), nullable=False),
        pa.field("dep_delay", pa.float64()),
        *(pa.field(c, pa.float64()) for c in toolbox.WEATHER_COLUMNS),
        pa.field("plane_year", pa.int64()),
        pa.field("plane_seats", pa.int64()),
        pa.field("plane_engines", pa.int64()),
        pa.field("arr_delay", pa.float64()),
    ]
)

FEATURE_COLUMNS = tuple(
    n for n in FLIGHT_FEATURES_SCHEMA.names if n not in ("flight_id", "flight_date", "arr_delay")
)
"""Columns a candidate may use as inputs (everything but the key, the date and the target)."""


class FlightFeatures(TypedDataset):
    name = "flight_features"
    schema = FLIGHT_FEATURES_SCHEMA


def build_flight_features(
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    airlines: pd.DataFrame,
) -> FlightFeatures:
    """Features of ``flights`` (any number of days), ordered by ``flight_id``."""
    frame = toolbox.calendar(flights)
    frame = toolbox.scheduled_clock(frame)
    frame = toolbox.join_weather_at_origin_hour(frame, weather)
    frame = toolbox.join_planes(frame, planes)
    frame = toolbox.join_airlines(frame, airlines)
    frame = frame.assign(flight_id=toolbox.flight_id(frame))
    frame = frame.sort_values("flight_id", kind="stable").reset_index(drop=True)
    return FlightFeatures.from_pandas(frame)


def build_for_days(store: LakeStore, start: dt.date, end: dt.date) -> dict[dt.date, FlightFeatures]:
    """Features of each day ``start..end``, read from the lake in one pass per table."""
    for table in ("flights", "weather"):
        absent = missing_days(store, start, end, table=table)
        if absent:
            raise PartitionNotFoundError(table, absent[0].isoformat())
    features = build_flight_features(
        reader.read("flights", start, end, store=store),
        reader.read("weather", start, end, store=store),
        reader.read("planes", store=store),
        reader.read("airlines", store=store),
    )
    dates = features.column("flight_date")
    return {
        day: FlightFeatures(features.table.filter(pc.equal(dates, pa.scalar(day))))
        for day in _days(start, end)
    }


def read_flight_features(store: LakeStore, start: dt.date, end: dt.date) -> FlightFeatures:
    """The published feature partitions ``start..end`` as one typed dataset."""
    table = reader.read(TABLE, start, end, store=store, as_arrow=True)
    return FlightFeatures.read(
        table, hint="stored partitions are stale: materialise features/flight_features again"
    )


def missing_days(
    store: LakeStore, start: dt.date, end: dt.date, *, table: str = TABLE
) -> list[dt.date]:
    """The days ``start..end`` that have no partition of ``table`` (default: the features)."""
    present = set(store.list_partitions(table))
    return [d for d in _days(start, end) if d.isoformat() not in present]


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
