"""The report gallery served read-only from ``reports_root``: 404 before it exists,
pages after, path traversal refused, token required by the example policy. (Which page
each principal may open: test_api_report_access.py.)"""

from __future__ import annotations

import httpx
from live_api import LiveApi

from clearlake.reports.execute import ReportRecord
from clearlake.reports.gallery_books import build_gallery


def test_report_gallery(live_api: LiveApi) -> None:
    missing = live_api.get("/reports/", "sam")
    assert missing.status_code == 404
    assert "No report gallery has been built yet" in missing.json()["detail"]
    assert str(live_api.home) not in missing.text  # no server paths in answers

    root = live_api.home / "reports"
    (root / "flights" / "abc123").mkdir(parents=True)
    record = ReportRecord(
        "flights", "abc123", "succeeded", "r1", "", "", "", scope="day",
        parameters={"tables": ["flights"]},
    )  # fmt: skip
    (root / "flights" / "abc123" / "report.json").write_text(record.to_json())
    (root / "flights" / "abc123" / "index.html").write_text("<html>Report abc123</html>")
    (root / "flights" / "abc123" / "style.css").write_text("body { color: black }")
    build_gallery(root)
    (root / ".secret.html").write_text("HIDDEN-CONTENT")
    (live_api.home / "outside.html").write_text("OUTSIDE-CONTENT")
    (root / "escape.html").symlink_to(live_api.home / "outside.html")

    index = live_api.get("/reports/", "sam")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "Clearlake reports" in index.text
    page = live_api.get("/reports/flights/abc123/", "pat")
    assert page.status_code == 200 and "Report abc123" in page.text
    css = live_api.get("/reports/flights/abc123/style.css", "pat")
    assert css.headers["content-type"].startswith("text/css")
    redirect = httpx.get(
        f"{live_api.url}/reports", headers=live_api.headers("sam"), follow_redirects=True
    )
    assert redirect.status_code == 200 and "Clearlake reports" in redirect.text

    assert live_api.get("/reports/", None).status_code == 401  # policy: authenticated
    assert live_api.get("/reports/flights/nope.html", "sam").status_code == 404
    for path in ("/reports/..%2Foutside.html", "/reports/.secret.html", "/reports/escape.html"):
        response = httpx.get(f"{live_api.url}{path}", headers=live_api.headers("sam"))
        assert response.status_code == 400, path
        detail = response.json()["detail"]
        assert "leaves the report gallery" in detail and "refused" in detail
        assert "OUTSIDE-CONTENT" not in response.text and "HIDDEN" not in response.text
    symlink = live_api.get("/reports/escape.html", "sam").json()["detail"]
    assert symlink == "Report path 'escape.html' leaves the report gallery: refused."
    records = [r for r in live_api.audit() if r["action"] == "report"]
    assert {r["dataset"] for r in records} >= {"reports/", "reports/flights/abc123/"}
