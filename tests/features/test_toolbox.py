import datetime as dt

import pandas as pd
import pytest

from clearlake.features import toolbox

UTC = "UTC"


def flights_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "flight_date": [dt.date(2013, 1, 7), dt.date(2013, 1, 7), dt.date(2013, 1, 12)],
            "carrier": ["UA", "B6", "UA"],
            "flight": [1545, 33, 7],
            "origin": ["EWR", "JFK", "LGA"],
            "sched_dep_time": [515, 1830, 5],
            "tailnum": ["N14228", None, "UNKNOWN"],
            "time_hour": pd.to_datetime(
                ["2013-01-07 10:00", "2013-01-07 23:00", "2013-01-12 05:00"], utc=True
            ),
        }
    )


def test_flight_id_is_readable_and_stable() -> None:
    ids = toolbox.flight_id(flights_frame())
    assert ids.tolist() == [
        "2013-01-07/UA1545/EWR-0515",
        "2013-01-07/B633/JFK-1830",
        "2013-01-12/UA7/LGA-0005",
    ]
    assert toolbox.flight_id(flights_frame()).equals(ids)


def test_calendar_and_clock() -> None:
    frame = toolbox.scheduled_clock(toolbox.calendar(flights_frame()))
    assert frame["month"].tolist() == [1, 1, 1]
    assert frame["day_of_week"].tolist() == [0, 0, 5]  # 2013-01-07 was a Monday
    assert frame["sched_dep_hour"].tolist() == [5, 18, 0]
    assert frame["sched_dep_minute"].tolist() == [15, 30, 5]


def test_weather_join_never_multiplies_flights() -> None:
    weather = pd.DataFrame(
        {
            "origin": ["EWR", "EWR", "JFK"],
            "time_hour": pd.to_datetime(
                ["2013-01-07 10:00", "2013-01-07 10:00", "2013-01-07 23:00"], utc=True
            ),
            **{c: [1.0, 2.0, 3.0] for c in toolbox.WEATHER_COLUMNS},
        }
    )
    joined = toolbox.join_weather_at_origin_hour(flights_frame(), weather)
    assert len(joined) == 3
    assert joined["temp"].tolist()[:2] == [1.0, 3.0]  # first duplicate kept
    assert pd.isna(joined["temp"].iloc[2])  # no observation: null, row kept


def test_planes_and_airlines_joins() -> None:
    planes = pd.DataFrame({"tailnum": ["N14228"], "year": [1999], "seats": [149], "engines": [2]})
    airlines = pd.DataFrame({"carrier": ["UA", "B6"], "name": ["United", "JetBlue"]})
    joined = toolbox.join_airlines(toolbox.join_planes(flights_frame(), planes), airlines)
    assert joined["plane_year"].tolist()[0] == 1999
    assert joined["plane_seats"].isna().tolist() == [False, True, True]
    assert joined["carrier_name"].tolist() == ["United", "JetBlue", "United"]


def test_planes_join_rejects_duplicate_registry_rows() -> None:
    planes = pd.DataFrame(
        {"tailnum": ["N14228", "N14228"], "year": [1999, 2000], "seats": [1, 2], "engines": [2, 2]}
    )
    with pytest.raises(Exception, match="many-to-one"):
        toolbox.join_planes(flights_frame(), planes)
