"""The project's whole Definitions hold the features and evaluation domains as designed."""

from pathlib import Path

import dagster as dg
import pytest

from clearlake.cli.runs import load_definitions
from clearlake.settings import PROJECT_ROOT

MINE = {
    "features/flight_features": "features",
    "evaluation/suites/train": "evaluation",
    "evaluation/suites/holdout": "evaluation",
    "evaluation/suites/holdout_2013_02": "evaluation",
    "evaluation/suites/holdout_2013_03": "evaluation",
    "evaluation/candidate_predictions": "evaluation",
    "evaluation/candidate_scores": "evaluation",
    "evaluation/candidate_comparison": "evaluation",
    "evaluation/leaderboard": "evaluation",
}


@pytest.fixture
def definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path))
    monkeypatch.setenv("CLEARLAKE_CONFIG", str(PROJECT_ROOT / "assets" / "clearlake.yaml"))
    monkeypatch.delenv("CLEARLAKE_LAKE_URL", raising=False)
    return load_definitions()


def test_assets_groups_owners_kinds_descriptions(definitions: dg.Definitions) -> None:
    specs = {s.key.to_user_string(): s for s in definitions.resolve_all_asset_specs()}
    assert set(MINE) <= set(specs)
    for key, group in MINE.items():
        spec = specs[key]
        assert spec.group_name == group, key
        assert spec.owners and spec.kinds and spec.description, key
        assert spec.code_version and len(spec.code_version) == 16, key
    candidates = [k for k in MINE if k.startswith("evaluation/candidate_")]
    for key in candidates:
        partitions = specs[key].partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition)
        assert partitions.name == "candidates"
    assert isinstance(
        specs["features/flight_features"].partitions_def, dg.DailyPartitionsDefinition
    )


def test_job_sensor_and_checks(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("candidate_evaluation")
    selected = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {
        "evaluation/candidate_predictions",
        "evaluation/candidate_scores",
        "evaluation/candidate_comparison",
    } <= selected
    graph = definitions.resolve_asset_graph()
    for key in selected:  # reports of a candidate are included, unpartitioned assets are not
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def is not None
    assert "evaluation/leaderboard" not in selected
    sensor = definitions.resolve_sensor_def("candidate_commit_sensor")
    assert sensor.job_name == "candidate_evaluation"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("evaluation/candidate_comparison", "no_significant_regression") in checks
    assert ("features/flight_features", "schema_matches_declaration") in checks
    leaderboard = graph.get(dg.AssetKey(["evaluation", "leaderboard"]))
    assert leaderboard.automation_condition is not None
    refresh = definitions.resolve_sensor_def("leaderboard_automation_sensor")
    assert refresh.default_status == dg.DefaultSensorStatus.RUNNING
