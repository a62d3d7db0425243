"""Rendering: redaction of dagstermill's context, failure pages, self-contained HTML."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from clearlake.reports import nbio
from clearlake.reports.gallery import build_gallery, commit_page
from clearlake.reports.notebook import read_summary
from clearlake.reports.publish import ReportPaths, publish, read_records, report_url, safe_key
from clearlake.reports.render import (
    SUMMARY_MIMETYPE,
    add_failure_banner,
    first_failure,
    redact_context_cell,
    to_html,
)


def executed_notebook(*, fail: bool = False) -> nbformat.NotebookNode:
    injected = nbio.code_cell(
        "import clearlake.reports.kernel as __cl_kernel\n"
        "context = __cl_kernel.LazyDagsterContext({'instance_ref_dict': 'secret'})\n"
        "candidate_comparison = __cl_kernel.load_input('/tmp/x/input-candidate_comparison.pickle')"
    )
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = [nbio.output("stream", name="stderr", text="BetaWarning")]
    ok = nbio.code_cell("verdict = 'improved'")
    ok.metadata["clearlake"] = {"template_cell": 3}
    ok.outputs = [
        nbio.output("display_data", data={"text/markdown": "## Verdict: **improved**"}),
        nbio.output("display_data", data={SUMMARY_MIMETYPE: {"verdict": "improved"}}),
    ]
    cells = [nbio.markdown_cell("# Report"), injected, ok]
    if fail:
        bad = nbio.code_cell("\nshown = select(metrics)")
        bad.metadata["clearlake"] = {"template_cell": 4}
        bad.outputs = [
            nbio.output(
                "error", ename="ClearlakeError", evalue="Metric 'nope' unknown", traceback=["tb"]
            )
        ]
        cells.append(bad)
    notebook = nbio.notebook(cells)
    notebook.metadata["papermill"] = {"parameters": {"__dm_context": "x"}}
    return notebook


def test_redaction_keeps_inputs_and_drops_the_serialised_context() -> None:
    notebook = executed_notebook()
    redact_context_cell(notebook, run_id="run-1")
    source = notebook.cells[1].source
    assert "run-1" in source
    assert "# candidate_comparison: loaded by Dagster's IO manager" in source
    assert "secret" not in nbio.writes(notebook)
    assert "/tmp/x" not in nbio.writes(notebook)
    assert notebook.cells[1].outputs == []


def test_summary_is_read_but_not_rendered() -> None:
    notebook = executed_notebook()
    assert read_summary(notebook) == {"verdict": "improved"}
    page = to_html(notebook, title="t")
    assert "Verdict: <strong>improved</strong>" in page
    assert SUMMARY_MIMETYPE not in page
    assert 'class="highlight' not in page  # code hidden on a successful report
    assert "<script src=" not in page  # nothing fetched from a CDN (mermaid loads only if used)
    assert 'class="highlight' in to_html(notebook, title="t", show_code=True)


def test_failure_names_the_template_cell_and_shows_it() -> None:
    notebook = executed_notebook(fail=True)
    failure = first_failure(notebook)
    assert failure is not None
    assert (failure.cell, failure.ename, failure.source_line) == (
        4,
        "ClearlakeError",
        "shown = select(metrics)",
    )
    add_failure_banner(notebook, template="candidate_report", failure=failure)
    page = to_html(notebook, title="t", show_code=True)
    assert "Report failed</strong> in cell 4 of template <code>candidate_report</code>" in page
    assert "<code>ClearlakeError: Metric 'nope' unknown</code>" in page
    assert first_failure(executed_notebook()) is None


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("m@1a2b3c4~beefcafe", "m@1a2b3c4~beefcafe"),
        ("2013-01-02", "2013-01-02"),
        ("a/b c", "a_b_c"),
        (None, "latest"),
    ],
)
def test_stable_file_names(key: str | None, name: str) -> None:
    assert safe_key(key) == name


def test_publish_and_gallery_use_relative_links(tmp_path: Path) -> None:
    for key, verdict in [("m@1a2b3c4", "improved"), ("m@1a2b3c4~beefcafe", "regressed")]:
        notebook = executed_notebook()
        publish(
            notebook,
            paths=ReportPaths(tmp_path, "candidate_report", key),
            run_id="r",
            status="succeeded",
            parameters={"top": 1},
            provenance={},
            summary={"verdict": verdict},
        )
    publish(
        executed_notebook(fail=True),
        paths=ReportPaths(tmp_path, "lake_health", "2013-01-02"),
        run_id="r",
        status="failed",
        parameters={},
        provenance={},
        error="boom",
    )
    records = read_records(tmp_path)
    assert [(r.template, r.partition, r.status) for r in records] == [
        ("candidate_report", "m@1a2b3c4", "succeeded"),
        ("candidate_report", "m@1a2b3c4~beefcafe", "succeeded"),
        ("lake_health", "2013-01-02", "failed"),
    ]
    assert json.loads((tmp_path / "lake_health/2013-01-02.json").read_text())["error"] == "boom"
    gallery = build_gallery(tmp_path)
    index = gallery.index.read_text()
    assert gallery.reports == 3
    assert 'href="candidate_report/m%401a2b3c4~beefcafe.html"' in index
    assert 'href="candidates/m%401a2b3c4/index.html"' in index
    assert "No leaderboard yet" in index
    assert 'class="verdict failed"' in index
    page = (tmp_path / commit_page("m@1a2b3c4")).read_text()
    assert page.count("../../candidate_report/") == 4  # two variants: page + notebook each
    assert 'class="verdict regressed"' in page
    assert report_url(tmp_path, "index.html", base_url=None) == (tmp_path / "index.html").as_uri()
    assert report_url(tmp_path, "c/m@1.html", base_url="http://h/reports/") == (
        "http://h/reports/c/m%401.html"
    )
