"""End to end, as users see it: the Dagster UI and the report gallery in real Chromium.

Screenshots land in ``test-artifacts/ui/`` (kept by CI as artefacts).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from ui_harness import ARTIFACTS, CANDIDATE, CHROMIUM, CHROMIUM_FLAGS, DAY, UiEnv

pytestmark = pytest.mark.slow
GROUPS = ("lake", "features", "evaluation_arrival_delay", "evaluation_late_arrival", "reports")

# Assertions wait as long as actions do: a loaded 2-core machine renders Dagster's pages slowly.
expect.set_options(timeout=60_000)


@pytest.fixture(scope="module")
def browser(ui_env: UiEnv) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


def test_asset_graph_shows_a_group_per_task(ui_env: UiEnv, page: Page) -> None:
    page.goto(f"{ui_env.ui_url}/asset-groups")
    graph = page.locator("svg foreignObject")  # the graph's nodes, not the tree beside it
    for group in GROUPS:
        expect(graph.get_by_text(group, exact=True)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "asset-graph.png")
    graph.get_by_text("reports", exact=True).dblclick()  # expand the group
    for asset in ("candidate_report", "lake_health", "report_gallery", "sanity_check"):
        expect(graph.get_by_text(asset, exact=True).first).to_be_visible()  # one per task
    page.screenshot(path=ARTIFACTS / "asset-graph-reports.png")


def test_report_asset_links_to_its_report(ui_env: UiEnv, page: Page) -> None:
    page.goto(f"{ui_env.ui_url}/assets/reports/lake_health")
    expect(page.get_by_text("One lake day of the daily tables", exact=False)).to_be_visible()
    for shown in ("data-science", "ipynb"):  # dagstermill's compute kind, which the UI shows
        expect(page.get_by_text(shown, exact=True).first).to_be_visible()
    link = page.locator(f'a[href="{ui_env.reports_url}/lake_health/{DAY}/report.html"]').first
    expect(link).to_be_visible()
    page.screenshot(path=ARTIFACTS / "lake-health-asset.png")
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    expect(report).to_have_title(f"lake_health · {DAY}")
    expect(report.get_by_role("heading", name="Lake health")).to_be_visible()
    expect(report.get_by_text(f"{DAY}:", exact=False).first).to_be_visible()
    expect(report.get_by_text("Provenance", exact=False).first).to_be_visible()
    report.screenshot(path=ARTIFACTS / "lake-health-report.png", full_page=True)


def test_gallery_renders_with_its_plot(ui_env: UiEnv, page: Page) -> None:
    response = page.goto(f"{ui_env.reports_url}/index.html")
    assert response is not None and response.status == 200
    plot = page.locator("img.leaderboard")
    expect(plot).to_be_visible()
    assert plot.evaluate("img => img.complete && img.naturalWidth") > 0
    expect(page.locator(".verdict.improved")).to_have_text("improved")
    expect(page.get_by_role("link", name="page").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "gallery.png", full_page=True)
    page.get_by_role("link", name=CANDIDATE.split("@")[1]).click()
    expect(page.get_by_role("heading", name=CANDIDATE)).to_be_visible()
    assert page.locator("img.leaderboard").evaluate("img => img.naturalWidth") > 0
    page.get_by_role("link", name="page").click()
    expect(page.get_by_text("Gate:", exact=False)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "candidate-report.png", full_page=True)
