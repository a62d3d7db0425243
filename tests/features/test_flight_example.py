"""The flights example's feature function and toolbox, on the real sample lake."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from flights_example import features as toolbox

from clearlake.errors import PartitionNotFoundError
from clearlake.features import build
from clearlake.features.tables import feature_table
from clearlake.lake import reader
from clearlake.lake.store import LakeStore
from clearlake.project.load import load_project
from clearlake.settings import DEFAULT_PROJECT

DAY = dt.date(2013, 1, 10)
WEEK = [DAY + dt.timedelta(days=i) for i in range(7)]


@pytest.fixture(scope="module")
def week(sample_lake: LakeStore) -> dict[dt.date, pa.Table]:
    project = load_project(DEFAULT_PROJECT)
    table = feature_table(project, "flight_features")
    function = project.load_object("flights_example.features:flight_features", what="feature")
    return build.build_days(table, sample_lake, WEEK, function)


def test_one_row_per_flight_each_day_identical_to_the_whole_range(
    week: dict[dt.date, pa.Table], sample_lake: LakeStore
) -> None:
    """Built a day at a time, the rows are exactly those of the range built at once."""
    schema = load_project(DEFAULT_PROJECT).feature_schema("flight_features")
    at_once = toolbox.build_flight_features(
        reader.read("flights", WEEK[0], WEEK[-1], store=sample_lake),
        reader.read("weather", WEEK[0], WEEK[-1], store=sample_lake),
        reader.read("planes", store=sample_lake),
        reader.read("airlines", store=sample_lake),
    )
    whole = pa.Table.from_pandas(at_once[schema.names], schema=schema, preserve_index=False)
    for day, features in week.items():
        flights = reader.read("flights", day, day, store=sample_lake, as_arrow=True)
        assert features.num_rows == flights.num_rows
        assert features.schema.equals(schema)
        same_day = whole.filter(pc.equal(whole["flight_date"], pa.scalar(day)))
        assert features.equals(same_day.combine_chunks())


def test_features_join_weather_planes_and_airlines(week: dict[dt.date, pa.Table]) -> None:
    frame = week[DAY].to_pandas()
    assert frame["flight_id"].is_unique and frame["flight_id"].is_monotonic_increasing
    assert frame["temp"].isna().mean() < 0.05
    assert 0 < frame["plane_year"].isna().mean() < 0.5  # some tails are not registered
    assert frame["carrier_name"].notna().all()
    assert {"arr_time", "air_time"}.isdisjoint(frame.columns)  # not known at departure


def test_missing_lake_partition_is_a_clear_error(sample_lake: LakeStore) -> None:
    project = load_project(DEFAULT_PROJECT)
    table = feature_table(project, "flight_features")
    function = project.load_object("flights_example.features:flight_features", what="feature")
    with pytest.raises(PartitionNotFoundError, match=r"flights.*2013-06-01.*clearlake lake"):
        build.build_days(table, sample_lake, [dt.date(2013, 6, 1)], function)


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


def test_calendar_and_clock() -> None:
    frame = toolbox.scheduled_clock(toolbox.calendar(flights_frame()))
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
    assert pd.isna(joined["temp"].iloc[2])


def test_planes_and_airlines_joins() -> None:
    planes = pd.DataFrame({"tailnum": ["N14228"], "year": [1999], "seats": [149], "engines": [2]})
    airlines = pd.DataFrame({"carrier": ["UA", "B6"], "name": ["United", "JetBlue"]})
    joined = toolbox.join_airlines(toolbox.join_planes(flights_frame(), planes), airlines)
    assert joined["plane_seats"].isna().tolist() == [False, True, True]
    assert joined["carrier_name"].tolist() == ["United", "JetBlue", "United"]
    duplicated = pd.concat([planes, planes])
    with pytest.raises(Exception, match="many-to-one"):
        toolbox.join_planes(flights_frame(), duplicated)
