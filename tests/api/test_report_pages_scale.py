"""One new commit costs the gallery and the Data API the same after 1,030 commits as after
30 (issue 21): the files read, written and listed are counted (``testing.work.FileAudit``),
the pages and their pagination checked. Histories of 30 and 1,030 (not 10 and 1,000) put
the new commit at the same place of a book page (31st of 50, with the index's 20 newest on
that one page), so the counts must be *equal*."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx
from live_api import EXAMPLE_POLICY, MASK_KEY, app_in_thread

from clearlake.api.app import create_app
from clearlake.api.config import load_api_config
from clearlake.api.tokens import issue_token
from clearlake.evaluation import gate
from clearlake.lake.store import LakeStore
from clearlake.reports import gallery_books as books
from clearlake.reports.execute import ReportRecord, write_atomic
from clearlake.reports.gallery import GalleryTask, commit_page
from clearlake.settings import load_settings
from clearlake.testing.work import FileAudit

TASK, REPO, TEMPLATE = "arrival_delay", "flight-delays", "candidate_report"
TASKS = {TASK: GalleryTask(kind="regression")}


def key(i: int) -> str:
    return f"{REPO}@{i:07x}"


def publish(root: Path, i: int) -> ReportRecord:
    folder = f"{TEMPLATE}/{key(i)}"
    record = ReportRecord(
        TEMPLATE, key(i), "succeeded", f"run-{i}", f"2026-01-01T00:00:{i % 60:02d}+00:00",
        f"{folder}/report.ipynb", f"{folder}/report.html", scope="candidate", task=TASK,
        provenance={"committed_at": f"2026-{1 + i // 100000:02d}-01T{i:010d}",
                    "commit_message": f"commit {i}"},
        summary={"verdict": "no significant change", "baseline": key(max(i - 1, 0))},
    )  # fmt: skip
    write_atomic(root / folder / "report.json", record.to_json().encode())
    return record


def test_one_new_commit_costs_the_same_after_1030_commits(tmp_path: Path) -> None:
    work: dict[int, dict[str, Counter[str]]] = {}
    for size in (30, 1030):
        home = tmp_path / f"home-{size}"
        root = home / "reports"
        for i in range(size):
            publish(root, i)
        books.build_gallery(root, tasks=TASKS)  # the first build: one scan
        assert (root / books.page_file(books.task_book(TASK), -(-size // 50))).is_file()
        work[size] = serve_one_new_commit(home, size)
    assert work[1030] == work[30], work
    assert work[30]["update"]["write"] <= 12, work[30]  # a handful of pages, not the history


def serve_one_new_commit(home: Path, size: int) -> dict[str, Counter[str]]:
    """Publish commit ``size``, update the gallery with it, fetch its page, the index and
    its book page through the real Data API; the files each step touched."""
    root = home / "reports"
    record = publish(root, size)
    lake = LakeStore(str(home / "lake"))
    pending_key = key(size + 1)  # a verdict stored, its report still to come
    outcome = gate.GateOutcome(
        status=gate.PASSED, candidate=pending_key, task=TASK, baseline=key(size),
        baseline_note=f"compared with {key(size)}",
    )  # fmt: skip
    gate.save_outcome(lake, TASK, outcome)
    with FileAudit(root) as update:
        changes = [books.Change(key(size), (record,), task=TASK)]
        done = books.update(root, changes, tasks=TASKS)
    assert set(done.commit_pages) == {key(size)}
    tokens = home / "tokens.yaml"
    token = issue_token(tokens, principal="stew", roles=["steward"])
    settings = load_settings(
        {
            "CLEARLAKE_HOME": str(home),
            "CLEARLAKE_LAKE_URL": lake.url,
            "CLEARLAKE_API_POLICY": str(EXAMPLE_POLICY),
            "CLEARLAKE_API_TOKENS_FILE": str(tokens),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    counts: dict[str, Counter[str]] = {"update": update.counts}
    last = -(-(size + 1) // 50)
    book_page = books.page_file(books.task_book(TASK), last)
    with app_in_thread(create_app(load_api_config(settings))) as url:

        def get(path: str) -> str:
            with FileAudit(root) as audit:
                response = httpx.get(
                    f"{url}/reports/{path}", headers={"Authorization": f"Bearer {token}"}
                )
            assert response.status_code == 200, (path, response.text)
            counts[path.split("/")[0] or "index"] = audit.counts
            return response.text

        index = get("")
        assert f'href="{quote(commit_page(key(size)))}"' in index  # the newest commits
        oldest_listed = f'href="{quote(commit_page(key(0)))}"' in index
        assert oldest_listed == (size < books.INDEX_ROWS)  # the newest only, not the history
        assert f"all {size + 1} commits of {TASK}" in index
        assert f"commit {size}" in get(commit_page(key(size)))
        pending = get(commit_page(pending_key))
        assert "report pending" in pending and html.escape(pending_key) in pending
        page = get(book_page)
        assert f"page {last} of {last}" in page and f"commit {size}" in page
        assert ("older" in page) == (last > 1)
    return counts
