import datetime as dt

import pyarrow as pa
import pytest

from clearlake.errors import PartitionNotFoundError
from clearlake.features import checks
from clearlake.features.datasets import DatasetSchemaError
from clearlake.features.flight_features import (
    FEATURE_COLUMNS,
    FLIGHT_FEATURES_SCHEMA,
    TABLE,
    FlightFeatures,
    build_for_days,
    missing_days,
    read_flight_features,
)
from clearlake.lake import reader
from clearlake.lake.store import LakeStore, date_partition

DAY = dt.date(2013, 1, 10)


@pytest.fixture(scope="module")
def january_week(sample_lake: LakeStore) -> dict[dt.date, FlightFeatures]:
    return build_for_days(sample_lake, DAY, DAY + dt.timedelta(days=6))


def test_one_row_per_flight_of_each_day(
    january_week: dict[dt.date, FlightFeatures], sample_lake: LakeStore
) -> None:
    assert sorted(january_week) == [DAY + dt.timedelta(days=i) for i in range(7)]
    for day, features in january_week.items():
        flights = reader.read("flights", day, day, store=sample_lake, as_arrow=True)
        assert features.num_rows == flights.num_rows
        assert features.table.schema.equals(FLIGHT_FEATURES_SCHEMA)
        assert set(features.column("flight_date").to_pylist()) == {day}


def test_features_join_weather_planes_and_airlines(
    january_week: dict[dt.date, FlightFeatures],
) -> None:
    features = january_week[DAY]
    frame = features.to_pandas()
    assert frame["flight_id"].is_unique and frame["flight_id"].is_monotonic_increasing
    assert features.null_fraction("temp") < 0.05
    assert 0 < features.null_fraction("plane_year") < 0.5  # some tails are not registered
    assert frame["carrier_name"].notna().all()
    assert {"arr_time", "air_time"}.isdisjoint(FEATURE_COLUMNS)  # not known at departure
    assert "arr_delay" not in FEATURE_COLUMNS


def test_missing_lake_partition_is_a_clear_error(sample_lake: LakeStore) -> None:
    with pytest.raises(PartitionNotFoundError, match=r"flights.*2013-06-01.*clearlake lake"):
        build_for_days(sample_lake, dt.date(2013, 6, 1), dt.date(2013, 6, 2))


def test_published_partitions_read_back_typed(
    january_week: dict[dt.date, FlightFeatures], private_lake: LakeStore
) -> None:
    for day in (DAY, DAY + dt.timedelta(days=1)):
        private_lake.write(
            TABLE, date_partition(day), FLIGHT_FEATURES_SCHEMA, january_week[day].table.to_batches()
        )
    assert missing_days(private_lake, DAY, DAY + dt.timedelta(days=2)) == [
        DAY + dt.timedelta(days=2)
    ]
    both = read_flight_features(private_lake, DAY, DAY + dt.timedelta(days=1))
    assert (
        both.num_rows
        == january_week[DAY].num_rows + january_week[DAY + dt.timedelta(days=1)].num_rows
    )
    private_lake.write(
        TABLE,
        date_partition(DAY),
        pa.schema([("flight_id", pa.string())]),
        [pa.record_batch([pa.array(["x"])], names=["flight_id"])],
    )
    with pytest.raises(DatasetSchemaError, match="stale"):
        read_flight_features(private_lake, DAY, DAY)


def test_checks_pass_on_real_data(january_week: dict[dt.date, FlightFeatures]) -> None:
    features = january_week[DAY]
    outcomes = checks.all_checks(features, [features.table.schema])
    assert [o.name for o in outcomes if not o.passed] == []


def test_checks_fail_on_bad_data(january_week: dict[dt.date, FlightFeatures]) -> None:
    table = january_week[DAY].table
    duplicated = FlightFeatures(pa.concat_tables([table, table.slice(0, 3)]))
    assert not checks.unique_flight_ids(duplicated).passed
    assert checks.unique_flight_ids(duplicated).metadata["duplicates"] == 3

    delays = table.column("arr_delay").to_pylist()
    delays[0] = 5000.0
    out_of_range = FlightFeatures(
        table.set_column(
            table.schema.get_field_index("arr_delay"),
            FLIGHT_FEATURES_SCHEMA.field("arr_delay"),
            pa.array(delays, pa.float64()),
        )
    )
    outcome = checks.target_range(out_of_range)
    assert not outcome.passed and "1 arr_delay value(s) outside" in outcome.description

    no_weather = FlightFeatures(
        table.set_column(
            table.schema.get_field_index("temp"),
            FLIGHT_FEATURES_SCHEMA.field("temp"),
            pa.nulls(table.num_rows, pa.float64()),
        )
    )
    assert not checks.weather_coverage(no_weather).passed

    drifted = FLIGHT_FEATURES_SCHEMA.set(
        FLIGHT_FEATURES_SCHEMA.get_field_index("distance"), pa.field("distance", pa.int64())
    )
    outcome = checks.published_schema([FLIGHT_FEATURES_SCHEMA, drifted])
    assert not outcome.passed and "distance is int64" in outcome.description
