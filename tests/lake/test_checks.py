from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from clearlake.lake import checks
from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import get_table

DAYS = [dt.date(2013, 1, 1) + dt.timedelta(days=i) for i in range(10)]


def test_row_count_anomaly_and_nulls_are_named(tmp_path: Path, sample_db: str) -> None:
    store = LakeStore(str(tmp_path))
    table = get_table("flights")
    replicate(SourceDatabase(sample_db), store, table, DAYS)
    day = DAYS[-1]

    def counts() -> dict[dt.date, int]:
        return {d: store.row_count("flights", d) for d in checks.trailing_window([day])}

    assert checks.trailing_window([day]) == DAYS[-8:]
    assert checks.row_count_finding(table, [day], counts()).passed

    few = store.read_table(store.partition_file("flights", "date=2013-01-10")).slice(0, 40)
    tailless = few.set_column(
        few.schema.get_field_index("carrier"), "carrier", pa.nulls(40, pa.string())
    )
    store.write("flights", "date=2013-01-10", tailless.schema, tailless.to_batches())

    anomaly = checks.row_count_finding(table, [day], counts())
    assert not anomaly.passed
    assert "2013-01-10: 40 rows vs median" in anomaly.description
    nulls = checks.null_rate_finding(store, table, ["2013-01-10"])
    assert not nulls.passed
    assert "flights[2013-01-10].carrier: 40 null(s)" in nulls.description


def test_freshness_compares_with_production(tmp_path: Path, sample_db: str) -> None:
    store = LakeStore(str(tmp_path))
    table = get_table("flights")
    source = SourceDatabase(sample_db)
    replicate(source, store, table, DAYS)
    newest = source.newest_day(table)
    assert newest == dt.date(2013, 12, 31)
    stale = checks.freshness_finding(store, table, newest)
    assert not stale.passed
    assert "newest partition 2013-01-10 is 355 day(s) behind production" in stale.description
    assert checks.freshness_finding(store, table, dt.date(2013, 1, 11)).passed
