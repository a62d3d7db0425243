"""A day's rows get one canonical order whatever order the source returned them in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from flights_example.sample_db import read_csv

from clearlake.lake.replicate import canonical_order
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import get_table

FLIGHTS = get_table("flights")


def _one_day_with_ties() -> pa.Table:
    """Real flights of 2013-01-02 plus copies of 2013-01-01's under 2013-01-02's date.

    Copies share (date, carrier, flight, origin) with real rows — ties that only the
    other columns break — and bring their nulls along (cancelled flights).
    """
    flights = read_csv(FLIGHTS)
    day_2 = flights.filter(pc.equal(flights["flight_date"], dt.date(2013, 1, 2)))
    day_1 = flights.filter(pc.equal(flights["flight_date"], dt.date(2013, 1, 1)))
    index = day_1.schema.get_field_index("flight_date")
    moved = day_1.set_column(
        index,
        day_1.schema.field(index),
        pa.array([dt.date(2013, 1, 2)] * day_1.num_rows, pa.date32()),
    )
    return pa.concat_tables([day_2, moved])


def _shuffled(data: pa.Table, seed: int, chunks: int) -> pa.Table:
    order = np.random.default_rng(seed).permutation(data.num_rows)
    shuffled = data.take(pa.array(order))
    size = -(-data.num_rows // chunks)
    return pa.Table.from_batches(shuffled.to_batches(max_chunksize=size))


def test_order_does_not_depend_on_source_order_or_chunking(tmp_path: Path) -> None:
    data = _one_day_with_ties()
    keys = list(FLIGHTS.key_columns)
    assert data.group_by(keys).aggregate([]).num_rows < data.num_rows  # there are ties

    orders = [canonical_order(_shuffled(data, seed, chunks), FLIGHTS) for seed, chunks in
              [(1, 1), (2, 7), (3, 64)]]  # fmt: skip
    assert all(o.equals(orders[0]) for o in orders[1:])
    assert orders[0].num_rows == data.num_rows
    assert orders[0].sort_by([(k, "ascending") for k in keys]).equals(orders[0])

    store = LakeStore(str(tmp_path))
    hashes = {
        store.write("flights", f"date=run{i}", FLIGHTS.schema, o.to_batches()).content_hash
        for i, o in enumerate(orders)
    }
    assert len(hashes) == 1  # byte-identical partitions: the same data version
