"""Authorisation matrix over real HTTP: roles x datasets x columns, as the sample policy
says (expectations written out by hand here, not derived from the policy code)."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from live_api import MASK_KEY, LiveApi

from clearlake.lake import read
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import FLIGHTS_SCHEMA

DATASETS = ["flights", "weather", "planes", "airlines", "airports"]
READS = {
    "sam": set(DATASETS),
    "pat": {"flights", "airlines", "airports"},
    "stew": set(DATASETS),
}
FLIGHTS_ACCESS = {  # column -> access, when not "allow"
    "sam": {"tailnum": "hash"},
    "pat": {"tailnum": "deny", "flight": "mask"},
    "stew": {},
}
DAY = "2013-01-02"


def hmac16(value: str) -> str:
    return hmac.new(MASK_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def arrow(response: httpx.Response) -> pa.Table:
    return ipc.open_stream(response.content).read_all()


@pytest.mark.parametrize("path", ["/v1/datasets", "/v1/datasets/flights/data"])
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic c2FtOnNhbQ==", "Bearer"])
def test_no_or_unknown_token_is_401(live_api: LiveApi, path: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(live_api.url + path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Missing or unknown bearer token" in response.json()["detail"]


def test_listing_shows_exactly_the_readable_datasets(live_api: LiveApi) -> None:
    for principal, readable in READS.items():
        body = live_api.get("/v1/datasets", principal).json()
        assert {d["name"] for d in body["datasets"]} == readable, principal
        assert body["principal"] == principal


@pytest.mark.parametrize("principal", sorted(READS))
@pytest.mark.parametrize("dataset", DATASETS)
def test_dataset_matrix(live_api: LiveApi, principal: str, dataset: str) -> None:
    allowed = dataset in READS[principal]
    params = {"start": DAY, "end": DAY} if dataset in ("flights", "weather") else {}
    data = live_api.get(f"/v1/datasets/{dataset}/data", principal, limit=3, **params)
    schema = live_api.get(f"/v1/datasets/{dataset}/schema", principal)
    if allowed:
        assert data.status_code == 200, data.text
        assert arrow(data).num_rows == 3
        assert schema.status_code == 200
    else:
        for response in (data, schema):
            assert response.status_code == 403
            assert response.json()["refused"] == [dataset]
            assert f"Dataset {dataset!r} is not granted to {principal!r}" in response.text


@pytest.mark.parametrize("principal", sorted(READS))
@pytest.mark.parametrize("column", FLIGHTS_SCHEMA.names)
def test_column_matrix_on_flights(
    live_api: LiveApi, sample_lake: LakeStore, principal: str, column: str
) -> None:
    access = FLIGHTS_ACCESS[principal].get(column, "allow")
    response = live_api.get(
        "/v1/datasets/flights/data", principal, start=DAY, end=DAY, columns=column, limit=60
    )
    if access == "deny":
        assert response.status_code == 403
        assert response.json()["refused"] == [column]
        assert f"Column(s) {column!r} of 'flights' are not granted" in response.text
        return
    assert response.status_code == 200, response.text
    assert response.headers["x-clearlake-access"] == f"{column}={access}"
    served = arrow(response).column(column).to_pylist()
    stored = read("flights", DAY, DAY, columns=[column], as_arrow=True, store=sample_lake)
    direct = stored.column(column).to_pylist()[:60]
    assert len(served) == 60
    if access == "allow":
        assert served == direct
    elif access == "hash":
        assert served == [None if v is None else hmac16(str(v)) for v in direct]
    else:
        assert all(v is None or v == "****" for v in served)
        assert any(v is not None for v in direct)


def test_default_columns_leave_out_what_a_role_may_not_see(live_api: LiveApi) -> None:
    tables = {
        p: arrow(live_api.get("/v1/datasets/flights/data", p, start=DAY, end=DAY, limit=5))
        for p in READS
    }
    assert "tailnum" not in tables["pat"].column_names
    assert tables["pat"].column("flight").null_count == 5
    assert tables["sam"].schema.field("tailnum").type == pa.string()
    assert tables["stew"].column_names == FLIGHTS_SCHEMA.names


def test_filters_on_hidden_columns_are_refused(live_api: LiveApi) -> None:
    for principal, condition in (
        ("sam", "tailnum:eq:N14228"),
        ("pat", "flight:eq:1545"),
        ("pat", "tailnum:in:N14228,N24211"),
    ):
        response = live_api.get("/v1/datasets/flights/data", principal, filter=condition)
        assert response.status_code == 403, response.text
        assert response.json()["refused"] == [condition.split(":")[0]]
        assert "would reveal their values" in response.text
    allowed = live_api.get("/v1/datasets/flights/data", "stew", filter="tailnum:eq:N14228")
    assert allowed.status_code == 200


def test_hashes_are_stable_across_requests_and_join_across_datasets(live_api: LiveApi) -> None:
    flights = arrow(
        live_api.get("/v1/datasets/flights/data", "sam", start=DAY, end=DAY, columns="tailnum")
    )
    again = arrow(
        live_api.get("/v1/datasets/flights/data", "sam", start=DAY, end=DAY, columns="tailnum")
    )
    planes = arrow(live_api.get("/v1/datasets/planes/data", "sam", columns="tailnum"))
    assert flights.equals(again)
    joined = set(flights.column("tailnum").to_pylist()) & set(planes.column("tailnum").to_pylist())
    assert len(joined) > 100  # hashed tail numbers still join flights to planes
    assert hmac16("N14228") in set(planes.column("tailnum").to_pylist())
