"""templates/resourcequota-experiments.yaml, priorityclass-experiments.yaml: experiments have a
quota of their own, and a sweep on GPUs is admitted whole."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from helm_support import Manifest, aws_profile, deep_merge, find, offline
from kubernetes.utils import parse_quantity

from clearlake.experiments.profiles import (
    EXPERIMENT_PRIORITY_CLASS,
    k8s_config,
    resolve_request,
    run_pod_config,
)
from clearlake.project.load import load_project
from clearlake.settings import DEFAULT_PROJECT
from clearlake_deploy.helm_values import ClearlakeValues

QUOTA = "clearlake-experiments"


def test_counts_only_experiment_pods(aws_manifests: list[Manifest]) -> None:
    quota = find(aws_manifests, "ResourceQuota", QUOTA)["spec"]
    (expression,) = quota["scopeSelector"]["matchExpressions"]
    assert expression == {
        "scopeName": "PriorityClass",
        "operator": "In",
        "values": [EXPERIMENT_PRIORITY_CLASS],
    }
    assert "count/jobs.batch" not in quota["hard"]  # Job objects cannot be scoped: jobs quota
    priority = find(aws_manifests, "PriorityClass", EXPERIMENT_PRIORITY_CLASS)
    assert priority["value"] < 0 and priority["preemptionPolicy"] == "Never"


def test_production_pods_are_outside_the_experiment_quota(
    values_of: Callable[[str], ClearlakeValues],
) -> None:
    launcher = values_of("aws").dagster.run_launcher.config.k8s_run_launcher
    pod_spec = launcher.run_k8s_config.pod_spec_config
    assert pod_spec.get("priorityClassName") != EXPERIMENT_PRIORITY_CLASS


def _requested(containers: list[dict[str, Any]], resource: str) -> Decimal:
    return sum(
        (
            Decimal(parse_quantity(c["resources"]["requests"].get(resource, "0")))
            for c in containers
        ),
        Decimal(0),
    )


def admitted(hard: dict[str, str], pods: list[dict[str, Any]]) -> list[int]:
    """Indexes of the pods the quota admits, in creation order (as the API server does)."""
    used: list[dict[str, Any]] = []
    taken = []
    for index, pod in enumerate(pods):
        fits = len(used) + 1 <= int(hard.get("pods", 10**9))
        for name, limit in hard.items():
            if name.startswith("requests."):
                resource = name.removeprefix("requests.")
                total = _requested([*used, pod], resource)
                fits = fits and total <= Decimal(parse_quantity(limit))
        if fits:
            used.append(pod)
            taken.append(index)
    return taken


def test_a_two_gpu_sweep_gets_both_run_pods_and_both_step_pods(
    aws_manifests: list[Manifest],
) -> None:
    hard = find(aws_manifests, "ResourceQuota", QUOTA)["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "2"
    profiles = load_project(DEFAULT_PROJECT / "clearlake.yaml").config.profiles
    request = resolve_request(profiles, "gpu")
    run_pod = run_pod_config(request, experiment="exp")["container_config"]
    step_pod = k8s_config(request, experiment="exp")["container_config"]
    # The two run pods start first, then each starts its step.
    pods = [run_pod, run_pod, step_pod, step_pod]
    assert admitted(hard, pods) == [0, 1, 2, 3]
    # Had the run pods taken the profile (before issue 12), no step could start.
    assert admitted(hard, [step_pod, step_pod, step_pod, step_pod]) == [0, 1]


def test_local_profile_is_laptop_sized(
    get: Callable[..., Any], local_manifests: list[Manifest]
) -> None:
    hard = get(local_manifests, "ResourceQuota", QUOTA).spec.hard
    assert hard["requests.cpu"] == "4"
    assert hard["requests.nvidia.com/gpu"] == "0"


def test_can_be_disabled(render: Callable[[dict[str, Any]], list[Manifest]]) -> None:
    values = deep_merge(
        aws_profile(),
        {
            "experiments": {
                "resourceQuota": {"enabled": False},
                "priorityClass": {"create": False},
            },
            "jobQuota": {"enabled": False},
        },
    )
    objects = render(offline(values))
    assert not [o for o in objects if o["kind"] in ("ResourceQuota", "PriorityClass")]
