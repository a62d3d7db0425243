"""clearlake_deploy.dagster_instance: dagster.yaml as the dagster chart builds it."""

from __future__ import annotations

from typing import Any

import pytest
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config_schema

from clearlake_deploy.dagster_instance import dagster_fullname, instance_config
from clearlake_deploy.dagster_values import DagsterValues

BASE: dict[str, Any] = {
    "enabled": True,
    "global": {"postgresqlSecretName": "pg"},
    "dagsterWebserver": {"workspace": {"enabled": True, "servers": []}},
    "dagster-user-deployments": {"enabled": True, "enableSubchart": False},
    "runLauncher": {"type": "K8sRunLauncher", "config": {"k8sRunLauncher": {}}},
    "postgresql": {
        "enabled": False,
        "postgresqlHost": "db.internal",
        "postgresqlUsername": "dagster",
        "postgresqlDatabase": "dagster",
    },
    "generatePostgresqlPasswordSecret": False,
    "computeLogManager": {"type": "NoOpComputeLogManager"},
    "dagsterDaemon": {"runMonitoring": {"enabled": False}, "runRetries": {"enabled": False}},
}


def _values(**overrides: Any) -> DagsterValues:
    return DagsterValues.model_validate({**BASE, **overrides})


def test_fullname_follows_the_dagster_chart() -> None:
    assert dagster_fullname("clearlake") == "clearlake-dagster"
    assert dagster_fullname("dagster-prod") == "dagster-prod"


def test_minimal_values_give_a_valid_instance() -> None:
    config = instance_config(_values(), release_name="cl", namespace="ns")
    assert validate_config(dagster_instance_config_schema(), config).success
    launcher = config["run_launcher"]["config"]
    assert launcher["job_namespace"] == "ns"
    assert launcher["service_account_name"] == "cl-dagster"
    assert launcher["instance_config_map"] == "cl-dagster-instance"
    assert "run_k8s_config" not in launcher and "env_config_maps" not in launcher
    assert config["compute_logs"]["class"] == "NoOpComputeLogManager"
    assert "run_monitoring" not in config and "run_retries" not in config


def test_bundled_postgres_is_addressed_by_release() -> None:
    postgres = {**BASE["postgresql"], "enabled": True, "postgresqlHost": ""}
    config = instance_config(_values(postgresql=postgres), release_name="cl", namespace="ns")
    assert config["event_log_storage"]["config"]["postgres_db"]["hostname"] == "cl-postgresql"


def test_s3_compute_logs_need_their_bucket() -> None:
    values = _values(computeLogManager={"type": "S3ComputeLogManager"})
    with pytest.raises(ValueError, match="s3ComputeLogManager is missing: set its bucket"):
        instance_config(values, release_name="cl", namespace="ns")


def test_daemon_features_follow_the_values() -> None:
    daemon = {
        "runMonitoring": {"enabled": True, "maxResumeRunAttempts": 2},
        "runRetries": {"enabled": True, "maxRetries": 3},
        "runCoordinator": {"enabled": False},
    }
    config = instance_config(_values(dagsterDaemon=daemon), release_name="cl", namespace="ns")
    assert config["run_monitoring"]["max_resume_run_attempts"] == 2
    assert config["run_retries"] == {"enabled": True, "max_retries": 3}
    assert "run_coordinator" not in config


def test_queue_interval_follows_the_values() -> None:
    queue = {"config": {"queuedRunCoordinator": {"dequeueIntervalSeconds": 2}}}
    daemon = {**BASE["dagsterDaemon"], "runCoordinator": queue}
    config = instance_config(_values(dagsterDaemon=daemon), release_name="cl", namespace="ns")
    assert config["run_coordinator"]["config"] == {"dequeue_interval_seconds": 2}
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        queue["config"]["queuedRunCoordinator"]["dequeueIntervalSeconds"] = 0
        _values(dagsterDaemon={**BASE["dagsterDaemon"], "runCoordinator": queue})
