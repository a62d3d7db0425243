"""Rendering and publishing: failure pages naming the template's cell, self-contained HTML,
stable paths, the gallery from records alone."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from clearlake.reports import render
from clearlake.reports.execute import ReportPaths, publish, read_records, report_url, safe_key
from clearlake.reports.gallery import GalleryTask, commit_page
from clearlake.reports.gallery_books import build_gallery


def executed_notebook(*, fail: bool = False) -> nbformat.NotebookNode:
    """As papermill leaves it: its injected cell after the parameters cell, error markers."""
    injected = render.code_cell("# Parameters\nmetrics = ['nope']", tags=["injected-parameters"])
    ok = render.code_cell("verdict = 'improved'")
    ok.outputs = [
        render.output("display_data", data={"text/markdown": "## Verdict: **improved**"}),
        render.output("display_data", data={render.SUMMARY_MIMETYPE: {"verdict": "improved"}}),
    ]
    cells = [
        render.markdown_cell("# Report"),
        render.code_cell("metrics = None", tags=["parameters"]),
        injected,
        ok,
    ]
    if fail:
        marker = render.markdown_cell(
            "An Exception was encountered", tags=["papermill-error-cell-tag"]
        )
        bad = render.code_cell("\nshown = select(metrics)")
        bad.outputs = [
            render.output(
                "error", ename="ClearlakeError", evalue="Metric 'nope' unknown", traceback=["tb"]
            )
        ]
        cells = [marker, *cells, bad]
    return render.notebook(cells)


def test_summary_is_read_back_and_hidden_from_readers() -> None:
    notebook = executed_notebook()
    assert render.read_summary(notebook) == {"verdict": "improved"}
    page = render.to_html(notebook, title="t")
    assert "Verdict: <strong>improved</strong>" in page
    assert render.SUMMARY_MIMETYPE not in page
    assert 'class="highlight' not in page  # code hidden on a successful report
    assert "<script src=" not in page  # nothing fetched from a CDN
    assert 'class="highlight' in render.to_html(notebook, title="t", show_code=True)


def test_failure_names_the_template_cell_and_shows_it() -> None:
    notebook = executed_notebook(fail=True)
    failure = render.first_failure(notebook)
    assert failure is not None
    # cell 3 of the template: papermill's injected cell and error marker are not counted
    assert (failure.cell, failure.ename, failure.source_line) == (
        3,
        "ClearlakeError",
        "shown = select(metrics)",
    )
    render.add_failure_banner(notebook, template="candidate_report", failure=failure)
    page = render.to_html(notebook, title="t", show_code=True)
    assert "Report failed</strong> in cell 3 of template <code>candidate_report</code>" in page
    assert "<code>ClearlakeError: Metric 'nope' unknown</code>" in page
    assert "An Exception was encountered" not in page
    assert render.first_failure(executed_notebook()) is None


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("m@1a2b3c4~beefcafe", "m@1a2b3c4~beefcafe"),
        ("2013-01-02", "2013-01-02"),
        ("a/b c", "a_b_c"),
        (None, "latest"),
    ],
)
def test_stable_folder_names(key: str | None, name: str) -> None:
    assert safe_key(key) == name
    assert ReportPaths(Path("/r"), "t", key).html == Path(f"/r/t/{name}/report.html")


def test_publish_and_gallery_use_relative_links(tmp_path: Path) -> None:
    for key, verdict, task in [
        ("m@1a2b3c4", "improved", "delays"),
        ("m@1a2b3c4~beefcafe", "regressed", "delays"),
        ("c@0000001", "improved", "churn"),
    ]:
        notebook = executed_notebook()
        notebook.cells[3].outputs[1]["data"][render.SUMMARY_MIMETYPE] = {"verdict": verdict}
        publish(
            notebook,
            paths=ReportPaths(tmp_path, "candidate_report", key),
            run_id="r",
            status="succeeded",
            scope="candidate",
            task=task,
            parameters={"top": 1},
            provenance={},
        )
    publish(
        executed_notebook(fail=True),
        paths=ReportPaths(tmp_path, "lake_health", "2013-01-02"),
        run_id="r",
        status="failed",
        scope="day",
        parameters={},
        provenance={},
        error="boom",
    )
    records = read_records(tmp_path)
    assert [(r.template, r.partition, r.status, r.task) for r in records] == [
        ("candidate_report", "c@0000001", "succeeded", "churn"),
        ("candidate_report", "m@1a2b3c4", "succeeded", "delays"),
        ("candidate_report", "m@1a2b3c4~beefcafe", "succeeded", "delays"),
        ("lake_health", "2013-01-02", "failed", None),
    ]
    assert json.loads((tmp_path / "lake_health/2013-01-02/report.json").read_text())["error"] == (
        "boom"
    )
    gallery = build_gallery(
        tmp_path, tasks={"delays": GalleryTask(candidates=["m@1a2b3c4", "m@0ld0000"])}
    )
    index = gallery.index.read_text()
    assert gallery.reports == 4
    assert index.index("<h2>churn") < index.index("<h2>delays") < index.index("<h2>lake_health")
    assert 'href="candidate_report/m%401a2b3c4~beefcafe/report.html"' in index
    assert 'href="candidates/m%401a2b3c4/index.html"' in index
    assert "No leaderboard yet for delays" in index
    assert 'class="verdict failed"' in index
    assert index.count('class="verdict no-report"') == 1  # m@0ld0000 has no report
    page = (tmp_path / commit_page("m@1a2b3c4")).read_text()
    assert page.count("../../candidate_report/") == 4  # two variants: page + notebook each
    assert 'class="verdict regressed"' in page
    assert report_url(tmp_path, "index.html", base_url=None) == (tmp_path / "index.html").as_uri()
    assert report_url(tmp_path, "c/m@1.html", base_url="http://h/reports/") == (
        "http://h/reports/c/m%401.html"
    )
