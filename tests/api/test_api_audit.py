"""Every request is audited — granted, 400 (validation and traversal probes), 401, 403,
404 (routing included), 405 — one record each, with the real status and the refused
datasets and columns as fields, against the real `clearlake api serve`."""

from __future__ import annotations

import httpx
from live_api import LiveApi

BAD_TOKEN = {"Authorization": "Bearer clk_not-a-token"}
# (principal or None, method, path, params, expected status)
REQUESTS: list[tuple[str | None, str, str, dict[str, str], int]] = [
    ("sam", "GET", "/v1/datasets", {}, 200),
    ("pat", "GET", "/v1/datasets/flights", {}, 200),
    ("pat", "GET", "/v1/datasets/flights/schema", {}, 200),
    ("sam", "GET", "/v1/datasets/airlines/data", {"format": "csv"}, 200),
    (None, "GET", "/openapi.json", {}, 200),
    ("sam", "GET", "/v1/datasets/flights/data", {"start": "2013-13-01"}, 400),
    ("sam", "GET", "/v1/datasets/flights/data", {"filter": "origin~JFK"}, 400),
    ("sam", "GET", "/v1/datasets/flights/data", {"columns": "nope"}, 400),
    ("sam", "GET", "/v1/datasets/flights/data", {"limit": "0"}, 400),
    ("sam", "GET", "/v1/datasets/bad$name", {}, 400),
    ("sam", "GET", "/reports/..%2F..%2Fetc%2Fpasswd", {}, 400),
    ("sam", "GET", "/reports/.hidden", {}, 400),
    (None, "GET", "/v1/datasets", {}, 401),
    ("bad", "GET", "/v1/datasets/flights/data", {}, 401),
    (None, "GET", "/reports/", {}, 401),
    ("pat", "GET", "/v1/datasets/weather", {}, 403),
    ("pat", "GET", "/v1/datasets/flights/data", {"columns": "carrier,tailnum"}, 403),
    ("pat", "GET", "/v1/datasets/flights/data", {"filter": "flight:eq:1"}, 403),
    ("pat", "GET", "/v1/datasets/nope", {}, 404),
    ("sam", "GET", "/nothing/here", {}, 404),
    (None, "GET", "/v1", {}, 404),
    ("sam", "GET", "/reports/no/such/page.html", {}, 404),
    ("sam", "POST", "/v1/datasets", {}, 405),
    ("stew", "DELETE", "/reports/", {}, 405),
]


def test_one_record_per_request_with_structured_refusals(live_api: LiveApi) -> None:
    before = len(live_api.audit())
    answered = []
    for principal, method, path, params, status in REQUESTS:
        headers = BAD_TOKEN if principal == "bad" else live_api.headers(principal)
        response = httpx.request(
            method, f"{live_api.url}{path}", headers=headers, params=params, timeout=60
        )
        assert response.status_code == status, (path, params, response.text)
        answered.append(response.status_code)
    records = live_api.audit_after(before, len(REQUESTS))
    assert len(records) / len(REQUESTS) == 1.0  # figure for issue 14: records per request
    assert sorted(r["status"] for r in records) == sorted(answered)
    outcomes = {r["status"]: r["outcome"] for r in records}
    assert outcomes == {
        200: "granted",
        400: "refused",
        401: "unauthenticated",
        403: "denied",
        404: "refused",
        405: "refused",
    }
    by_detail = {r["detail"] or "": r for r in records}
    traversal = next(r for d, r in by_detail.items() if "leaves the report gallery" in d)
    assert traversal["status"] == 400 and traversal["principal"] == "sam"
    assert traversal["dataset"].startswith("reports/")
    denied = [r for r in records if r["status"] == 403]
    assert {tuple(r["refused_datasets"]) for r in denied} == {("weather",), ()}
    assert {tuple(r["refused_columns"]) for r in denied} == {(), ("tailnum",), ("flight",)}
    column = next(r for r in denied if r["refused_columns"] == ["tailnum"])
    assert column["columns"] == ["carrier", "tailnum"]  # what was asked
    assert column["dataset"] == "flights" and column["principal"] == "pat"
    routing = next(r for r in records if r["action"] == "/nothing/here")
    assert routing["status"] == 404 and routing["principal"] == "sam"
    assert all(r["client"] == "127.0.0.1" for r in records)


def test_unknown_dataset_lists_only_readable_datasets(live_api: LiveApi) -> None:
    detail = live_api.get("/v1/datasets/nope", "pat").json()["detail"]
    assert detail == "Unknown dataset 'nope'. Datasets you may read: airlines, airports, flights."
    assert "weather" not in detail and "planes" not in detail
