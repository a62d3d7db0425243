"""A verdict is visible through /reports as soon as its gate outcome is stored: the commit's
page lists it as "report pending" before any report or gallery build, only to viewers who
may read the task's data, and the report replaces the entry once its record exists."""

from __future__ import annotations

import html
from pathlib import Path

import httpx
from live_api import EXAMPLE_POLICY, MASK_KEY, app_in_thread

from clearlake.api.app import create_app
from clearlake.api.config import load_api_config
from clearlake.api.tokens import issue_token
from clearlake.evaluation import gate
from clearlake.lake.store import LakeStore
from clearlake.reports.execute import ReportRecord, write_atomic
from clearlake.reports.gallery import commit_page
from clearlake.settings import load_settings

TASK = "arrival_delay"
CANDIDATE = "flight-delays@1a2b3c4"
OUTCOME = gate.GateOutcome(
    status=gate.PASSED,
    candidate=CANDIDATE,
    task=TASK,
    baseline="flight-delays@0f0f0f0",
    baseline_note="compared with flight-delays@0f0f0f0",
)


def test_stored_verdict_is_served_before_its_report(tmp_path: Path) -> None:
    lake = LakeStore(str(tmp_path / "lake"))
    gate.save_outcome(lake, TASK, OUTCOME)
    tokens = tmp_path / "tokens.yaml"
    viewers = {
        "stew": issue_token(tokens, principal="stew", roles=["steward"]),
        "pat": issue_token(tokens, principal="pat", roles=["partner"]),  # no weather, planes
    }
    settings = load_settings(
        {
            "CLEARLAKE_HOME": str(tmp_path / "home"),
            "CLEARLAKE_LAKE_URL": lake.url,
            "CLEARLAKE_API_POLICY": str(EXAMPLE_POLICY),
            "CLEARLAKE_API_TOKENS_FILE": str(tokens),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    headline = html.escape(OUTCOME.headline())
    with app_in_thread(create_app(load_api_config(settings))) as url:

        def get(path: str, who: str) -> httpx.Response:
            auth = {"Authorization": f"Bearer {viewers[who]}"}
            return httpx.get(f"{url}/reports/{path}", headers=auth, timeout=30)

        # No reports root, no gallery build: the page exists from the stored outcome alone.
        page = get(commit_page(CANDIDATE), "stew")
        assert page.status_code == 200, page.text
        assert headline in page.text and "report pending" in page.text
        index = get("", "stew")
        assert headline in index.text and "1a2b3c4" in index.text
        refused = get(commit_page(CANDIDATE), "pat")
        assert refused.status_code == 403
        assert set(refused.json()["refused"]) == {"weather", "planes"}
        assert "flight-delays" not in get("", "pat").text
        assert get(commit_page("flight-delays@9999999"), "stew").status_code == 404

        # The report arrives: its entry replaces the pending one.
        folder = f"candidate_report/{CANDIDATE}"
        record = ReportRecord(
            "candidate_report", CANDIDATE, "succeeded", "r1", "2026-01-01T00:00:00+00:00",
            f"{folder}/report.ipynb", f"{folder}/report.html", scope="candidate", task=TASK,
            provenance={"inputs": {"comparison": {"metadata": {
                "gate": OUTCOME.status, "gate_summary": OUTCOME.headline()}}}},
        )  # fmt: skip
        write_atomic(settings.reports_root / folder / "report.json", record.to_json().encode())
        page = get(commit_page(CANDIDATE), "stew")
        assert headline in page.text and "report pending" not in page.text
        assert 'report.html">page</a>' in page.text
