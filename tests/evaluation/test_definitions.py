"""The project's whole Definitions hold the evaluation domain of every task as designed."""

from pathlib import Path

import dagster as dg
import pytest

from clearlake.cli.runs import load_definitions
from clearlake.names import (
    COMMIT_SENSOR,
    GALLERY,
    REGRESSION_CHECK,
    calibration_job,
    candidate_partitions_name,
    evaluation_job,
    gate_calibration_key,
)

TASKS = {
    "arrival_delay": ["train", "holdout", "holdout_2013_02", "holdout_2013_03"],
    "late_arrival": ["train", "holdout"],
}
CANDIDATE_ASSETS = ("candidate_predictions", "candidate_scores", "candidate_comparison")


@pytest.fixture
def definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path))
    monkeypatch.delenv("CLEARLAKE_CONFIG", raising=False)  # the flights example
    monkeypatch.delenv("CLEARLAKE_LAKE_URL", raising=False)
    return load_definitions()


def test_every_task_has_its_assets_groups_owners_and_versions(
    definitions: dg.Definitions,
) -> None:
    specs = {s.key.to_user_string(): s for s in definitions.resolve_all_asset_specs()}
    for task, suites in TASKS.items():
        mine = [
            *(f"evaluation/{task}/suites/{s}" for s in suites),
            *(f"evaluation/{task}/{a}" for a in CANDIDATE_ASSETS),
            f"evaluation/{task}/leaderboard",
            f"evaluation/{task}/gate_calibration",
        ]
        for key in mine:
            spec = specs[key]
            assert spec.group_name == f"evaluation_{task}", key
            assert spec.owners and spec.kinds and spec.description, key
            assert spec.code_version and len(spec.code_version) == 16, key
            assert spec.tags["task"] == task, key
        for asset in CANDIDATE_ASSETS:
            partitions = specs[f"evaluation/{task}/{asset}"].partitions_def
            assert isinstance(partitions, dg.DynamicPartitionsDefinition)
            assert partitions.name == candidate_partitions_name(task)
    described = specs["evaluation/late_arrival/candidate_scores"].description or ""
    assert "late_arrival" in described and "roc_auc, log_loss, brier" in described


def test_a_job_per_task_one_sensor_and_the_blocking_check(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for task in TASKS:
        job = definitions.resolve_job_def(evaluation_job(task))
        selected = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
        assert {f"evaluation/{task}/{a}" for a in CANDIDATE_ASSETS} <= selected
        for key in selected:  # reports of the task's candidates may join; nothing else
            partitions = graph.get(dg.AssetKey.from_user_string(key)).partitions_def
            assert isinstance(partitions, dg.DynamicPartitionsDefinition), key
            assert partitions.name == candidate_partitions_name(task), key
        checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
        assert (f"evaluation/{task}/candidate_comparison", REGRESSION_CHECK) in checks
        leaderboard = graph.get(dg.AssetKey(["evaluation", task, "leaderboard"]))
        assert leaderboard.automation_condition is not None
    sensor = definitions.resolve_sensor_def(COMMIT_SENSOR)
    assert {j.name for j in sensor.jobs} == {evaluation_job(t) for t in TASKS}
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    refresh = definitions.resolve_sensor_def("leaderboard_automation_sensor")
    assert refresh.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_calibration_job_per_task_that_the_gallery_follows(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for task in TASKS:
        job = definitions.resolve_job_def(calibration_job(task))
        assert set(job.asset_layer.executable_asset_keys) == {gate_calibration_key(task)}
        assert graph.get(gate_calibration_key(task)).partitions_def is None
        assert gate_calibration_key(task) in graph.get(GALLERY).parent_keys
    assert not definitions.schedules  # the example declares no calibration.schedule
