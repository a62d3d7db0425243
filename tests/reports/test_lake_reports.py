"""Lake reports through Dagster (real kernels on the Q1 2013 sample lake) and directly."""

from __future__ import annotations

import json
from pathlib import Path

from report_harness import REPORTS_URL, ReportEnv, materialization

from clearlake.reports import nbio
from clearlake.reports.direct import run_template
from clearlake.reports.templates import Template, template_path

DAY = "2013-02-10"


def test_lake_health_report_for_one_day(report_env: ReportEnv) -> None:
    result = report_env.materialize("reports/lake_health", partition=DAY)
    assert result.success
    meta = materialization(result, "reports/lake_health")
    notebook_path = report_env.reports_root / "lake_health" / f"{DAY}.ipynb"
    html_path = report_env.reports_root / "lake_health" / f"{DAY}.html"
    assert meta["report_notebook"] == str(notebook_path)
    assert meta["report_html_path"] == str(html_path)
    assert meta["report"] == f"{REPORTS_URL}/lake_health/{DAY}.html"
    assert meta["gallery"] == f"{REPORTS_URL}/index.html"
    # 2013-02-10, after the February blizzard: wind gusts went unrecorded.
    assert meta["verdict"] == "1 anomaly"
    parameters = json.loads(meta["provenance/parameters"])
    assert parameters == {
        "day": DAY,
        "null_jump": 0.05,
        "tables": ["flights", "weather"],
        "tolerance": 0.5,
        "trailing_days": 7,
    }
    page = html_path.read_text()
    assert f"{DAY}: <strong>1 anomaly</strong>" in page
    assert "weather.wind_gust: null rate rose to 97.2% from 70.6%" in page
    assert "Provenance" in page and result.run_id in page
    assert page.count('src="data:image/png;base64,') == 1  # the row-count plot, embedded
    executed = nbio.read(notebook_path)
    assert all(
        o.get("output_type") != "error" for c in executed.cells for o in c.get("outputs", [])
    )
    record = json.loads((report_env.reports_root / "lake_health" / f"{DAY}.json").read_text())
    assert record["status"] == "succeeded"
    assert record["provenance"]["inputs"]["lake/flights"]["partitions"] == DAY


def test_templates_run_locally_with_their_defaults(report_env: ReportEnv, tmp_path: Path) -> None:
    """papermill + nbconvert, no Dagster: the parameters cell's defaults are enough."""
    run = run_template(Template.load(template_path("sanity_check")), {}, output_dir=tmp_path)
    assert run.summary == {"verdict": "ok", "rows": "842"}  # flights on 2013-01-01
    page = run.html.read_text()
    assert "flights on 2013-01-01: 842 rows" in page
    assert "local (outside Dagster)" in page


def test_template_using_the_dagster_context_gets_it_and_yields_events(
    report_env: ReportEnv,
) -> None:
    """Built on first use in the kernel: tags, logging, ``dagstermill.yield_event``."""
    result = report_env.materialize("reports/context_probe", partition="2013-01-03")
    assert result.success
    observations = [
        e.asset_observation_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert [o.metadata["seen_partition"].value for o in observations] == ["2013-01-03"]
    assert observations[0].metadata["day"].value == "2013-01-03"
    executed = nbio.read(report_env.reports_root / "context_probe" / "2013-01-03.ipynb")
    assert "2013-01-03" in str(executed.cells[-2].outputs)
    assert executed.cells[-1].metadata["tags"] == ["injected-teardown"]
