"""The feature toolbox: reusable transformations over lake tables (pandas in, pandas out).

These live here, tested once, instead of being copied between notebook cells. Each takes
a frame and returns a new one; none mutates its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

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
    joined = flights.merge(hourly, on=["origin", "time_hour"], how="left", validate="m:1")
    return joined


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
