"""Candidate reports through Dagster: verdict, parameter overrides, failures, the gallery."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
from report_harness import REPORTS_URL, ReportEnv, failure_message, materialization

from clearlake.evaluation.candidates import (
    CandidateKey,
    register_parameters,
    save_commit_info,
)
from clearlake.evaluation.git import CommitInfo
from clearlake.lake.store import LakeStore
from clearlake.reports import nbio
from clearlake.reports.gallery import commit_page
from clearlake.settings import load_settings
from clearlake.versioning import json_version

GOOD = "delay_model@1a2b3c4"
TUNING = {"max_depth": 3}
TUNED = str(CandidateKey.of("delay_model", "1a2b3c4", TUNING))
BAD = "delay_model@bad0001"
UNREPORTED = "delay_model@c0ffee0"  # known to Dagster, its run stopped before the report
COMMITTED = dt.datetime(2026, 11, 20, 17, 5, tzinfo=dt.UTC)
DEFAULTS = {"metrics": None, "subgroup_kinds": ["carrier", "origin", "month"], "top_subgroups": 8}
REPORT = "reports__candidate_report"


@dataclass
class Runs:
    env: ReportEnv
    good: dg.ExecuteJobResult
    failed: dg.ExecuteJobResult


@pytest.fixture(scope="module")
def runs(report_env: ReportEnv) -> Iterator[Runs]:
    report_env.instance.add_dynamic_partitions("candidates", [GOOD, TUNED, BAD, UNREPORTED])
    lake = LakeStore(load_settings().lake_url)  # what the evaluation records per candidate
    info = CommitInfo(
        "1a2b3c4" + "0" * 33, "Use weather at origin\n\nDetails", "ada", COMMITTED, ()
    )
    save_commit_info(lake, GOOD, info)
    register_parameters(lake, TUNED, TUNING)
    for key in (GOOD, TUNED, BAD):
        assert report_env.materialize("evaluation/candidate_comparison", partition=key).success
    good = report_env.materialize("reports/candidate_report", partition=GOOD)
    failed = report_env.materialize(
        "reports/candidate_report", partition=BAD, config={REPORT: {"metrics": ["nope"]}}
    )
    yield Runs(report_env, good, failed)


def test_report_compares_the_candidate_with_its_baseline(runs: Runs) -> None:
    assert runs.good.success
    meta = materialization(runs.good, "reports/candidate_report")
    root = runs.env.reports_root
    assert meta["report"] == f"{REPORTS_URL}/candidate_report/delay_model%401a2b3c4.html"
    assert meta["report_notebook"] == str(root / "candidate_report" / f"{GOOD}.ipynb")
    assert (meta["verdict"], meta["baseline"]) == ("improved", "delay_model@0000000")
    assert json.loads(meta["provenance/parameters"]) == {"candidate": GOOD, **DEFAULTS}
    assert meta["provenance/candidate_commit"] == "1a2b3c4"
    assert "Use weather at origin" in (root / "candidate_report" / f"{GOOD}.html").read_text()
    page = (root / "candidate_report" / f"{GOOD}.html").read_text()
    assert "Verdict: <strong>improved</strong>" in page
    assert "compared with <code>delay_model@0000000</code> on mae, rmse" in page
    provenance = page.index("Provenance")
    assert provenance < page.index("Verdict:") < page.index("Per-subgroup breakdown")
    assert "input evaluation/candidate_comparison" in page
    assert page.count('src="data:image/png;base64,') == 3  # deltas + one subgroup plot per metric
    record = json.loads((root / "candidate_report" / f"{GOOD}.json").read_text())
    upstream = record["provenance"]["inputs"]["evaluation/candidate_comparison"]
    assert upstream["partitions"] == GOOD
    assert upstream["metadata"]["overall_verdict"] == "improved"
    assert upstream["data_version"]
    assert record["provenance"]["code_version"] == meta["provenance/code_version"]


def test_parameter_override_changes_the_report_and_its_provenance(runs: Runs) -> None:
    override = {"metrics": ["mae"], "top_subgroups": 2}
    result = runs.env.materialize(
        "reports/candidate_report", partition=TUNED, config={REPORT: override}
    )
    assert result.success
    meta = materialization(result, "reports/candidate_report")
    used = {"candidate": TUNED, **DEFAULTS, **override}
    assert json.loads(meta["provenance/parameters"]) == used
    assert meta["provenance/parameters_hash"] == json_version(used)
    assert meta["metrics"] == "mae"
    record = json.loads((runs.env.reports_root / "candidate_report" / f"{TUNED}.json").read_text())
    assert json.loads(record["provenance"]["candidate_parameters"]) == TUNING
    notebook = nbio.read(runs.env.reports_root / "candidate_report" / f"{TUNED}.ipynb")
    markdown = [
        o["data"]["text/markdown"]
        for c in notebook.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    assert "### mae" in markdown and "### rmse" not in markdown
    tables = [
        o["data"]["text/html"]
        for c in notebook.cells
        for o in c.get("outputs", [])
        if "<th>subgroup_kind</th>" in o.get("data", {}).get("text/html", "")
    ]
    assert len(tables) == 3  # one per subgroup kind, each with the top 2 rows only
    assert all(t.count("<tr") == 3 for t in tables)  # header row + the top 2 subgroups
    assert "top_subgroups = 2" in notebook.cells[4].source


def test_failing_notebook_keeps_the_partial_report(runs: Runs) -> None:
    assert not runs.failed.success
    message = failure_message(runs.failed)
    assert (
        f"Report candidate_report[{BAD}] failed in cell 4 "
        "(`shown = cr.select_metrics(comparison, metrics)`) of notebooks/candidate_report.ipynb: "
        "ClearlakeError: Metric(s) 'nope' not in the comparison"
    ) in message
    root = runs.env.reports_root / "candidate_report"
    assert str(root / f"{BAD}.html") in message
    partial = nbio.read(root / f"{BAD}.ipynb")
    errors = [o for c in partial.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ClearlakeError"]
    assert any(
        "Provenance" in str(o.get("data")) for c in partial.cells for o in c.get("outputs", [])
    )  # cells before the failing one ran
    page = (root / f"{BAD}.html").read_text()
    assert "Report failed</strong> in cell 4 of template <code>candidate_report</code>" in page
    assert "select_metrics" in page  # the failing cell's code is shown
    record = json.loads((root / f"{BAD}.json").read_text())
    assert record["status"] == "failed"
    assert record["error"].startswith("ClearlakeError: Metric(s) 'nope'")


def test_gallery_indexes_reports_by_commit(runs: Runs) -> None:
    result = runs.env.materialize("evaluation/leaderboard", "reports/report_gallery")
    assert result.success
    meta = materialization(result, "reports/report_gallery")
    root = runs.env.reports_root
    assert meta["gallery"] == f"{REPORTS_URL}/index.html"
    assert meta[f"commit/{BAD}"] == f"{REPORTS_URL}/candidates/delay_model%40bad0001/index.html"
    index = (root / "index.html").read_text()
    assert '<img class="leaderboard" src="leaderboard.png"' in index
    assert (root / "leaderboard.png").is_file()
    for key in (GOOD, BAD):
        assert f'href="{commit_page(key).replace("@", "%40")}"' in index
        assert (root / commit_page(key)).is_file()
    assert 'class="verdict improved">improved' in index
    assert 'class="verdict failed">failed' in index
    assert "Use weather at origin" in index and COMMITTED.isoformat() in index
    assert '<span class="verdict no-report">no report</span>' in index
    assert (
        '<a href="http://127.0.0.1:3000/assets/reports/candidate_report?view=partitions'
        '&amp;partition=delay_model%40c0ffee0">Dagster</a>'
    ) in index
    assert meta["reports"] == 3
    commit = (root / commit_page(GOOD)).read_text()
    assert "../../candidate_report/delay_model%401a2b3c4.html" in commit
    assert "../../leaderboard.png" in commit
