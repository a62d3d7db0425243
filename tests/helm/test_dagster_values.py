"""The `dagster:` values, checked the way Dagster itself reads them.

The dagster chart turns these values into dagster.yaml; clearlake_deploy.dagster_instance
mirrors that for the pieces Clearlake sets. Here the result is validated with Dagster's own
config schemas, the run launcher is built exactly as the daemon builds it, and the Job it
would create for a run is constructed by dagster-k8s and checked like our own pods.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import helm_python as helm
import kubernetes.client
import kubernetes_validate
import yaml
from dagster import DagsterRun
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData
from dagster_k8s import K8sRunLauncher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job
from helm_support import (
    CODE_LOCATION_POD,
    COMMIT,
    NAMESPACE,
    RELEASE,
    Manifest,
    allowed,
    mounts_of_claim,
    parents_left_to_the_runtime,
    pod_reports_root,
    reports_claim,
)
from helm_support import aws_profile as aws_values
from helm_support import local_profile as local_values

from clearlake_deploy.dagster_instance import instance_config
from clearlake_deploy.helm_values import ClearlakeValues

IMAGE = f"clearlake:{COMMIT}"


def test_instance_config_passes_dagsters_schema(
    dagster_yaml: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(dagster_yaml))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"] == {"enabled": True, "max_retries": 1}


def test_each_configurable_class_accepts_its_config(dagster_yaml: dict[str, Any]) -> None:
    pieces = [v for v in dagster_yaml.values() if isinstance(v, dict) and "class" in v]
    assert {p["class"] for p in pieces} >= {
        "K8sRunLauncher",
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
        "S3ComputeLogManager",
        "QueuedRunCoordinator",
    }
    for piece in pieces:
        cls = getattr(importlib.import_module(piece["module"]), piece["class"])
        result = validate_config(cls.config_type(), piece.get("config", {}))
        assert result.success, f"{piece['class']}: {[e.message for e in result.errors or []]}"


def test_postgres_password_comes_from_the_secret(dagster_yaml: dict[str, Any]) -> None:
    db = dagster_yaml["run_storage"]["config"]["postgres_db"]
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    launcher = dagster_yaml["run_launcher"]["config"]
    assert launcher["postgres_password_secret"] == "clearlake-dagster-postgresql"


def test_aws_uses_rds_over_tls_and_s3_compute_logs(
    values_of: Callable[[str], ClearlakeValues],
) -> None:
    config = instance_config(values_of("aws").dagster, release_name=RELEASE, namespace=NAMESPACE)
    db = config["run_storage"]["config"]["postgres_db"]
    assert db["hostname"].endswith(".rds.amazonaws.com")
    assert db["params"] == {"sslmode": "require"}
    assert db["scheme"] == "postgresql+psycopg2"
    logs = config["compute_logs"]["config"]
    assert (logs["bucket"], logs["prefix"]) == ("clearlake-prod-lake", "dagster/compute-logs")


def test_local_uses_the_bundled_postgres_without_tls(
    values_of: Callable[[str], ClearlakeValues],
) -> None:
    config = instance_config(values_of("local").dagster, release_name=RELEASE, namespace=NAMESPACE)
    db = config["run_storage"]["config"]["postgres_db"]
    assert (db["hostname"], db["params"]) == ("clearlake-postgresql", {"sslmode": "disable"})
    logs = config["compute_logs"]["config"]
    assert logs["endpoint_url"] == "http://minio:9000"


def _run_job(dagster_yaml: dict[str, Any]) -> Manifest:
    """The Job K8sRunLauncher would create for a run, built by dagster-k8s itself."""
    piece = dagster_yaml["run_launcher"]
    data = ConfigurableClassData(piece["module"], piece["class"], yaml.safe_dump(piece["config"]))
    with mock.patch("dagster_k8s.launcher.load_kubernetes_config"):
        launcher = data.rehydrate(K8sRunLauncher)
    run = DagsterRun(job_name="flight_features_job", run_id="0" * 8 + "-1111-2222-3333-" + "4" * 12)
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=True)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-00000000",
        user_defined_k8s_config=context.run_k8s_config,
        component="run_worker",
        labels={"dagster/run-id": run.run_id},
    )
    serialised: Manifest = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    return serialised


def test_run_pods_are_valid_and_hardened(dagster_yaml: dict[str, Any]) -> None:
    job = _run_job(dagster_yaml)
    kubernetes_validate.validate(job, "1.33.0", strict=True)
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["ttlSecondsAfterFinished"]) == (
        0,
        21_600,
    )  # 6 h: helm/README.md "Capacity"
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "clearlake-runs"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/etc/clearlake"]]["configMap"]["name"] == "clearlake-config"


def test_run_pods_get_the_clearlake_environment(dagster_yaml: dict[str, Any]) -> None:
    (container,) = _run_job(dagster_yaml)["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["CLEARLAKE_SOURCE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "clearlake-source",
        "key": "url",
    }
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
        "clearlake-dagster-postgresql"
    )
    config_maps = [e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e]
    assert "clearlake-env" in config_maps


def test_run_pods_write_reports_to_the_shared_claim(
    dagster_yaml: dict[str, Any], manifests: list[Manifest]
) -> None:
    pod = _run_job(dagster_yaml)["spec"]["template"]["spec"]
    (mount,) = mounts_of_claim(pod, reports_claim(manifests)["metadata"]["name"])
    assert mount["mountPath"] == pod_reports_root(manifests)
    assert not mount.get("readOnly")
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    # CLEARLAKE_HOME above the claim stays writable: run pods keep git checkouts in cache/.
    assert parents_left_to_the_runtime(pod, mount["mountPath"]) == []


def test_network_policies_let_run_pods_reach_the_code_location(
    dagster_yaml: dict[str, Any], aws_manifests: list[Manifest]
) -> None:
    labels = _run_job(dagster_yaml)["spec"]["template"]["metadata"]["labels"]
    code_location = {"labels": CODE_LOCATION_POD}
    assert allowed(aws_manifests, pod=labels, direction="egress", peer=code_location, port=4000)


def test_webserver_and_daemon_get_the_hardening_and_an_aws_role(
    chart: helm.Chart, profile: str
) -> None:
    given = aws_values() if profile == "aws" else local_values()
    values = chart.merge_values(given)["dagster"]
    for component in ("dagsterWebserver", "dagsterDaemon"):
        pod = values[component]["podSecurityContext"]
        container = values[component]["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["allowPrivilegeEscalation"] is False
        assert container["capabilities"] == {"drop": ["ALL"]}
        assert set(values[component]["resources"]) == {"requests", "limits"}
    if profile == "aws":  # compute logs in S3: the webserver reads them with its own role
        role = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role.endswith(":role/clearlake-prod-dagster")
