"""The cluster path of an experiment, without a cluster: the exact Kubernetes Jobs that
dagster-k8s would create for its run and its steps, validated against the official
Kubernetes 1.33 schemas."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
from kubernetes.client import ApiClient

from clearlake.errors import ClearlakeError, ConfigurationError
from clearlake.experiments.launch import ExperimentPlan, plan_experiment
from clearlake.experiments.profiles import (
    EXPERIMENT_PRIORITY_CLASS,
    GPU_RESOURCE,
    RUN_POD_RESOURCES,
    ProfileError,
)
from clearlake.project.load import Project, parse_project
from clearlake.settings import DEFAULT_PROJECT, load_settings

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clearlake:3f9c2e1"
KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: clearlake}}]
current-context: x
"""
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


@pytest.fixture
def launcher(tmp_path: Path) -> K8sRunLauncher:
    """The real run launcher, configured as the Helm chart configures it (no API calls)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    return K8sRunLauncher(
        service_account_name="clearlake-runs",
        instance_config_map="clearlake-dagster-instance",
        dagster_home="/opt/dagster/dagster_home",
        job_image=IMAGE,
        job_namespace="clearlake",
        load_incluster_config=False,
        kubeconfig_file=str(kubeconfig),
        postgres_password_secret="clearlake-postgresql",
        env_config_maps=["clearlake-env"],
        run_k8s_config={
            "pod_spec_config": {"security_context": POD_SECURITY},
            "container_config": {"security_context": CONTAINER_SECURITY},
        },
    )


def plan(
    config: Project, profile: str, monkeypatch: pytest.MonkeyPatch, **asked: Any
) -> ExperimentPlan:
    monkeypatch.setenv("CLEARLAKE_ENV", "cluster")
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", "s3://lake/prod")
    return plan_experiment(
        project=config, settings=load_settings(), repo="algo", ref="main",
        params=["max_depth=3,5"], profile=profile, **asked,
    )  # fmt: skip


def validated(job: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = ApiClient().sanitize_for_serialization(job)
    manifest.update(apiVersion="batch/v1", kind="Job")
    kubernetes_validate.validate(manifest, "1.33.0", strict=True)
    return manifest


def run_job(launcher: K8sRunLauncher, tags: dict[str, str]) -> dict[str, Any]:
    """What K8sRunLauncher.launch_run builds for this run (its own code path)."""
    run = DagsterRun(job_name="candidate_evaluation", run_id=str(uuid.uuid4()), tags=tags)
    context = launcher.get_container_context_for_run(run)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name=f"dagster-run-{run.run_id}",
        pod_name=f"dagster-run-{run.run_id}",
        component="run_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": run.job_name, "dagster/run-id": run.run_id},
    )
    return validated(job)


def step_job(
    launcher: K8sRunLauncher, tags: dict[str, str], run_config: dict[str, Any]
) -> dict[str, Any]:
    """What the k8s_job_executor builds for one step of that run (its own merge order)."""
    executor_config = run_config["execution"]["config"]
    assert validate_config(k8s_job_executor.config_schema.config_type, executor_config).success
    run = DagsterRun(job_name="candidate_evaluation", run_id=str(uuid.uuid4()), tags=tags)
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=False).merge(
        K8sContainerContext(
            run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(executor_config["step_k8s_config"])  # type: ignore[no-untyped-call]
        )
    )
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(IMAGE, launcher),
        args=["dagster", "api", "execute_step", "{}"],
        job_name="dagster-step-0123456789abcdef",
        pod_name="dagster-step-0123456789abcdef",
        component="step_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/op": "evaluation__candidate_predictions"},
    )
    return validated(job)


def test_gpu_experiment_profile_goes_to_step_pods_and_run_pods_stay_small(
    launcher: K8sRunLauncher, experiment_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = plan(experiment_project, "gpu", monkeypatch)
    assert len(planned.runs) == 2
    for run in planned.runs:
        step = step_job(launcher, run.tags, run.run_config)
        run_pod = run_job(launcher, run.tags)["spec"]["template"]["spec"]
        step_pod = step["spec"]["template"]["spec"]
        # The step fits the model: the profile, on a GPU node.
        assert step_pod["containers"][0]["resources"] == {
            "limits": {"cpu": "8", "memory": "32Gi", GPU_RESOURCE: "1"},
            "requests": {"cpu": "4", "memory": "16Gi", GPU_RESOURCE: "1"},
        }
        assert step_pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert step_pod["tolerations"] == [
            {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
        ]
        # The run pod only orchestrates: small, fixed, no GPU, any node.
        assert run_pod["containers"][0]["resources"] == RUN_POD_RESOURCES
        assert "nodeSelector" not in run_pod and "tolerations" not in run_pod
        for pod in (step_pod, run_pod):
            container = pod["containers"][0]
            assert container["image"] == IMAGE
            assert pod["priorityClassName"] == EXPERIMENT_PRIORITY_CLASS
            assert pod["serviceAccountName"] == "clearlake-runs"
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        labels = step["spec"]["template"]["metadata"]["labels"]
        assert labels["clearlake/experiment"] == planned.experiment
        assert labels["clearlake/profile"] == "gpu"


def test_cpu_experiment_asks_for_less_and_gets_no_gpu(
    launcher: K8sRunLauncher, experiment_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = plan(experiment_project, "medium", monkeypatch, cpu="1500m", memory="3Gi")
    run = planned.runs[0]
    pod = step_job(launcher, run.tags, run.run_config)["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"] == {
        "limits": {"cpu": "4", "memory": "8Gi"},
        "requests": {"cpu": "1500m", "memory": "3Gi"},
    }
    assert "nodeSelector" not in pod and "tolerations" not in pod
    run_pod = run_job(launcher, run.tags)["spec"]["template"]["spec"]
    assert run_pod["containers"][0]["resources"] == RUN_POD_RESOURCES


def test_local_experiments_carry_no_executor_config(
    experiment_project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLEARLAKE_HOME", str(tmp_path))
    planned = plan_experiment(
        project=experiment_project, settings=load_settings({"CLEARLAKE_HOME": str(tmp_path)}),
        repo="algo", ref="main", params=[], profile="small",
    )  # fmt: skip
    assert planned.runs[0].run_config == {}
    assert planned.runs[0].key == f"algo@{planned.sha[:7]}"


def test_a_profile_the_cluster_cannot_hold_is_refused_before_launch(
    experiment_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `clearlake experiment run --dry-run` plans (and a launch plans first): the
    capacity the chart writes into every pod (tests/helm/test_experiment_capacity.py)."""
    general = '{"nodes": {"general": {"cpu": "3920m", "memory": "14Gi", "gpu": 0}}, "quota": {}}'
    monkeypatch.setenv("CLEARLAKE_EXPERIMENT_CAPACITY", general)
    assert len(plan(experiment_project, "medium", monkeypatch).runs) == 2
    with pytest.raises(ProfileError, match="Profile 'large' cannot run on this cluster") as err:
        plan(experiment_project, "large", monkeypatch)
    assert "no node group can hold it" in str(err.value)
    assert "Nothing was launched" in str(err.value)
    monkeypatch.setenv("CLEARLAKE_EXPERIMENT_CAPACITY", "not json")
    with pytest.raises(ConfigurationError, match="CLEARLAKE_EXPERIMENT_CAPACITY is not the JSON"):
        plan(experiment_project, "small", monkeypatch)


def test_a_pipeline_stage_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """The example's late-arrivals is the model stage of late_arrival's pipeline: a grid of
    it alone would be evaluated without its transform stage, so the plan refuses, naming
    the pipeline (before git is even asked)."""
    project = parse_project(
        yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text()),
        path=DEFAULT_PROJECT / "clearlake.yaml",
    )
    with pytest.raises(ClearlakeError, match=r"stage of task late_arrival's pipeline"):
        plan_experiment(
            project=project, settings=load_settings({"CLEARLAKE_HOME": str(tmp_path)}),
            repo="late-arrivals", ref="main", params=[], profile="small",
        )  # fmt: skip
