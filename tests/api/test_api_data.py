"""Data, catalog, bad input and audit over real HTTP against the sample lake."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from typing import TypedDict

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from live_api import LiveApi

from clearlake.api.filters import parse_filter
from clearlake.api.models import DatasetOut
from clearlake.lake import read
from clearlake.lake.store import LakeStore

DATA = "/v1/datasets/flights/data"


class DateRange(TypedDict):
    start: str
    end: str


JAN: DateRange = {"start": "2013-01-01", "end": "2013-01-03"}
COLUMNS = ["flight_date", "carrier", "origin", "dep_delay", "time_hour"]


@pytest.mark.parametrize("fmt", ["arrow", "parquet", "csv", "jsonl"])
def test_every_format_returns_the_lake_rows(
    live_api: LiveApi, sample_lake: LakeStore, fmt: str
) -> None:
    response = live_api.get(DATA, columns=",".join(COLUMNS), format=fmt, **JAN)
    assert response.status_code == 200, response.text
    expected = read("flights", **JAN, columns=COLUMNS, as_arrow=True, store=sample_lake)
    assert expected.num_rows > 2000
    body = response.content
    if fmt == "arrow":
        assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
        assert ipc.open_stream(body).read_all().equals(expected)
    elif fmt == "parquet":
        assert response.headers["content-type"] == "application/vnd.apache.parquet"
        assert pq.read_table(io.BytesIO(body)).equals(expected)
    elif fmt == "csv":
        table = pacsv.read_csv(io.BytesIO(body))
        assert table.column_names == COLUMNS and table.num_rows == expected.num_rows
        assert table.column("carrier").to_pylist() == expected.column("carrier").to_pylist()
    else:
        rows = [json.loads(line) for line in body.decode().splitlines()]
        assert len(rows) == expected.num_rows
        first = expected.slice(0, 1).to_pylist()[0]
        assert rows[0]["flight_date"] == first["flight_date"].isoformat()
        assert rows[0]["time_hour"] == first["time_hour"].isoformat()
        assert [r["dep_delay"] for r in rows] == expected.column("dep_delay").to_pylist()
    assert 'filename="flights_2013-01-01_2013-01-03.' in response.headers["content-disposition"]


def test_filters_limit_and_column_order(live_api: LiveApi, sample_lake: LakeStore) -> None:
    response = live_api.get(
        DATA,
        columns=["dep_delay", "carrier"],
        filter=["origin:eq:JFK", "dep_delay:gt:30", "carrier:in:AA,B6"],
        **JAN,
    )
    served = ipc.open_stream(response.content).read_all()
    expected = read(
        "flights",
        **JAN,
        columns=["dep_delay", "carrier"],
        filters=[("origin", "==", "JFK"), ("dep_delay", ">", 30), ("carrier", "in", ["AA", "B6"])],
        as_arrow=True,
        store=sample_lake,
    )
    assert served.column_names == ["dep_delay", "carrier"]
    assert 0 < served.num_rows == expected.num_rows
    assert served.equals(expected)
    limited = live_api.get(DATA, limit=1234, start="2013-01-01", end="2013-03-31")
    assert ipc.open_stream(limited.content).read_all().num_rows == 1234


def test_snapshot_datasets_and_default_range(live_api: LiveApi, sample_lake: LakeStore) -> None:
    planes = ipc.open_stream(live_api.get("/v1/datasets/planes/data").content).read_all()
    assert planes.num_rows == read("planes", store=sample_lake).shape[0] == 3322
    weather = ipc.open_stream(live_api.get("/v1/datasets/weather/data").content).read_all()
    days = set(weather.column("observed_date").to_pylist())
    assert min(days) == dt.date(2013, 1, 1) and max(days) == dt.date(2013, 3, 31)


BAD_REQUESTS = [
    ("/v1/datasets/nope/data", {}, 404, r"Unknown dataset 'nope'\. Datasets you may read: airl"),
    (DATA, {"start": "2013-13-01"}, 400, r"Malformed start date '2013-13-01'"),
    (DATA, {"start": "yesterday"}, 400, r"Malformed start date 'yesterday': use ISO"),
    (DATA, {"start": "2013-03-01", "end": "2013-01-01"}, 400, r"start 2013-03-01 is after end"),
    (DATA, {"start": "2013-01-01", "end": "2015-01-01"}, 400, r"covers 731 days, more than"),
    (DATA, {"start": "2013-06-01", "end": "2013-06-02"}, 404, r"available: 2013-01-01\.\.2013-03"),
    (DATA, {"columns": "carrier,nope"}, 400, r"Unknown column\(s\) 'nope' in 'flights'"),
    (DATA, {"columns": ","}, 400, r"columns= is empty"),
    (DATA, {"filter": "origin"}, 400, r"Malformed filter 'origin': use column:op:value"),
    (DATA, {"filter": "dep_delay:gt:late"}, 400, r"value 'late' is not a valid double"),
    (DATA, {"filter": "origin:like:J"}, 400, r"Malformed filter 'origin:like:J': use col"),
    (DATA, {"filter": "dep_delay:in:1,"}, 400, r"value '' is not a valid double"),
    (DATA, {"filter": [f"hour:ne:{i}" for i in range(17)]}, 400, r"17 filters exceed"),
    (DATA, {"limit": "0"}, 400, r"parameter 'limit': Input should be greater than or equal"),
    (DATA, {"limit": "lots"}, 400, r"parameter 'limit': Input should be a valid integer"),
    (DATA, {"limit": str(10**11)}, 400, r"exceeds the maximum of 10000000 rows"),
    (DATA, {"format": "xml"}, 400, r"parameter 'format': Input should be 'arrow'"),
    ("/v1/datasets/planes/data", {"start": "2013-01-01"}, 400, r"not partitioned by date"),
    ("/v1/datasets/fl!ghts/schema", {}, 400, r"'fl!ghts' is not a dataset name: use a"),
    ("/v1/nothing", {}, 404, r"Not Found"),
]


@pytest.mark.parametrize(("path", "params", "status", "message"), BAD_REQUESTS)
def test_bad_input_is_a_clear_4xx(
    live_api: LiveApi, path: str, params: dict[str, str | list[str]], status: int, message: str
) -> None:
    response = live_api.get(path, "stew", **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "detail"}
    assert re.search(message, body["detail"]), body["detail"]


def test_wrong_method_is_405(live_api: LiveApi) -> None:
    response = httpx.post(f"{live_api.url}/v1/datasets", headers=live_api.headers("stew"))
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_catalog_lists_partitions_freshness_and_schema(live_api: LiveApi) -> None:
    body = live_api.get("/v1/datasets", "pat").json()
    flights = next(d for d in body["datasets"] if d["name"] == "flights")
    assert flights["description"].startswith("Every departure")
    assert flights["partitions"] == {
        "column": "flight_date",
        "count": 90,
        "first": "2013-01-01",
        "last": "2013-03-31",
        "ranges": [{"start": "2013-01-01", "end": "2013-03-31"}],
    }
    freshness = flights["freshness"]
    assert freshness["last_partition"] == "2013-03-31"
    assert freshness["age_seconds"] >= 0 and freshness["last_modified"].endswith("Z")
    fields = {f["name"]: f for f in flights["fields"]}
    assert fields["tailnum"] == {
        "name": "tailnum",
        "type": "string",
        "nullable": True,
        "column_class": "restricted",
        "access": "deny",
    }
    assert fields["flight"]["access"] == "mask" and fields["flight"]["nullable"] is True
    one = live_api.get("/v1/datasets/flights", "pat").json()
    assert one == {
        **flights,
        "freshness": {
            **flights["freshness"],
            "age_seconds": pytest.approx(flights["freshness"]["age_seconds"], abs=60),
        },
    }
    schema = live_api.get("/v1/datasets/planes/schema", "sam").json()
    assert {
        "name": "tailnum",
        "type": "string",
        "nullable": False,
        "column_class": "restricted",
        "access": "hash",
    } in schema["fields"]


def test_every_data_access_is_audited(live_api: LiveApi) -> None:
    before = len(live_api.audit())
    ok = live_api.get(
        DATA, "sam", columns="tailnum,carrier", filter="origin:eq:LGA", limit=7, format="csv", **JAN
    )
    assert ok.status_code == 200
    denied = live_api.get(DATA, "pat", columns="carrier,tailnum")
    anonymous = live_api.get(DATA, None)
    assert (denied.status_code, anonymous.status_code) == (403, 401)
    deadline = time.monotonic() + 5
    while len(live_api.audit()) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    records = live_api.audit()[before:]
    granted = next(r for r in records if r["principal"] == "sam")
    assert granted | {"time": None, "duration_s": None} == {
        "audit": "clearlake.api",
        "action": "data",
        "outcome": "granted",
        "principal": "sam",
        "roles": ["scientist"],
        "dataset": "flights",
        "columns": ["tailnum", "carrier"],
        "refused_datasets": [],
        "refused_columns": [],
        "masked": [],
        "hashed": ["tailnum"],
        "start": "2013-01-01",
        "end": "2013-01-03",
        "filters": ["origin:eq:LGA"],
        "limit": 7,
        "format": "csv",
        "rows": 7,
        "status": 200,
        "detail": None,
        "client": "127.0.0.1",
        "time": None,
        "duration_s": None,
    }
    refused = next(r for r in records if r["principal"] == "pat")
    assert (refused["outcome"], refused["status"]) == ("denied", 403)
    assert "'tailnum'" in refused["detail"] and refused["rows"] == 0
    assert refused["refused_columns"] == ["tailnum"]  # a field, not only the detail's text
    assert refused["columns"] == ["carrier", "tailnum"]
    assert any(r["outcome"] == "unauthenticated" and r["status"] == 401 for r in records)


def test_openapi_documents_formats_examples_and_bearer_auth(live_api: LiveApi) -> None:
    spec = httpx.get(f"{live_api.url}/openapi.json").json()
    data = spec["paths"]["/v1/datasets/{dataset}/data"]["get"]
    assert set(data["responses"]["200"]["content"]) == {
        "application/vnd.apache.arrow.stream",
        "application/vnd.apache.parquet",
        "text/csv; charset=utf-8",
        "application/x-ndjson",
    }
    assert {"400", "401", "403", "404"} <= set(data["responses"])
    params = {p["name"]: p for p in data["parameters"]}
    # The documented examples are generic (no project's names) and well-formed: each filter
    # parses with the API's own parser against a table that has the example's columns.
    (example_filters,) = params["filter"]["schema"]["examples"]
    example_columns = {f.split(":", 1)[0] for f in example_filters}
    assert example_columns, "the filter parameter documents no example"
    schema = pa.schema(
        [(c, pa.float64() if c == "amount" else pa.string()) for c in example_columns]
    )
    parsed = [parse_filter(f, schema) for f in example_filters]
    assert all(op in ("==", ">", "<", ">=", "<=", "!=", "in", "not in") for _, op, _ in parsed)
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    listing = spec["components"]["schemas"]["DatasetOut"]
    DatasetOut.model_validate(listing["examples"][0])
