"""Pure pieces of the Data API: filters, masking and hashing, tokens, encoders."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from clearlake.api.chunk_file import ChunkFile
from clearlake.api.errors import BadRequestError, ConfigFileError
from clearlake.api.filters import parse_filter
from clearlake.api.formats import Format, encode
from clearlake.api.masking import BatchTransform, hash_values, mask
from clearlake.api.tokens import hash_token, issue_token, load_tokens
from clearlake.errors import ConfigurationError
from clearlake.lake.tables import FLIGHTS_SCHEMA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("origin:eq:JFK", ("origin", "==", "JFK")),
        ("dep_delay:gt:30", ("dep_delay", ">", 30.0)),
        ("flight:le:1545", ("flight", "<=", 1545)),
        ("carrier:in:AA,UA", ("carrier", "in", ["AA", "UA"])),
        ("hour:notin:5,6", ("hour", "not in", [5, 6])),
        ("flight_date:ge:2013-01-15", ("flight_date", ">=", dt.date(2013, 1, 15))),
        (
            "time_hour:lt:2013-01-01T06:00",
            ("time_hour", "<", dt.datetime(2013, 1, 1, 6, tzinfo=dt.UTC)),
        ),
        ("dest:eq:a:b", ("dest", "==", "a:b")),
    ],
)
def test_filters_are_typed_from_the_column(text: str, expected: tuple[object, ...]) -> None:
    assert parse_filter(text, FLIGHTS_SCHEMA) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("origin", r"Malformed filter 'origin': use column:op:value"),
        (":eq:1", r"Malformed filter"),
        ("nope:eq:1", r"unknown column 'nope'"),
        ("origin:like:J%", r"unknown operator 'like'"),
        ("dep_delay:gt:late", r"'late' is not a valid double"),
        ("dep_delay:gt:nan", r"NaN"),
        ("flight:eq:1.5", r"'1.5' is not a valid int64"),
        ("flight:eq:99999999999999999999", r"outside"),
        ("flight_date:eq:2013-02-30", r"not a valid date32"),
        ("time_hour:eq:noon", r"not a valid timestamp"),
    ],
)
def test_malformed_filters_name_the_filter(text: str, message: str) -> None:
    with pytest.raises(BadRequestError, match=message):
        parse_filter(text, FLIGHTS_SCHEMA)


def test_mask_hides_values_and_keeps_nulls_and_types() -> None:
    assert mask(pa.array(["N1", None])).to_pylist() == ["****", None]
    masked = mask(pa.array([1, 2], pa.int64()))
    assert masked.type == pa.int64() and masked.null_count == 2


def test_keyed_hash_is_hmac_sha256_truncated_and_stable() -> None:
    values = pa.array(["N14228", None, "N24211", "N14228"])
    first = hash_values(values, b"key-one").to_pylist()
    expected = hmac.new(b"key-one", b"N14228", hashlib.sha256).hexdigest()[:16]
    assert first == [expected, None, first[2], expected]
    assert hash_values(values, b"key-one").to_pylist() == first
    other_key = hash_values(values, b"key-two").to_pylist()
    assert other_key[0] != first[0] and other_key[1] is None


def test_batch_transform_serves_each_column_as_granted() -> None:
    schema = pa.schema([("a", pa.string()), ("b", pa.int64()), ("c", pa.string())])
    transform = BatchTransform(
        schema, ["c", "a"], {"a": "hash", "b": "deny", "c": "mask"}, key=b"k"
    )
    batch = pa.record_batch([pa.array(["x"]), pa.array([1]), pa.array(["y"])], schema=schema)
    out = transform(batch)
    assert out.schema.names == ["c", "a"]
    assert out.column("c").to_pylist() == ["****"]
    assert out.column("a").to_pylist() == [hash_values(pa.array(["x"]), b"k")[0].as_py()]
    with pytest.raises(ValueError, match="denied"):
        BatchTransform(schema, ["b"], {"b": "deny"}, key=b"k")


def test_tokens_are_stored_hashed_and_authenticate(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    token = issue_token(path, principal="ada", roles=["scientist"])
    second = issue_token(path, principal="bob", roles=["partner", "scientist"])
    text = path.read_text()
    assert token not in text and second not in text and hash_token(token) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    registry = load_tokens(file=path, inline=None, roles={"scientist", "partner"})
    principal = registry.authenticate(second)
    assert principal is not None and principal.roles == ("partner", "scientist")
    assert registry.authenticate(token + "x") is None
    inline = f"tokens: [{{principal: eve, roles: [partner], sha256: {hash_token('t0k')}}}]"
    both = load_tokens(file=path, inline=inline, roles={"scientist", "partner"})
    assert len(both) == 3 and both.authenticate("t0k") is not None


def test_tokens_with_unknown_roles_or_nothing_at_all_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    issue_token(path, principal="ada", roles=["scientist"])
    issue_token(path, principal="mallory", roles=["admin"])
    with pytest.raises(ConfigFileError, match=r"line 8: .*'mallory' has role\(s\) \['admin'\]"):
        load_tokens(file=path, inline=None, roles={"scientist"})
    with pytest.raises(ConfigurationError, match=r"no tokens.*clearlake api token issue"):
        load_tokens(file=tmp_path / "missing.yaml", inline=None, roles={"scientist"})


BATCHES = [
    pa.record_batch({"d": pa.array([dt.date(2013, 1, i)]), "x": pa.array([float(i)]), "s": ["é"]})
    for i in range(1, 4)
]


@pytest.mark.parametrize("fmt", ["arrow", "parquet", "csv", "jsonl"])
def test_encoders_stream_one_chunk_per_batch_and_round_trip(fmt: Format) -> None:
    chunks = list(encode(fmt, BATCHES[0].schema, iter(BATCHES)))
    assert len(chunks) >= len(BATCHES)
    body = b"".join(chunks)
    if fmt == "arrow":
        table = ipc.open_stream(body).read_all()
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(body))
        assert pq.ParquetFile(io.BytesIO(body)).num_row_groups == 3
    elif fmt == "csv":
        table = pacsv.read_csv(io.BytesIO(body))
    else:
        rows = [json.loads(line) for line in body.decode().splitlines()]
        assert rows[0] == {"d": "2013-01-01", "x": 1.0, "s": "é"}
        table = pa.Table.from_pylist(rows)
    assert table.num_rows == 3
    assert table.column("x").to_pylist() == [1.0, 2.0, 3.0]


def test_chunk_file_returns_exact_reads_across_chunks() -> None:
    data = bytes(range(256)) * 40
    chunks = iter([data[:7], b"", data[7:1000], data[1000:]])
    stream = ChunkFile(chunks)
    assert stream.read(3) == data[:3]
    assert stream.read(2000) == data[3:2003]
    assert stream.read(-1) == data[2003:]
    assert stream.read(10) == b""
    table = pa.table({"x": list(range(10_000))})
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=1000)
    body = sink.getvalue()
    pieces = iter([body[i : i + 333] for i in range(0, len(body), 333)])
    assert ipc.open_stream(ChunkFile(pieces)).read_all().equals(table)
