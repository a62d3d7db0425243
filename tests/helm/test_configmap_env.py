"""templates/configmap-env.yaml: the environment of every Clearlake pod."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import Manifest, pod_reports_root

from clearlake_deploy.cluster_paths import CLUSTER_HOME, REPORTS_ROOT


def test_aws_environment(get: Callable[..., Any], aws_manifests: list[Manifest]) -> None:
    data = get(aws_manifests, "ConfigMap", "clearlake-env").data
    assert data["CLEARLAKE_ENV"] == "cluster"
    assert data["CLEARLAKE_LAKE_URL"] == "s3://clearlake-prod-lake/lake"
    assert data["CLEARLAKE_DROPS_URL"] == "s3://clearlake-prod-lake/drops"  # beside the lake
    assert data["AWS_REGION"] == "eu-west-1"
    assert "AWS_ENDPOINT_URL_S3" not in data
    assert data["CLEARLAKE_HOME"].startswith("/tmp/")


def test_local_environment_points_at_minio(
    get: Callable[..., Any], local_manifests: list[Manifest]
) -> None:
    data = get(local_manifests, "ConfigMap", "clearlake-env").data
    assert data["CLEARLAKE_LAKE_URL"] == "s3://clearlake-lake/lake"
    assert data["AWS_ENDPOINT_URL_S3"] == "http://minio:9000"


def test_holds_no_secret(get: Callable[..., Any], manifests: list[Manifest]) -> None:
    data = get(manifests, "ConfigMap", "clearlake-env").data
    assert "CLEARLAKE_SOURCE_URL" not in data
    assert not [key for key in data if "SECRET" in key or "PASSWORD" in key or "TOKEN" in key]


def test_the_values_models_know_the_pods_paths(manifests: list[Manifest]) -> None:
    # clearlake_deploy.cluster_paths mirrors the chart's helpers for the values checks.
    data = {d["metadata"]["name"]: d for d in manifests if d["kind"] == "ConfigMap"}
    assert data["clearlake-env"]["data"]["CLEARLAKE_HOME"] == str(CLUSTER_HOME)
    assert pod_reports_root(manifests) == str(REPORTS_ROOT)
