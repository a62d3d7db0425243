"""Report assets on dagstermill: real kernels rebuilding the run's context, as Dagster's own
runs do (a reconstructable job, ``assets.reports.in_process``), on the sample lake.

A sequence on one day and one candidate: the default report, a launchpad variant beside
it (the default stays), then a report whose template cell fails (its partial notebook is
kept and published with the failing cell named, as on the papermill path).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
from report_harness import REPORTS_URL, ReportEnv

from assets.reports.in_process import materialize_report
from clearlake.names import candidate_partitions_name
from clearlake.reports import render

DAY = "2013-02-10"
LAKE_HEALTH = "reports/lake_health"


def materialized(result: dg.ExecuteJobResult, key: str) -> dict[str, object]:
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey.from_user_string(key):
            return {k: v.value for k, v in materialization.metadata.items()}
    raise AssertionError(f"{key} was not materialised in run {result.run_id}")


def test_reports_run_on_dagstermill_default_variant_failure(report_env: ReportEnv) -> None:
    folder = report_env.reports_root / "lake_health" / DAY
    result = materialize_report(LAKE_HEALTH, report_env.instance, partition=DAY)
    assert result.success
    meta = materialized(result, LAKE_HEALTH)
    assert meta["report"] == f"{REPORTS_URL}/lake_health/{DAY}/report.html"
    assert meta["report_notebook"] == str(folder / "report.ipynb")
    assert meta["verdict"] == "1 anomaly"  # as the papermill path finds (test_lake_reports)
    assert str(meta["Executed notebook"]).endswith(f"{DAY}.ipynb")  # dagstermill's own copy
    assert json.loads(str(meta["provenance/parameters"]))["tables"] == ["flights", "weather"]
    page = (folder / "report.html").read_text()
    assert f"{DAY}: <strong>1 anomaly</strong>" in page and result.run_id in page
    published = (folder / "report.ipynb").read_text()
    assert "__dm_" not in published and "instance_ref" not in published
    record = json.loads((folder / "report.json").read_text())
    assert (record["status"], record["partition"], record["variant"]) == ("succeeded", DAY, None)
    assert record["provenance"]["inputs"]["lake/flights"]["partitions"] == DAY

    # A launchpad re-run with another threshold: its own variant folder, the default stays.
    variant = materialize_report(
        LAKE_HEALTH, report_env.instance, partition=DAY, config={"null_jump": 0.5}
    )
    assert variant.success
    vmeta = materialized(variant, LAKE_HEALTH)
    assert vmeta["report_variant"] != "default"
    variant_record = json.loads((folder / str(vmeta["report_variant"]) / "report.json").read_text())
    assert variant_record["settable"] == {"null_jump": 0.5}
    assert json.loads((folder / "report.json").read_text())["run_id"] == result.run_id

    # A candidate with nothing stored: the template's data cell fails; the page is kept.
    task, candidate = "arrival_delay", "delay_model@deadbee"
    report_env.instance.add_dynamic_partitions(candidate_partitions_name(task), [candidate])
    failed = materialize_report(
        f"reports/{task}/candidate_report", report_env.instance, partition=candidate
    )
    assert not failed.success
    kept = report_env.reports_root / "candidate_report" / candidate
    failed_record = json.loads((kept / "report.json").read_text())
    assert failed_record["status"] == "failed" and failed_record["run_id"] == failed.run_id
    assert "no stored output" in failed_record["error"]
    failed_page = (kept / "report.html").read_text()
    assert "Report failed</strong> in cell" in failed_page
    assert render.first_failure(render.read(kept / "report.ipynb")) is not None
    storage = report_env.instance.storage_directory()
    assert not list(Path(storage).glob("*-out.ipynb"))  # dagstermill's copy, published


def test_both_engines_make_the_same_asset_from_a_template() -> None:
    """What the UI shows does not depend on the engine; the run notebook keeps the defaults."""
    from assets.reports.report_assets import report_assets
    from clearlake.reports.engine import papermill_in_process

    served = {a.key: a for a in report_assets()}
    with papermill_in_process():
        in_process = {a.key: a for a in report_assets()}
    assert served.keys() == in_process.keys()
    for key, asset in served.items():
        spec, twin = asset.specs_by_key[key], in_process[key].specs_by_key[key]
        assert (spec.code_version, spec.kinds, spec.owners, spec.group_name) == (
            twin.code_version,
            twin.kinds,
            twin.owners,
            twin.group_name,
        )
        assert {d.asset_key for d in spec.deps} == {d.asset_key for d in twin.deps}
        assert spec.tags == twin.tags  # the follow-up jobs select reports by tag
        assert asset.partitions_def == in_process[key].partitions_def
        launchpad = asset.op.config_schema.as_field().config_type.key
        assert launchpad == in_process[key].op.config_schema.as_field().config_type.key
        assert asset.op.tags["dagster/compute_kind"] == "ipynb"  # set by dagstermill
    again = {a.key: a.op.tags["notebook_path"] for a in report_assets()}
    assert again == {k: a.op.tags["notebook_path"] for k, a in served.items()}  # one file each
    lake = served[dg.AssetKey.from_user_string(LAKE_HEALTH)]
    run_notebook = render.read(lake.op.tags["notebook_path"])
    tagged = [c for c in run_notebook.cells if "parameters" in render.tags(c)]
    assert [c.source for c in tagged] == [""]  # what dagstermill replaces
    template = render.read(str(lake.specs_by_key[lake.key].metadata["template"].value))
    defaults = next(c for c in template.cells if "parameters" in render.tags(c)).source
    index = run_notebook.cells.index(tagged[0])
    assert run_notebook.cells[index + 1].source == defaults
    assert render.PLATFORM_CELL_TAG in render.tags(run_notebook.cells[index + 2])
    assert len(run_notebook.cells) == len(template.cells) + 2
