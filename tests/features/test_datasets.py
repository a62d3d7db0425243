import pandas as pd
import pyarrow as pa
import pytest

from clearlake.features.datasets import DatasetSchemaError, TypedDataset, table_digest


class Sample(TypedDataset):
    name = "sample"
    schema = pa.schema(
        [pa.field("key", pa.string(), nullable=False), pa.field("value", pa.float64())]
    )


def test_conforming_frame_becomes_typed_dataset() -> None:
    data = Sample.from_pandas(pd.DataFrame({"value": [1.5, None], "key": ["a", "b"]}))
    assert data.table.schema.equals(Sample.schema)
    assert data.num_rows == 2
    assert data.null_fraction("value") == 0.5
    assert data.to_pandas()["key"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"key": ["a"]}), "missing column"),
        (pd.DataFrame({"key": ["a"], "value": ["x"]}), "schema of sample: .*(double|float)"),
        (pd.DataFrame({"key": [None], "value": [1.0]}), "schema of sample: .*key.*non-nullable"),
    ],
)
def test_nonconforming_frame_names_dataset_and_column(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(DatasetSchemaError, match=message):
        Sample.from_pandas(frame)


def test_nulls_in_a_non_nullable_arrow_column_are_reported() -> None:
    table = pa.table({"key": pa.array([None], pa.string()), "value": pa.array([1.0])})
    with pytest.raises(DatasetSchemaError, match="column key has 1 null"):
        Sample(table)


def test_wrong_arrow_type_is_reported() -> None:
    table = pa.table({"key": pa.array(["a"]), "value": pa.array([1], pa.int64())})
    with pytest.raises(DatasetSchemaError, match="column value is int64, declared double"):
        Sample(table)


def test_read_back_relaxes_only_nullability_and_hints_at_the_fix() -> None:
    relaxed = pa.table({"key": pa.array(["a"]), "value": pa.array([1.0])})
    assert Sample.read(relaxed).table.schema.equals(Sample.schema)
    stale = pa.table({"key": pa.array(["a"])})
    with pytest.raises(DatasetSchemaError, match="materialise it again"):
        Sample.read(stale, hint="materialise it again")


def test_content_hash_depends_on_values_not_chunking() -> None:
    one = Sample(pa.table({"key": ["a", "b"], "value": [1.0, 2.0]}, schema=Sample.schema))
    chunked = pa.concat_tables([one.table.slice(0, 1), one.table.slice(1, 1)])
    assert table_digest(chunked) == one.content_hash()
    other = Sample(pa.table({"key": ["a", "b"], "value": [1.0, 2.5]}, schema=Sample.schema))
    assert other.content_hash() != one.content_hash()
