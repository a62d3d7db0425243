"""Step pods of the k8s_job_executor, built by dagster-k8s's own executor code.

On the cluster every step runs as its own Kubernetes Job, launched from the run pod by
``K8sStepHandler.launch_step``. dagster-k8s builds that Job from the instance's run launcher
(dagster.yaml, which the dagster chart renders from our values): ``_get_container_context``
starts from ``K8sContainerContext.create_for_run(run, instance.run_launcher, ...)``, which
copies the launcher's ``volumes`` and ``volume_mounts``. So the reports claim the values give
the run launcher reaches step pods without any executor configuration.

Here that path runs for real, without a cluster: an instance whose run launcher is the one
``clearlake_deploy.dagster_instance`` derives from the chart's values, the cluster
definitions' ``candidate_evaluation`` job (its executor is the k8s_job_executor), the
execution plan for one candidate, and ``launch_step`` for its report step, with the
Kubernetes API replaced by a mock that records the Job instead of creating it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import kubernetes.client
import kubernetes_validate
import pytest
from dagster import instance_for_test
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.context_creation_job import (
    create_context_creation_data,
    create_executor,
    create_log_manager,
    create_plan_data,
)
from dagster._core.execution.plan.step import ExecutionStep
from dagster._core.executor.step_delegating import StepDelegatingExecutor
from dagster._core.executor.step_delegating.step_handler.base import StepHandlerContext
from dagster._grpc.types import ExecuteStepArgs
from dagster_k8s.client import DagsterKubernetesClient
from helm_support import (
    COMMIT,
    REPO,
    Manifest,
    find,
    mounts_of_claim,
    parents_left_to_the_runtime,
    pod_reports_root,
    reports_claim,
)

from clearlake.experiments.profiles import k8s_config, resolve_request
from clearlake.names import evaluation_job
from clearlake.orchestration.partitions import CANDIDATES
from clearlake.project import load_project
from clearlake.settings import DEFAULT_PROJECT

IMAGE = f"clearlake:{COMMIT}"
JOB = evaluation_job("arrival_delay")
REPORT_STEP = "reports__arrival_delay__candidate_report"
CANDIDATE = "flight-delays@0123456"


@pytest.fixture
def run_launcher(dagster_yaml: dict[str, Any]) -> dict[str, Any]:
    """The run_launcher piece of dagster.yaml for this profile's values."""
    launcher: dict[str, Any] = dagster_yaml["run_launcher"]
    return launcher


@pytest.fixture
def cluster_definitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """assets.definitions as the code-location server loads it on the cluster."""
    monkeypatch.setenv("CLEARLAKE_ENV", "cluster")
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", "s3://lake/prod")
    yield


def launch_step(run_launcher: dict[str, Any], run_config: dict[str, Any], step_key: str) -> Any:
    """The V1Job the k8s_job_executor of a real run submits for `step_key`."""
    pointer = ModuleCodePointer("assets.definitions", "defs", working_directory=str(REPO))
    job = ReconstructableJob(ReconstructableRepository(pointer, container_image=IMAGE), JOB)
    batch_api = mock.MagicMock()
    client = DagsterKubernetesClient.production_client(  # type: ignore[no-untyped-call]
        batch_api_override=batch_api, core_api_override=mock.MagicMock()
    )
    with (
        # Off-cluster: neither the launcher nor the step handler may load in-cluster config.
        mock.patch("dagster_k8s.launcher.load_kubernetes_config"),
        mock.patch("kubernetes.config.load_incluster_config"),
        mock.patch.object(DagsterKubernetesClient, "production_client", return_value=client),
        instance_for_test(overrides={"run_launcher": run_launcher}) as instance,
    ):
        instance.add_dynamic_partitions(CANDIDATES, [CANDIDATE])
        tags = {"dagster/partition": CANDIDATE}
        plan = create_execution_plan(
            job, run_config=run_config, tags=tags, instance_ref=instance.get_ref()
        )
        run = instance.create_run_for_job(
            job.get_definition(), execution_plan=plan, run_config=run_config, tags=tags
        )
        # As dagster's orchestration_context_event_generator builds the run worker's context.
        creation = create_context_creation_data(job, plan, run_config, run, instance)
        executor = create_executor(creation)
        assert isinstance(executor, StepDelegatingExecutor), type(executor)
        context = PlanOrchestrationContext(
            plan_data=create_plan_data(
                creation, True, executor.retries, executor.step_dependency_config
            ),
            log_manager=create_log_manager(creation),
            executor=executor,
            output_capture=None,
        )
        step = plan.get_step_by_key(step_key)
        assert isinstance(step, ExecutionStep), type(step)
        args = ExecuteStepArgs(
            job.get_python_origin(), run.run_id, [step_key], instance_ref=instance.get_ref()
        )
        handler = executor._step_handler  # the K8sStepHandler the k8s_job_executor made
        list(handler.launch_step(StepHandlerContext(instance, context, [step], args, run)))
    batch_api.create_namespaced_job.assert_called_once()
    return batch_api.create_namespaced_job.call_args.kwargs["body"]


def validated(job: Any) -> Manifest:
    manifest: Manifest = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    kubernetes_validate.validate(manifest, "1.33.0", strict=True)
    return manifest


@pytest.mark.usefixtures("cluster_definitions")
def test_report_step_pods_write_to_the_shared_claim(
    run_launcher: dict[str, Any], manifests: list[Manifest]
) -> None:
    job = validated(launch_step(run_launcher, {}, REPORT_STEP))
    assert job["metadata"]["labels"]["dagster/op"] == REPORT_STEP
    pod = job["spec"]["template"]["spec"]
    (mount,) = mounts_of_claim(pod, reports_claim(manifests)["metadata"]["name"])
    assert mount["mountPath"] == pod_reports_root(manifests)
    assert not mount.get("readOnly")
    assert parents_left_to_the_runtime(pod, mount["mountPath"]) == []
    # Step pods run as the code-location server's user and group: the owner of the claim's files.
    server = find(manifests, "Deployment", "clearlake-code-location")["spec"]["template"]["spec"]
    for key in ("runAsUser", "runAsGroup", "fsGroup", "fsGroupChangePolicy"):
        assert pod["securityContext"][key] == server["securityContext"][key], key


@pytest.mark.usefixtures("cluster_definitions")
def test_experiment_step_config_keeps_the_claim(
    run_launcher: dict[str, Any], manifests: list[Manifest]
) -> None:
    # An experiment sizes its step pods through the executor's step_k8s_config (what
    # clearlake.experiments.launch puts in the run config); that must not drop the claim.
    profiles = load_project(DEFAULT_PROJECT).config.profiles
    step_config = k8s_config(resolve_request(profiles, "gpu"), experiment="exp-test")
    run_config = {"execution": {"config": {"step_k8s_config": step_config}}}
    pod = validated(launch_step(run_launcher, run_config, REPORT_STEP))["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["resources"] == step_config["container_config"]["resources"]
    (mount,) = mounts_of_claim(pod, reports_claim(manifests)["metadata"]["name"])
    assert mount["mountPath"] == pod_reports_root(manifests)
