"""The whole code location, as Dagster loads it, in both environments."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import defs
from clearlake import names
from clearlake.lake.store import LakeStore
from clearlake.orchestration.resources import LakeResource


def load() -> dg.Definitions:
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    dg.Definitions.validate_loadable(loaded)
    return loaded


def test_local_definitions_hold_every_domain(clearlake_home: Path, sample_lake: LakeStore) -> None:
    definitions = load()
    graph = definitions.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {
        "lake",
        "features",
        "evaluation_arrival_delay",  # one group per task: told apart in the asset graph
        "evaluation_late_arrival",
        "reports",
        "monitoring",
    }
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "lake/flights", "lake/weather", "lake/planes", "lake/airlines", "lake/airports",
        "lake/drops/delay_annotations", "features/flight_features", "features/departures",
        *(
            f"evaluation/{task}/{name}"
            for task in ("arrival_delay", "late_arrival")
            for name in (
                "candidate_predictions", "candidate_scores", "candidate_comparison", "leaderboard"
            )
        ),
        "reports/arrival_delay/candidate_report", "reports/late_arrival/candidate_report",
        "reports/lake_health", "reports/report_gallery",
        "monitor/arrival_delay/predictions", "monitor/arrival_delay/performance",
        "monitor/arrival_delay/status",
    } <= keys  # fmt: skip
    daily = [
        k for k in graph.get_all_asset_keys() if k.path[0] == "monitor" and k.path[-1] != "status"
    ]
    assert {tuple(k.path) for k in daily} == {
        ("monitor", "arrival_delay", "predictions"), ("monitor", "arrival_delay", "performance")
    }  # fmt: skip
    assert all(graph.get(k).tags.get("flow") == "new-days" for k in daily)
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.owners, f"{key.to_user_string()} has no owner"
    sensors = {s.name for s in definitions.sensors or []}
    assert {
        names.COMMIT_SENSOR,
        names.DROP_SENSOR,
        names.NEW_DAYS_SENSOR,
        names.LAKE_DAYS_SENSOR,
    } <= sensors
    flow = definitions.resolve_sensor_def(names.NEW_DAYS_SENSOR)
    assert isinstance(flow, dg.AutomationConditionSensorDefinition)
    following = {k.to_user_string() for k in flow.asset_selection.resolve(graph)}
    assert {k for k in keys if k.startswith("features/")} <= following  # every feature table
    jobs = {j.name for j in definitions.jobs or []}
    assert {
        names.evaluation_job("arrival_delay"),
        names.evaluation_job("late_arrival"),
        names.DROP_JOB,
    } <= jobs
    lake = definitions.resources["lake"] if definitions.resources else None
    assert isinstance(lake, LakeResource) and lake.url == sample_lake.url


def test_cluster_definitions_use_env_vars_and_k8s_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARLAKE_ENV", "cluster")
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", "s3://lake/prod")
    definitions = load()
    assert isinstance(definitions.executor, dg.ExecutorDefinition)
    assert definitions.executor.name == "k8s"
    resources = definitions.resources or {}
    assert isinstance(resources["lake"].url, dg.EnvVar)
    assert isinstance(resources["production"].url, dg.EnvVar)
