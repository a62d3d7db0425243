"""A person opens the reports in a browser: sign in once with a token, then browse the
gallery, a commit page and a candidate report under the token's grants.

Real pieces: a candidate report rendered by the real report asset (stand-in evaluation
outputs, as in tests/reports), the gallery, `clearlake api serve` over HTTP, headless
Chromium. Bearer clients keep their JSON answers. Screenshots go to test-artifacts/reports/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from live_api import LiveApi, running_api, server_env
from playwright.sync_api import Page, expect, sync_playwright

from clearlake.api.sessions import COOKIE
from clearlake.api.tokens import issue_token
from clearlake.lake.store import LakeStore
from clearlake.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "reports"
REPORT_TESTS = PROJECT_ROOT / "tests" / "reports"
TASK, CANDIDATE = "arrival_delay", "flight-delays@1a2b3c4"
WIDTH = 1280

# Assertions wait as long as actions do: a loaded 2-core machine renders pages slowly.
expect.set_options(timeout=60_000)


def _materialize(defs: dg.Definitions, instance: dg.DagsterInstance, *keys: str) -> None:
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k.split("/")) for k in keys],
        partition_key=None if keys == ("reports/report_gallery",) else CANDIDATE,
    )
    assert result.success, keys


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore) -> Iterator[LiveApi]:
    """One rendered candidate report and its gallery, served by the real Data API."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed at /usr/bin/chromium: run `make browser`.")
    home = tmp_path_factory.mktemp("signin")
    shutil.copytree(sample_lake.root, home / "lake")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    lake = LakeStore((home / "lake").as_uri())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARLAKE_HOME", str(home))
        patch.setenv("CLEARLAKE_LAKE_URL", lake.url)
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        patch.syspath_prepend(str(REPORT_TESTS))
        from report_harness import definitions

        from clearlake.names import candidate_partitions_name

        defs = definitions()
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions(candidate_partitions_name(TASK), [CANDIDATE])
            _materialize(
                defs,
                instance,
                f"evaluation/{TASK}/candidate_predictions",
                f"evaluation/{TASK}/candidate_comparison",
                f"reports/{TASK}/candidate_report",
            )
            _materialize(defs, instance, "reports/report_gallery")
    tokens_file = home / "api" / "tokens.yaml"
    tokens = {
        "stew": issue_token(tokens_file, principal="stew", roles=["steward"]),
        "pat": issue_token(tokens_file, principal="pat", roles=["partner"]),
    }
    env = server_env(home, lake, CLEARLAKE_API_TOKENS_FILE=str(tokens_file))
    with running_api(home, env, tokens) as api:
        yield api


def _no_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide at a {WIDTH} px window"


def _sign_in(page: Page, api: LiveApi, principal: str, start: str) -> None:
    page.goto(f"{api.url}{start}")
    expect(page).to_have_url(f"{api.url}/login?next={start.replace('/', '%2F')}")
    page.get_by_label("Token").fill(api.tokens[principal])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{api.url}{start}")


def test_a_person_signs_in_once_and_browses_to_a_report(gallery: LiveApi) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        context.set_default_timeout(60_000)
        page = context.new_page()
        _sign_in(page, gallery, "stew", "/reports/")
        expect(page.get_by_role("heading", name="Clearlake reports")).to_be_visible()
        expect(page.locator(".verdict.improved").first).to_be_visible()
        _no_overflow(page)
        page.screenshot(path=ARTIFACTS / "signed-in-gallery.png", full_page=True)
        page.get_by_role("link", name=CANDIDATE.split("@")[1]).click()
        expect(page.get_by_role("heading", name=CANDIDATE)).to_be_visible()
        _no_overflow(page)
        page.get_by_role("link", name="page").first.click()
        expect(page.get_by_text("Gate:", exact=False).first).to_be_visible()
        expect(page.get_by_text("Per-subgroup breakdown").first).to_be_visible()
        images = page.locator("img")
        assert images.count() >= 4
        widths = images.evaluate_all("all => all.map(i => i.complete ? i.naturalWidth : 0)")
        assert all(w > 0 for w in widths), widths
        provenance = page.locator("details.clearlake-provenance")
        expect(provenance).not_to_have_attribute("open", "")  # collapsed, below the findings
        _no_overflow(page)
        page.screenshot(path=ARTIFACTS / "signed-in-report.png", full_page=True)
        cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert gallery.tokens["stew"] not in cookie["value"]  # only the token's digest, signed

        # another viewer sees only what their grants allow: the task's page is refused
        other = browser.new_context(viewport={"width": WIDTH, "height": 900}).new_page()
        _sign_in(other, gallery, "pat", "/reports/")
        assert CANDIDATE not in other.content()
        refused = other.goto(f"{gallery.url}{page.url.removeprefix(gallery.url)}")
        assert refused is not None and refused.status == 403
        browser.close()


def test_api_clients_keep_bearer_tokens_and_json_refusals(gallery: LiveApi) -> None:
    assert gallery.get("/reports/", "stew").status_code == 200  # bearer, as before
    anonymous = httpx.get(f"{gallery.url}/reports/", timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    browser = httpx.get(f"{gallery.url}/reports/", headers={"Accept": "text/html"}, timeout=30)
    assert (browser.status_code, browser.headers["location"]) == (303, "/login?next=%2Freports%2F")
    wrong = httpx.post(f"{gallery.url}/login", data={"token": "clk_nope"}, timeout=30)
    assert wrong.status_code == 401 and "Unknown token" in wrong.text
    signed = httpx.post(
        f"{gallery.url}/login",
        data={"token": gallery.tokens["stew"], "next": "//evil.example/x"},
        timeout=30,
    )
    assert (signed.status_code, signed.headers["location"]) == (303, "/reports/")  # not off-site
    value = signed.cookies[COOKIE]
    assert httpx.get(f"{gallery.url}/reports/", cookies={COOKIE: value}, timeout=30).is_success
    forged = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert (
        httpx.get(f"{gallery.url}/reports/", cookies={COOKIE: forged}, timeout=30).status_code
        == 401
    )


def test_docs_load_nothing_from_the_network(gallery: LiveApi) -> None:
    docs = httpx.get(f"{gallery.url}/docs", timeout=30)
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs-assets/{asset}" in docs.text
        assert httpx.get(f"{gallery.url}/docs-assets/{asset}", timeout=30).status_code == 200
