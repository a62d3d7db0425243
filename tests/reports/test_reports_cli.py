"""``clearlake reports``: list, open, run a template locally, rebuild the gallery."""

from __future__ import annotations

import pytest
from report_harness import REPORTS_URL, ReportEnv
from typer.testing import CliRunner

from clearlake.cli.main import app
from clearlake.errors import ClearlakeError
from clearlake.reports import render
from clearlake.reports.execute import ReportPaths, publish

runner = CliRunner()


@pytest.fixture(scope="module")
def published(report_env: ReportEnv) -> ReportEnv:
    for day, status in [("2013-01-02", "succeeded"), ("2013-01-03", "failed")]:
        notebook = render.notebook([render.markdown_cell("# Lake")])
        if status == "succeeded":
            cell = render.code_cell("")
            cell.outputs = [
                render.output(
                    "display_data", data={render.SUMMARY_MIMETYPE: {"verdict": "healthy"}}
                )
            ]
            notebook.cells.append(cell)
        publish(
            notebook,
            paths=ReportPaths(report_env.reports_root, "lake_health", day),
            run_id="r",
            status=status,
            scope="day",
            parameters={},
            provenance={},
        )
    return report_env


def test_list_shows_every_report_and_filters_failures(published: ReportEnv) -> None:
    everything = runner.invoke(app, ["reports", "list"], terminal_width=250)
    assert everything.exit_code == 0, everything.output
    assert "2013-01-02" in everything.output and "healthy" in everything.output
    failed = runner.invoke(app, ["reports", "list", "--failed"], terminal_width=250)
    assert "2013-01-03" in failed.output and "2013-01-02" not in failed.output


def test_open_prints_the_url_on_one_line(published: ReportEnv) -> None:
    result = runner.invoke(app, ["reports", "open", "lake_health", "2013-01-02"], terminal_width=40)
    assert result.exit_code == 0, result.output
    assert result.output == f"{REPORTS_URL}/lake_health/2013-01-02/report.html\n"
    as_path = runner.invoke(app, ["reports", "open", "lake_health", "2013-01-02", "--path"])
    page = published.reports_root / "lake_health" / "2013-01-02" / "report.html"
    assert as_path.output == f"{page}\n"
    missing = runner.invoke(app, ["reports", "open", "lake_health", "2013-12-31"])
    assert isinstance(missing.exception, ClearlakeError)
    assert "No report lake_health[2013-12-31]" in str(missing.exception)


def test_run_a_template_locally_with_parameters(published: ReportEnv) -> None:
    out = published.home / "scratch"
    result = runner.invoke(
        app,
        [
            *("reports", "run", "sanity_check"),
            *("-p", "day=2013-01-02", "-p", "column=arr_delay"),
            *("--output", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "verdict: ok" in result.output
    page = (out / "sanity_check" / "latest" / "report.html").read_text()
    assert 'alt="arr_delay on 2013-01-02"' in page  # the histogram, titled by the parameter
    assert "<th>arr_delay</th>" in page
    bad = runner.invoke(app, ["reports", "run", "sanity_check", "-p", "day"])
    assert "is not name=value" in str(bad.exception)
    unknown = runner.invoke(app, ["reports", "run", "nope"])
    assert "known templates: candidate_report, lake_health, sanity_check" in str(unknown.exception)


def test_gallery_command_rebuilds_the_index(published: ReportEnv) -> None:
    result = runner.invoke(app, ["reports", "gallery"])
    assert result.exit_code == 0, result.output
    index = (published.reports_root / "index.html").read_text()
    assert 'href="lake_health/2013-01-03/report.html"' in index
