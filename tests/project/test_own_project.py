"""A team's own data and task, end to end, declared by configuration only (no platform code).

Shop orders in the real PostgreSQL server → replicated into the lake (daily partitions on
a timestamp column) → a SQL feature table → a binary task with suites, metrics and
subgroups → three commits of a real git repository evaluated by real Dagster runs →
scores, comparisons, the gate's verdicts → the report and the gallery.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from shop_project import COMMITS, create_orders, write_project

from clearlake import names
from clearlake.demo import loop
from clearlake.demo.repos import create_repository
from clearlake.lake.store import LakeStore
from clearlake.orchestration.code_location import load_definitions
from clearlake.orchestration.lineage import latest
from clearlake.project import load_project

pytestmark = pytest.mark.slow


def test_shop_orders_are_evaluated_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_db: str
) -> None:
    rows = create_orders(postgres_db)
    config = write_project(tmp_path / "shop")
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    for name, value in {
        "CLEARLAKE_CONFIG": str(config),
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": postgres_db,
        "CLEARLAKE_LAKE_URL": (home / "lake").as_uri(),
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    project = load_project(config)
    shas = create_repository(tmp_path / "shop" / "repos" / "returns-model", COMMITS)
    definitions = load_definitions()
    assert isinstance(definitions, dg.Definitions)
    store = LakeStore((home / "lake").as_uri())
    progress: list[str] = []
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        loop.ensure_lake(definitions, instance, store, project, progress.append)
        assert len(store.list_partitions("orders")) == 121
        lake_rows = sum(
            store.read_table(store.partition_file("orders", f"date={d}")).num_rows
            for d in store.list_partitions("orders")
        )
        assert lake_rows == rows
        loop.ensure_features_and_suites(definitions, instance, store, project, progress.append)
        assert store.list_partitions("features/order_features")[0] == "2024-01-01"
        evaluated = loop.run_until_quiet(definitions, instance, progress.append)
        loop.render_reports(definitions, instance, progress.append)
        loop.refresh_leaderboards(definitions, instance, project)

    keys = [f"returns-model@{sha[:7]}" for sha in shas]
    outcome = {e.key: e for e in evaluated}
    assert set(outcome) == set(keys)
    base, logistic, inverted = keys
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        verdicts = {key: latest(instance, names.comparison_key("returns"), key) for key in keys}
    assert all(v is not None for v in verdicts.values())
    assert verdicts[base].metadata["overall_verdict"] == "no baseline"  # type: ignore[union-attr]
    assert verdicts[logistic].metadata["overall_verdict"] == "improved"  # type: ignore[union-attr]
    assert outcome[logistic].success
    assert verdicts[inverted].metadata["overall_verdict"] == "regressed"  # type: ignore[union-attr]
    assert not outcome[inverted].success, "the gate must block the inverted model"

    scores = store.read_table(
        store.partition_file("evaluation/returns/candidate_scores", f"key={logistic}")
    ).to_pandas()
    assert set(scores["metric"]) == {"log_loss", "roc_auc", "brier"}
    assert set(scores["subgroup_kind"]) == {"overall", "region", "amount_band"}
    auc = scores[(scores["metric"] == "roc_auc") & (scores["subgroup_kind"] == "overall")]
    assert float(auc["value"].iloc[0]) > 0.6

    reports = home / "reports"
    page = reports / "candidate_report" / logistic / "report.html"
    assert page.is_file(), sorted(str(p.relative_to(reports)) for p in reports.rglob("*.html"))
    assert "roc" in page.read_text().lower()  # the binary task's report: ROC and calibration
    assert dt.date(2024, 4, 30).isoformat() in store.list_partitions("orders")
