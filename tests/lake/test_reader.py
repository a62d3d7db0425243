from __future__ import annotations

from collections.abc import Callable

import pytest

from clearlake.errors import ClearlakeError, InvalidDateError, UnknownTableError
from clearlake.lake import read, scan, sql
from clearlake.lake.store import LakeStore


def test_read_range_columns_and_filters(sample_lake: LakeStore) -> None:
    frame = read(
        "flights",
        "2013-01-01",
        "2013-01-07",
        columns=["flight_date", "origin", "dep_delay"],
        filters=[("origin", "==", "JFK"), ("dep_delay", ">", 60)],
        store=sample_lake,
    )
    assert list(frame.columns) == ["flight_date", "origin", "dep_delay"]
    assert len(frame) > 50
    assert set(frame["origin"]) == {"JFK"}
    assert frame["dep_delay"].min() > 60
    days = {d.isoformat() for d in frame["flight_date"]}
    assert min(days) >= "2013-01-01" and max(days) <= "2013-01-07"


def test_read_matches_direct_sql_count(sample_lake: LakeStore) -> None:
    counted = sql(
        "select count(*) as n from flights where flight_date between '2013-02-01' and '2013-02-28'",
        store=sample_lake,
    )
    frame = read("flights", "2013-02-01", "2013-02-28", columns=["carrier"], store=sample_lake)
    assert int(counted["n"][0]) == len(frame) == 24951


def test_scan_streams_bounded_batches(sample_lake: LakeStore) -> None:
    reader = scan(
        "flights",
        "2013-01-01",
        "2013-03-31",
        columns=["arr_delay"],
        batch_size=4096,
        store=sample_lake,
    )
    sizes = [b.num_rows for b in reader]
    assert max(sizes) <= 4096
    assert sum(sizes) == 80789


def test_snapshot_table_and_sql_join(sample_lake: LakeStore) -> None:
    planes = read("planes", store=sample_lake)
    assert len(planes) == 3322
    joined = sql(
        "select p.manufacturer, count(*) n from flights f join planes p using (tailnum) "
        "group by 1 order by n desc limit 1",
        store=sample_lake,
    )
    assert joined["manufacturer"][0] == "BOEING"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: read("flightz", store=s), UnknownTableError, "Unknown lake table 'flightz'"),
        (
            lambda s: read("flights", "2013-02-30", store=s),
            InvalidDateError,
            "Malformed start date",
        ),
        (
            lambda s: read("flights", "2013-02-02", "2013-02-01", store=s),
            ClearlakeError,
            "after end",
        ),
        (lambda s: read("flights", columns=["nope"], store=s), ClearlakeError, "Unknown column"),
        (
            lambda s: read("flights", filters=[("nope", "==", 1)], store=s),
            ClearlakeError,
            "Filter on unknown column 'nope'",
        ),
        (
            lambda s: read("flights", filters=[("origin", "~", "x")], store=s),
            ClearlakeError,
            "Malformed filter",
        ),
        (
            lambda s: sql("select * from nowhere", store=s),
            ClearlakeError,
            "SQL over the lake failed",
        ),
    ],
)
def test_bad_input_names_the_problem(
    sample_lake: LakeStore,
    call: Callable[[LakeStore], object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        call(sample_lake)
