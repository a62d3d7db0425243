"""The gallery as a person's browser lays it out (real headless Chromium): long gate
headlines, commit messages and parameters wrap instead of pushing the page sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from clearlake.reports.execute import ReportRecord
from clearlake.reports.gallery import (
    PENDING,
    GalleryTask,
    TrendFigure,
    commit_page,
    render_pages,
    trend_page,
    write_trend_page,
)

CHROMIUM = Path("/usr/bin/chromium")
HEADLINE = (
    "blocked vs flight-delays@7d1d58e (nearest passing ancestor; champion ec31e87 was blocked): "
    "mae for carrier=WN +2.53 (95% CI +1.10…+3.96, minimum effect 0.50); mae for origin=LGA "
    "+1.21; false alarms calibrated at 0.8% (40 A/A trials of flight-delays@ec31e87)"
)


def record(key: str, *, status: str = PENDING) -> ReportRecord:
    return ReportRecord(
        template="candidate_report",
        partition=key,
        status=status,
        run_id="0f6c1d2e-8a8b-4c55-9d0e-6f1e2a3b4c5d",
        created_at="2026-12-07T10:00:00+00:00",
        notebook="",
        html="",
        scope="candidate",
        task="arrival_delay",
        parameters={"metrics": ["mae", "rmse", "within_15"], "top": 25, "extra": "x" * 120},
        provenance={"commit_message": "Retune the model " + "with a much longer message " * 6},
        summary={"gate": "blocked", "gate_summary": HEADLINE, "baseline": "flight-delays@7d1d58e"},
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: `make browser`")
def test_gallery_and_trend_pages_fit_the_window(tmp_path: Path) -> None:
    keys = [f"flight-delays@{i:07x}" for i in range(3)]
    tasks = {"arrival_delay": GalleryTask(kind="regression", trends=trend_page("arrival_delay"))}
    for relative, html in render_pages([record(k) for k in keys], tasks).items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(html)
    wide = '<svg xmlns="http://www.w3.org/2000/svg" width="2400" height="300"/>'
    (tmp_path / "trends" / "arrival_delay").mkdir(parents=True)
    (tmp_path / "trends" / "arrival_delay" / "metrics.svg").write_text(wide)
    write_trend_page(
        tmp_path, "arrival_delay", [TrendFigure("Every metric", "metrics.svg")], shown=30, total=900
    )
    pages = ["index.html", commit_page(keys[0]), trend_page("arrival_delay")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        for width in (1280, 1400):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for relative in pages:
                page.goto((tmp_path / relative).as_uri())
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{relative} overflows by {overflow} px at {width} px"
            page.close()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((tmp_path / "index.html").as_uri())
        page.get_by_role("link", name="Trends").click()
        assert page.get_by_role("heading", name="Trends of arrival_delay").is_visible()
        assert page.get_by_text("Showing the last 30 of 900 candidates").is_visible()
        browser.close()
