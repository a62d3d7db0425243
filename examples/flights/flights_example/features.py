"""The flights example's feature code: the ``flight_features`` function and its toolbox.

``flight_features``: one row per flight with what is known when it departs — the task is
predicting the arrival delay at departure (for connecting passengers and ground crews):
schedule, route, carrier, the departure delay, the weather at the origin in the departure
hour, the aircraft and the airline. The target (``arr_delay``) is kept, null for
cancelled flights; suites drop those. Times actually flown (``air_time``, ``arr_time``)
are left out: they are not known at departure and would leak the answer.

The toolbox functions are reusable transformations (pandas in, pandas out), tested once
instead of being copied between notebook cells; none mutates its input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from clearlake.features import FeatureInputs

WEATHER_COLUMNS = (
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)


def flight_features(inputs: FeatureInputs, day: dt.date) -> pd.DataFrame:
    """Features of the flights of ``day``, ordered by ``flight_id``."""
    return build_flight_features(
        inputs.read("flights"),
        inputs.read("weather"),
        inputs.read("planes"),
        inputs.read("airlines"),
    )


def build_flight_features(
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    airlines: pd.DataFrame,
) -> pd.DataFrame:
    """Features of ``flights`` (any number of days), ordered by ``flight_id``."""
    frame = calendar(flights)
    frame = scheduled_clock(frame)
    frame = join_weather_at_origin_hour(frame, weather)
    frame = join_planes(frame, planes)
    frame = join_airlines(frame, airlines)
    frame = frame.assign(flight_id=flight_id(frame))
    return frame.sort_values("flight_id", kind="stable").reset_index(drop=True)


def flight_id(flights: pd.DataFrame) -> pd.Series:
    """A stable, readable row key: ``2013-01-01/UA1545/EWR-0515``.

    Stable across re-materialisations (unlike a positional index), so predictions of two
    candidates are compared on identical rows by joining on it.
    """
    return (
        flights["flight_date"].astype(str)
        + "/"
        + flights["carrier"].astype(str)
        + flights["flight"].astype(str)
        + "/"
        + flights["origin"].astype(str)
        + "-"
        + flights["sched_dep_time"].astype(int).map("{:04d}".format)
    )


def calendar(flights: pd.DataFrame) -> pd.DataFrame:
    """Month and day of week (Monday = 0) of the local flight date."""
    days = pd.to_datetime(flights["flight_date"])
    return flights.assign(
        month=days.dt.month.astype("int64"), day_of_week=days.dt.dayofweek.astype("int64")
    )


def scheduled_clock(flights: pd.DataFrame) -> pd.DataFrame:
    """Scheduled departure hour and minute from the ``hhmm`` integer."""
    hhmm = flights["sched_dep_time"].astype("int64")
    return flights.assign(sched_dep_hour=hhmm // 100, sched_dep_minute=hhmm % 100)


def join_weather_at_origin_hour(
    flights: pd.DataFrame, weather: pd.DataFrame, columns: Sequence[str] = WEATHER_COLUMNS
) -> pd.DataFrame:
    """The weather observed at the origin airport in the scheduled departure hour.

    Weather has occasional duplicate observations for one hour (daylight-saving change);
    the first is kept so the join never multiplies flights.
    """
    hourly = weather.drop_duplicates(["origin", "time_hour"], keep="first")[
        ["origin", "time_hour", *columns]
    ]
    return flights.merge(hourly, on=["origin", "time_hour"], how="left", validate="m:1")


def join_planes(flights: pd.DataFrame, planes: pd.DataFrame) -> pd.DataFrame:
    """Year of manufacture, seats and engines of the aircraft (unknown tail → nulls)."""
    aircraft = planes[["tailnum", "year", "seats", "engines"]].rename(
        columns={"year": "plane_year", "seats": "plane_seats", "engines": "plane_engines"}
    )
    joined = flights.merge(aircraft, on="tailnum", how="left", validate="m:1")
    for column in ("plane_year", "plane_seats", "plane_engines"):
        joined[column] = joined[column].astype("Int64")
    return joined


def join_airlines(flights: pd.DataFrame, airlines: pd.DataFrame) -> pd.DataFrame:
    names = airlines[["carrier", "name"]].rename(columns={"name": "carrier_name"})
    return flights.merge(names, on="carrier", how="left", validate="m:1")
