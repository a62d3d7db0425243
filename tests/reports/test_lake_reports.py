"""Lake reports through Dagster (real kernels on the Q1 2013 sample lake) and directly."""

from __future__ import annotations

import json
from pathlib import Path

from report_harness import REPORTS_URL, ReportEnv, materialization

from clearlake.reports import render
from clearlake.reports.execute import run_template
from clearlake.reports.templates import Template
from clearlake.settings import DEFAULT_PROJECT

DAY = "2013-02-10"


def test_lake_health_report_for_one_day(report_env: ReportEnv) -> None:
    result = report_env.materialize("reports/lake_health", partition=DAY)
    assert result.success
    meta = materialization(result, "reports/lake_health")
    folder = report_env.reports_root / "lake_health" / DAY
    assert meta["report_notebook"] == str(folder / "report.ipynb")
    assert meta["report_html_path"] == str(folder / "report.html")
    assert meta["report"] == f"{REPORTS_URL}/lake_health/{DAY}/report.html"
    assert meta["gallery"] == f"{REPORTS_URL}/index.html"
    # 2013-02-10, after the February blizzard: wind gusts went unrecorded.
    assert meta["verdict"] == "1 anomaly"
    parameters = json.loads(meta["provenance/parameters"])
    assert parameters == {
        "day": DAY,
        "null_jump": 0.05,
        "tables": ["flights", "weather"],  # the project's daily tables: none declared
        "tolerance": 0.5,
        "trailing_days": 7,
    }
    page = (folder / "report.html").read_text()
    assert f"{DAY}: <strong>1 anomaly</strong>" in page
    assert "weather.wind_gust: null rate rose to 97.2% from 70.6%" in page
    assert "Provenance" in page and result.run_id in page
    assert page.count('src="data:image/png;base64,') == 1  # the row-count plot, embedded
    executed = render.read(folder / "report.ipynb")
    assert all(
        o.get("output_type") != "error" for c in executed.cells for o in c.get("outputs", [])
    )
    record = json.loads((folder / "report.json").read_text())
    assert (record["status"], record["scope"]) == ("succeeded", "day")
    assert record["provenance"]["inputs"]["lake/flights"]["partitions"] == DAY


def test_templates_run_locally_with_their_defaults(report_env: ReportEnv, tmp_path: Path) -> None:
    """papermill + nbconvert, no Dagster: the parameters cell's defaults are enough."""
    template = Template.load(DEFAULT_PROJECT / "notebooks" / "sanity_check.ipynb")
    record = run_template(template, {}, output_dir=tmp_path)
    assert record.summary == {"verdict": "ok", "rows": "842"}  # flights on 2013-01-01
    page = (tmp_path / record.html).read_text()
    assert "flights on 2013-01-01: 842 rows" in page
    assert "local (outside Dagster)" in page
