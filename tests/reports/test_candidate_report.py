"""Candidate reports through Dagster, per task and task type: verdict, the task's plots,
parameter overrides, failures kept as partial reports, the gallery grouped by task."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pytest
from regression_definitions import BASELINE
from report_harness import REPORTS_URL, ReportEnv, failure_message, materialization

from clearlake.evaluation.candidates import CandidateKey, register_parameters, save_commit_info
from clearlake.evaluation.git import CommitInfo
from clearlake.lake.store import LakeStore
from clearlake.names import candidate_partitions_name
from clearlake.reports import render
from clearlake.reports.gallery import commit_page
from clearlake.settings import load_settings
from clearlake.versioning import json_version

GOOD = "flight-delays@1a2b3c4"
TUNING = {"max_depth": 3}
TUNED = str(CandidateKey.of("flight-delays", "1a2b3c4", TUNING))
BAD = "flight-delays@bad0001"
UNREPORTED = "flight-delays@c0ffee0"  # known to Dagster, its run stopped before the report
LATE = "late-arrivals@5eed001"
COMMITTED = dt.datetime(2026, 11, 20, 17, 5, tzinfo=dt.UTC)
DEFAULTS = {"metrics": None, "subgroup_kinds": None, "top_subgroups": 8}
DELAY_REPORT = "reports/arrival_delay/candidate_report"
LATE_REPORT = "reports/late_arrival/candidate_report"
OP = "reports__arrival_delay__candidate_report"
INPUTS = {
    "comparison": "evaluation/arrival_delay/candidate_comparison",
    "predictions": "evaluation/arrival_delay/candidate_predictions",
    "scores": "evaluation/arrival_delay/candidate_scores",
}


@dataclass
class Runs:
    env: ReportEnv
    good: dg.ExecuteInProcessResult
    late: dg.ExecuteInProcessResult
    failed: dg.ExecuteInProcessResult


def upstream(env: ReportEnv, task: str, key: str) -> None:
    result = env.materialize(
        f"evaluation/{task}/candidate_predictions",
        f"evaluation/{task}/candidate_comparison",
        partition=key,
    )
    assert "bad" in key or result.success


@pytest.fixture(scope="module")
def runs(report_env: ReportEnv) -> Iterator[Runs]:
    instance = report_env.instance
    instance.add_dynamic_partitions(
        candidate_partitions_name("arrival_delay"), [GOOD, TUNED, BAD, UNREPORTED, BASELINE]
    )
    instance.add_dynamic_partitions(candidate_partitions_name("late_arrival"), [LATE, BASELINE])
    lake = LakeStore(load_settings().lake_url)  # what the evaluation records per candidate
    info = CommitInfo(
        "1a2b3c4" + "0" * 33, "Use weather at origin\n\nDetails", "ada", COMMITTED, ()
    )
    save_commit_info(lake, GOOD, info)
    register_parameters(lake, TUNED, TUNING)
    for key in (GOOD, TUNED, BAD):
        upstream(report_env, "arrival_delay", key)
    upstream(report_env, "late_arrival", LATE)
    for task in ("arrival_delay", "late_arrival"):  # the baseline's, drawn as an overlay
        assert report_env.materialize(
            f"evaluation/{task}/candidate_predictions", partition=BASELINE
        ).success
    good = report_env.materialize(DELAY_REPORT, partition=GOOD)
    assert report_env.materialize(DELAY_REPORT, partition=TUNED).success
    late = report_env.materialize(LATE_REPORT, partition=LATE)
    failed = report_env.materialize(DELAY_REPORT, partition=BAD, config={OP: {"metrics": ["nope"]}})
    yield Runs(report_env, good, late, failed)


def outputs(notebook: Any, mime: str) -> list[str]:
    return [
        str(o["data"][mime])
        for c in notebook.cells
        for o in c.get("outputs", [])
        if mime in o.get("data", {})
    ]


def test_regression_report_compares_the_candidate_with_its_baseline(runs: Runs) -> None:
    assert runs.good.success
    meta = materialization(runs.good, DELAY_REPORT)
    folder = runs.env.reports_root / "candidate_report" / GOOD
    assert meta["report"] == f"{REPORTS_URL}/candidate_report/flight-delays%401a2b3c4/report.html"
    assert meta["report_notebook"] == str(folder / "report.ipynb")
    assert (meta["verdict"], meta["baseline"], meta["task"]) == (
        "improved",
        "delay_model@0000000",
        "arrival_delay",
    )
    parameters = json.loads(meta["provenance/parameters"])
    assert parameters == {"candidate": GOOD, "task": "arrival_delay", "inputs": INPUTS, **DEFAULTS}
    assert meta["provenance/candidate_commit"] == "1a2b3c4"
    page = (folder / "report.html").read_text()
    assert "Use weather at origin" in page
    assert "Gate: <strong>improved</strong>" in page
    assert "(regression task <code>arrival_delay</code>) compared with" in page
    # the headline first, provenance last and collapsed
    assert page.index("Gate:") < page.index("Residuals") < page.index("Per-subgroup breakdown")
    assert page.index("Per-subgroup breakdown") < page.index("Slices that regressed most")
    assert page.index("Slices that regressed most") < page.index("<strong>Provenance</strong>")
    said = "No slice regressed significantly. 7 slice(s) of up to 1 subgroup column(s) tested"
    assert said in page
    assert "<details class='clearlake-provenance'>" in page.replace('"', "'")
    assert "template_hash&#x27;" not in page  # the record is shown once, in its table
    assert f"Grey: the baseline <code>{BASELINE}</code>" in page
    assert "&lt; 0.001" in page and "<td>0.0</td>" not in page
    assert 'alt="Residuals against predictions; Residuals: median' in page
    # deltas + residuals + one subgroup plot per metric (mae, rmse)
    assert page.count('src="data:image/png;base64,') == 4
    record = json.loads((folder / "report.json").read_text())
    assert (record["scope"], record["task"]) == ("candidate", "arrival_delay")
    comparison = record["provenance"]["inputs"][INPUTS["comparison"]]
    assert comparison["partitions"] == GOOD
    assert comparison["metadata"]["overall_verdict"] == "improved"
    assert comparison["data_version"]
    assert record["provenance"]["code_version"] == meta["provenance/code_version"]


def test_residuals_are_in_the_target_unit(runs: Runs) -> None:
    from regression_definitions import predictions_frame

    from clearlake.reports.candidate import plot_residuals

    axes = plot_residuals(predictions_frame("arrival_delay"), target="arr_delay", unit="minutes")
    labels = [a.get_xlabel() for a in axes.get_axes()]
    assert labels == ["predicted arr_delay (minutes)", "residual (actual − predicted) (minutes)"]
    unitless = plot_residuals(predictions_frame("arrival_delay"), target="price", unit="")
    assert unitless.get_axes()[0].get_xlabel() == "predicted price"


def test_binary_report_shows_roc_and_calibration(runs: Runs) -> None:
    assert runs.late.success
    meta = materialization(runs.late, LATE_REPORT)
    assert (meta["verdict"], meta["task"], meta["metrics"]) == (
        "improved",
        "late_arrival",
        "log_loss, roc_auc",
    )
    page = (runs.env.reports_root / "candidate_report" / LATE / "report.html").read_text()
    assert "ROC curve and calibration" in page and "Residuals" not in page
    assert 'alt="ROC curve; Calibration (10 quantile bins)"' in page
    assert "minutes" not in page
    notebook = render.read(runs.env.reports_root / "candidate_report" / LATE / "report.ipynb")
    assert "### dest" not in outputs(notebook, "text/markdown")
    assert any("sched_hour" in t for t in outputs(notebook, "text/html"))


def test_multiclass_confusion_matrix() -> None:
    import pandas as pd

    from clearlake.reports.candidate import confusion

    frame = pd.DataFrame(
        {
            "actual": ["a", "a", "b", "c"],
            "prediction": [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]],
        }
    )
    matrix = confusion(frame, ["a", "b", "c"])
    assert list(matrix.loc["a"]) == [0.5, 0.5, 0.0]
    assert matrix.loc["b", "b"] == 1.0 and matrix.loc["c", "c"] == 1.0


def test_a_launchpad_rerun_is_a_new_variant_and_the_default_stays(runs: Runs) -> None:
    root = runs.env.reports_root
    default = root / "candidate_report" / GOOD
    before = {name: (default / name).read_bytes() for name in ("report.html", "report.json")}
    override = {"metrics": ["mae"], "top_subgroups": 2}
    result = runs.env.materialize(DELAY_REPORT, partition=GOOD, config={OP: override})
    assert result.success
    meta = materialization(result, DELAY_REPORT)
    used = {"candidate": GOOD, "task": "arrival_delay", "inputs": INPUTS, **DEFAULTS, **override}
    assert json.loads(meta["provenance/parameters"]) == used
    assert meta["provenance/parameters_hash"] == json_version(used)
    assert meta["metrics"] == "mae"
    variant = json_version({**DEFAULTS, **override})[:8]
    assert meta["report_variant"] == variant
    assert meta["report"] == (
        f"{REPORTS_URL}/candidate_report/flight-delays%401a2b3c4/{variant}/report.html"
    )
    assert {n: (default / n).read_bytes() for n in before} == before  # the default stays
    folder = default / variant
    record = json.loads((folder / "report.json").read_text())
    assert (record["variant"], record["settable"]) == (variant, override)
    notebook = render.read(folder / "report.ipynb")
    markdown = outputs(notebook, "text/markdown")
    assert "### mae" in markdown and "### rmse" not in markdown
    tables = [t for t in outputs(notebook, "text/html") if "<th>subgroup_kind</th>" in t]
    assert len(tables) == 2  # one per subgroup kind (carrier, origin), top 2 rows each
    assert all(t.count("<tr") == 3 for t in tables)
    assert sorted(p.name for p in default.iterdir() if p.is_dir()) == [variant]
    # `clearlake diff` tells the two variants apart by their parameters
    from clearlake.orchestration import lineage

    key = dg.AssetKey(DELAY_REPORT.split("/"))
    a = lineage.select(runs.env.instance, key, f"run:{runs.good.run_id}")
    b = lineage.select(runs.env.instance, key, f"run:{result.run_id}")
    text = lineage.render_diff(a, b, lineage.compare(runs.env.instance, a, b, depth=0))
    assert 'metrics: A null · B ["mae"]' in text and "top_subgroups: A 8 · B 2" in text


def test_variants_are_named_by_their_values_and_the_defaults_by_none() -> None:
    from clearlake.reports.execute import variant_of

    assert variant_of(DEFAULTS, DEFAULTS) is None
    changed = {**DEFAULTS, "top_subgroups": 2}
    assert variant_of(changed, DEFAULTS) == variant_of(dict(reversed(changed.items())), DEFAULTS)
    assert variant_of(changed, DEFAULTS) != variant_of({**DEFAULTS, "top_subgroups": 3}, DEFAULTS)


def test_an_experiment_candidate_records_its_parameters(runs: Runs) -> None:
    record = json.loads(
        (runs.env.reports_root / "candidate_report" / TUNED / "report.json").read_text()
    )
    assert json.loads(record["provenance"]["candidate_parameters"]) == TUNING
    assert record["variant"] is None


def test_failing_notebook_keeps_the_partial_report(runs: Runs) -> None:
    assert not runs.failed.success
    message = failure_message(runs.failed)
    variant = json_version({**DEFAULTS, "metrics": ["nope"]})[:8]  # a launchpad value
    folder = runs.env.reports_root / "candidate_report" / BAD / variant
    assert (
        f"Report candidate_report[{BAD}] failed in cell 4 "
        "(`shown = cr.select_metrics(comparison, metrics)`) of candidate_report.ipynb: "
        "ClearlakeError: Metric(s) 'nope' not in the comparison"
    ) in message
    assert str(folder / "report.html") in message
    partial = render.read(folder / "report.ipynb")
    errors = [o for c in partial.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ClearlakeError"]
    assert not any("Provenance" in t for t in outputs(partial, "text/html"))  # it comes last
    page = (folder / "report.html").read_text()
    assert "Report failed</strong> in cell 4 of template <code>candidate_report</code>" in page
    assert "select_metrics" in page  # the failing cell's code is shown
    record = json.loads((folder / "report.json").read_text())
    assert record["status"] == "failed"
    assert record["error"].startswith("ClearlakeError: Metric(s) 'nope'")


def test_gallery_groups_reports_by_task_then_commit(runs: Runs) -> None:
    root = runs.env.reports_root
    (root / "leaderboards").mkdir(parents=True, exist_ok=True)
    (root / "leaderboards" / "arrival_delay.png").write_bytes(b"\x89PNG")
    result = runs.env.materialize("reports/report_gallery")
    assert result.success
    meta = materialization(result, "reports/report_gallery")
    assert meta["gallery"] == f"{REPORTS_URL}/index.html"
    assert meta[f"commit/{BAD}"] == f"{REPORTS_URL}/candidates/flight-delays%40bad0001/index.html"
    index = (root / "index.html").read_text()
    assert index.index("<h2>arrival_delay <small>(regression)") < index.index(
        "<h2>late_arrival <small>(binary)"
    )
    assert index.index("<h3>flight-delays</h3>") < index.index("<h3>late-arrivals</h3>")
    assert '<img class="leaderboard" src="leaderboards/arrival_delay.png"' in index
    assert "No leaderboard yet for late_arrival" in index
    for key in (GOOD, BAD, LATE):
        assert f'href="{commit_page(key).replace("@", "%40")}"' in index
        assert (root / commit_page(key)).is_file()
    assert 'class="verdict improved">improved' in index
    assert 'class="verdict failed">failed' in index
    assert "Use weather at origin" in index and COMMITTED.isoformat() in index
    assert '<span class="verdict no-report">no report</span>' in index
    assert (
        '<a href="http://127.0.0.1:3000/assets/reports/arrival_delay/candidate_report'
        '?view=partitions&amp;partition=flight-delays%40c0ffee0">Dagster</a>'
    ) in index
    assert meta["reports"] == 5  # GOOD (default and a variant), TUNED, BAD (failed), LATE
    commit = (root / commit_page(GOOD)).read_text()
    variant = next(p.name for p in (root / "candidate_report" / GOOD).iterdir() if p.is_dir())
    assert "candidate_report · default</td>" in commit
    assert f"candidate_report · default · variant {variant}</td>" in commit
    assert "metrics=[&quot;mae&quot;], top_subgroups=2" in commit
    assert f"../../candidate_report/flight-delays%401a2b3c4/{variant}/report.html" in commit
    assert "Task <strong>arrival_delay</strong>" in commit
    assert "../../candidate_report/flight-delays%401a2b3c4/report.html" in commit
    assert "../../leaderboards/arrival_delay.png" in commit

    # The next runs update what changed since: nothing, then one newly compared commit.
    again = materialization(
        runs.env.materialize("reports/report_gallery"), "reports/report_gallery"
    )
    assert (again["changed"], again["pages_written"]) == (0, 1)  # the index only
    upstream(runs.env, "arrival_delay", UNREPORTED)
    after = materialization(
        runs.env.materialize("reports/report_gallery"), "reports/report_gallery"
    )
    assert after["changed"] == 1 and list(k for k in after if k.startswith("commit/")) == [
        f"commit/{UNREPORTED}"
    ]
    index = (root / "index.html").read_text()
    for key in (GOOD, BAD, LATE, UNREPORTED):  # the books keep every earlier commit
        assert f'href="{commit_page(key).replace("@", "%40")}"' in index


def test_weakest_subgroups_first_in_the_metrics_own_direction() -> None:
    from regression_definitions import comparison_frame

    from clearlake.reports.candidate import subgroups

    frame = comparison_frame("late_arrival", LATE)  # every delta negative: AUC fell, loss fell
    auc = subgroups(frame, "roc_auc", "dest", 1, lower_better=False)
    loss = subgroups(frame, "log_loss", "dest", 1, lower_better=True)
    rows = frame[(frame["subgroup_kind"] == "dest")]
    assert auc["delta"].item() == rows[rows["metric"] == "roc_auc"]["delta"].min()  # AUC fell most
    assert loss["delta"].item() == rows[rows["metric"] == "log_loss"]["delta"].max()  # least gain


def test_tables_show_small_p_values_and_deltas_keep_their_units() -> None:
    from regression_definitions import comparison_frame

    from clearlake.reports.candidate import format_p, overall, plot_deltas, table

    assert [format_p(p) for p in (0.0, 0.0004, 0.001, 0.04321)] == [
        "< 0.001",
        "< 0.001",
        "0.001",
        "0.043",
    ]
    frame = comparison_frame("arrival_delay", GOOD)
    frame.loc[frame["metric"] == "rmse", "metric"] = "r2"  # a unitless metric beside mae
    shown = table(overall(frame, ["mae", "r2"]))
    assert set(shown["p_adjusted"]) == {"< 0.001"}
    figure = plot_deltas(frame, ["mae", "r2"], units={"mae": "minutes"})
    labels = [a.get_xlabel() for a in figure.get_axes()]
    assert labels == ["Δ mae (minutes)", "Δ r2"]  # one axis each: never minutes and a fraction


def test_roc_draws_the_baseline_beside_the_candidate() -> None:
    from regression_definitions import predictions_frame

    from clearlake.reports.candidate import plot_roc_and_calibration

    candidate = predictions_frame("late_arrival")
    baseline = candidate.assign(prediction=candidate["prediction"] * 0.5 + 0.25)
    roc = plot_roc_and_calibration(candidate, baseline=baseline).get_axes()[0]
    labels = [str(line.get_label()) for line in roc.get_lines()]
    assert labels[0].startswith("baseline (AUC ") and labels[1].startswith("candidate (AUC ")
