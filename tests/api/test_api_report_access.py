"""Report pages need the grants of the datasets they are about, over real HTTP.

A gallery built by the real gallery code from report records of every scope, served by
`clearlake api serve` under the example policy plus a weather-only role. Every
(principal, page) pair is checked against what the policy grants: a page served to a
principal who may not read one of its datasets is a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_api import EXAMPLE_POLICY, LiveApi, running_api, server_env

from clearlake.api.tokens import issue_token
from clearlake.lake.store import LakeStore
from clearlake.reports.execute import ReportRecord, write_atomic
from clearlake.reports.gallery import GalleryTask, commit_page
from clearlake.reports.gallery_books import build_gallery

ROLES = {"stew": ["steward"], "pat": ["partner"], "wendy": ["meteorologist"]}
READS = {
    "stew": {"flights", "weather", "planes", "airlines", "airports"},
    "pat": {"flights", "airlines", "airports"},
    "wendy": {"weather"},
}
ARRIVAL_DELAY = {"flights", "weather", "planes", "airlines"}  # flight_features' inputs
CANDIDATE = "flight-delays@1a2b3c4"
# page -> datasets it is about (None: nothing vouches for it, refused to everyone)
PAGES: dict[str, set[str] | None] = {
    "lake_health/2013-01-05/report.html": {"flights", "weather"},
    "lake_health/2013-01-05/report.ipynb": {"flights", "weather"},
    "weather_watch/2013-01-05/report.html": {"weather"},
    "flights_watch/2013-01-05/report.json": {"flights"},
    f"candidate_report/{CANDIDATE}/report.html": ARRIVAL_DELAY,
    "summary/latest/report.html": {"flights", "weather", "planes", "airlines", "airports"},
    "leaderboards/arrival_delay.png": ARRIVAL_DELAY,
    commit_page(CANDIDATE): ARRIVAL_DELAY,
    "ghost_report/ghost@0abcdef/report.html": None,  # a task the project does not declare
    "orphan/latest/report.html": None,  # no record
    "stray.html": None,
}


def _report(root: Path, template: str, partition: str, **fields: object) -> None:
    folder = f"{template}/{partition}"
    record = ReportRecord(
        template=template,
        partition=None if partition == "latest" else partition,
        status="succeeded",
        run_id="r1",
        created_at="2026-01-01T00:00:00+00:00",
        notebook=f"{folder}/report.ipynb",
        html=f"{folder}/report.html",
        summary={"verdict": "healthy"},
        **fields,  # type: ignore[arg-type]
    )
    write_atomic(root / folder / "report.json", record.to_json().encode())
    for name in ("report.html", "report.ipynb"):
        write_atomic(root / folder / name, f"<p>{template} {partition} SECRET</p>".encode())


def build(root: Path) -> None:
    _report(root, "lake_health", "2013-01-05", scope="day", parameters={"tables": None})
    _report(root, "weather_watch", "2013-01-05", scope="day", parameters={"tables": ["weather"]})
    _report(root, "flights_watch", "2013-01-05", scope="day", parameters={"tables": ["flights"]})
    _report(root, "candidate_report", CANDIDATE, scope="candidate", task="arrival_delay")
    _report(root, "ghost_report", "ghost@0abcdef", scope="candidate", task="ghost")
    _report(root, "summary", "latest", scope="none")
    write_atomic(root / "orphan" / "latest" / "report.html", b"<p>orphan</p>")
    write_atomic(root / "stray.html", b"<p>stray</p>")
    write_atomic(root / "leaderboards" / "arrival_delay.png", b"\x89PNG")
    build_gallery(
        root,
        tasks={
            "arrival_delay": GalleryTask(
                candidates=[CANDIDATE, "flight-delays@2b3c4d5"],
                leaderboard="leaderboards/arrival_delay.png",
                kind="regression",
            ),
            "late_arrival": GalleryTask(candidates=["late-arrivals@3c4d5e6"], kind="binary"),
        },
    )


@pytest.fixture(scope="module")
def gallery_api(
    tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore
) -> Iterator[LiveApi]:
    home = tmp_path_factory.mktemp("report-access")
    policy = home / "policy.yaml"
    policy.write_text(
        EXAMPLE_POLICY.read_text()
        + "  meteorologist:\n    datasets: [weather]\n    classes: {public: allow}\n"
    )
    tokens_file = home / "tokens.yaml"
    tokens = {p: issue_token(tokens_file, principal=p, roles=r) for p, r in ROLES.items()}
    build(home / "reports")
    env = server_env(
        home,
        sample_lake,
        CLEARLAKE_API_POLICY=str(policy),
        CLEARLAKE_API_TOKENS_FILE=str(tokens_file),
    )
    with running_api(home, env, tokens) as api:
        yield api


def test_every_page_needs_every_dataset_it_is_about(gallery_api: LiveApi) -> None:
    leaks, wrongly_refused = [], []
    for principal, reads in READS.items():
        for page, about in PAGES.items():
            response = gallery_api.get(f"/reports/{page}", principal)
            granted = about is not None and about <= reads
            if response.status_code == 200 and not granted:
                leaks.append((principal, page))
            if granted and response.status_code != 200:
                wrongly_refused.append((principal, page, response.status_code))
            if not granted:
                assert response.status_code == 403, (principal, page, response.text)
                body = response.json()
                assert "SECRET" not in response.text
                assert set(body["refused"]) == (
                    {"(unknown)"} if about is None else about - reads
                ), (principal, page)
    assert leaks == []  # figure for issue 14: leaked report pages
    assert wrongly_refused == []


def _links(html: str) -> set[str]:
    return {link.split("/")[0] for link in re.findall(r'href="([^"]+)"', html)}


def test_the_index_lists_only_what_its_viewer_may_open(gallery_api: LiveApi) -> None:
    seen = {p: gallery_api.get("/reports/", p) for p in READS}
    assert all(r.status_code == 200 for r in seen.values())
    assert _links(seen["stew"].text) >= {
        "lake_health",
        "weather_watch",
        "flights_watch",
        "candidate_report",
        "summary",
        "candidates",
    }
    assert _links(seen["wendy"].text) == {"weather_watch"}
    assert _links(seen["pat"].text) == {"flights_watch"}
    for principal in ("pat", "wendy"):  # neither the task nor its candidates are named
        text = seen[principal].text
        assert "arrival_delay" not in text and "flight-delays" not in text
        assert "late_arrival" not in text and "ghost" not in text
    # the task without any report still shows its candidates to those who read its inputs
    assert "late-arrivals" in seen["stew"].text and "3c4d5e6" in seen["stew"].text
    assert "ghost" not in seen["stew"].text  # unknown task: refused to everyone


def test_refusals_are_audited_with_the_refused_datasets(gallery_api: LiveApi) -> None:
    before = len(gallery_api.audit())
    gallery_api.get("/reports/lake_health/2013-01-05/report.html", "wendy")
    written = gallery_api.audit_after(before, 1)  # just after the response went out
    records = [r for r in written if r["principal"] == "wendy" and r["status"] == 403]
    assert records, "no audit record of the refusal"
    last = records[-1]
    assert last["action"] == "report" and last["outcome"] == "denied"
    assert last["refused_datasets"] == ["flights"]
    assert last["dataset"] == "reports/lake_health/2013-01-05/report.html"
