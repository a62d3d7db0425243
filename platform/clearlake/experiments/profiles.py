"""Resource profiles → Kubernetes resources of an experiment's step pods.

A scientist names a profile and may ask for less than it allows, never more: the check
happens before anything is launched. GPUs are requested as ``nvidia.com/gpu`` with the
node selector and toleration of the cluster's GPU nodes.

Only step pods (``k8s_job_executor``'s ``step_k8s_config``) get the profile: the run pod only
orchestrates, so it is small and fixed (the ``dagster-k8s/config`` tag, ``RUN_POD_RESOURCES``).
A run pod holding the profile's GPU would deadlock a sweep: with a quota of 2 GPUs, two run
pods take both and no step can start. Every experiment pod carries the PriorityClass
``EXPERIMENT_PRIORITY_CLASS``, which the chart's experiments ResourceQuota is scoped to, so a
full experiment quota never blocks production runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from clearlake.errors import ClearlakeError
from clearlake.project.config import ResourceProfile
from clearlake.project.load import Project, current_project
from clearlake.settings import Settings

GPU_RESOURCE = "nvidia.com/gpu"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
K8S_CONFIG_TAG = "dagster-k8s/config"
EXPERIMENT_PRIORITY_CLASS = "clearlake-experiments"
"""helm/clearlake values experiments.priorityClass.name (tests/helm keeps them equal)."""
RUN_POD_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
"""An experiment's run pod: it starts step Jobs and waits; it never fits a model."""


class ProfileError(ClearlakeError):
    """An unknown profile, or a request beyond what the profile allows."""


@dataclass(frozen=True)
class ResourceRequest:
    """What one run asks for: within its profile's limits."""

    profile: str
    cpu: str
    memory: str
    gpu: int
    cpu_limit: str
    memory_limit: str


Profiles = Mapping[str, ResourceProfile]


def project_profiles(settings: Settings, project: Project | None = None) -> Profiles:
    """The resource profiles of the project (``profiles:`` of its clearlake.yaml)."""
    return (project or current_project(settings)).config.profiles


def get_profile(profiles: Profiles, name: str) -> ResourceProfile:
    if not profiles:
        raise ProfileError(
            f"Resource profile {name!r} is not available: the project's clearlake.yaml has no "
            "profiles: section (the example project declares some)."
        )
    if name not in profiles:
        raise ProfileError(
            f"Unknown resource profile {name!r}: choose one of {', '.join(sorted(profiles))} "
            "(profiles: section of the project's clearlake.yaml)."
        )
    return profiles[name]


def _quantity(text: str, what: str) -> Decimal:
    try:
        return Decimal(parse_quantity(text))
    except ValueError:
        raise ProfileError(
            f"{what} {text!r} is not a Kubernetes quantity: use e.g. 500m or 2 (CPU), 4Gi (memory)."
        ) from None


def resolve_request(
    profiles: Profiles,
    profile_name: str,
    *,
    cpu: str | None = None,
    memory: str | None = None,
    gpu: int | None = None,
) -> ResourceRequest:
    """The profile's defaults, overridden by what was asked — refused beyond its limits."""
    if gpu is not None and gpu < 0:
        raise ProfileError(f"--gpu {gpu}: a number of GPUs must be >= 0. Nothing was launched.")
    profile = get_profile(profiles, profile_name)
    asked_cpu, asked_memory = cpu or profile.cpu.request, memory or profile.memory.request
    asked_gpu = profile.gpu if gpu is None else gpu
    problems = []
    if _quantity(asked_cpu, "--cpu") > _quantity(profile.cpu.limit, "cpu limit"):
        problems.append(f"cpu {asked_cpu} > {profile.cpu.limit}")
    if _quantity(asked_memory, "--memory") > _quantity(profile.memory.limit, "memory limit"):
        problems.append(f"memory {asked_memory} > {profile.memory.limit}")
    if asked_gpu > profile.gpu:
        problems.append(f"gpu {asked_gpu} > {profile.gpu}")
    if problems:
        fitting = [
            (p.gpu, _quantity(p.cpu.limit, "cpu"), _quantity(p.memory.limit, "memory"), n)
            for n, p in profiles.items()
            if _fits(p, asked_cpu, asked_memory, asked_gpu)
        ]
        larger = [n for *_, n in sorted(fitting)]  # the smallest profile that fits
        hint = f"use --profile {larger[0]}" if larger else "no profile allows that much"
        raise ProfileError(
            f"Profile {profile_name!r} does not allow {', '.join(problems)}: {hint}, or ask "
            "for less. Nothing was launched."
        )
    return ResourceRequest(
        profile=profile_name,
        cpu=asked_cpu,
        memory=asked_memory,
        gpu=asked_gpu,
        cpu_limit=profile.cpu.limit,
        memory_limit=profile.memory.limit,
    )


def _fits(profile: ResourceProfile, cpu: str, memory: str, gpu: int) -> bool:
    return (
        _quantity(cpu, "cpu") <= _quantity(profile.cpu.limit, "cpu")
        and _quantity(memory, "memory") <= _quantity(profile.memory.limit, "memory")
        and gpu <= profile.gpu
    )


def _labels(request: ResourceRequest, experiment: str) -> dict[str, Any]:
    return {"labels": {"clearlake/experiment": experiment, "clearlake/profile": request.profile}}


def k8s_config(request: ResourceRequest, *, experiment: str) -> dict[str, Any]:
    """A step pod of the experiment: the profile's resources (+ GPU scheduling) and labels."""
    limits: dict[str, Any] = {"cpu": request.cpu_limit, "memory": request.memory_limit}
    requests: dict[str, Any] = {"cpu": request.cpu, "memory": request.memory}
    pod_spec: dict[str, Any] = {"priority_class_name": EXPERIMENT_PRIORITY_CLASS}
    if request.gpu:
        limits[GPU_RESOURCE] = str(request.gpu)
        requests[GPU_RESOURCE] = str(request.gpu)
        pod_spec |= {"node_selector": GPU_NODE_SELECTOR, "tolerations": [GPU_TOLERATION]}
    return {
        "container_config": {"resources": {"requests": requests, "limits": limits}},
        "pod_spec_config": pod_spec,
        "pod_template_spec_metadata": _labels(request, experiment),
    }


def run_pod_config(request: ResourceRequest, *, experiment: str) -> dict[str, Any]:
    """The experiment's run pod: small and fixed whatever the profile, no GPU."""
    return {
        "container_config": {"resources": RUN_POD_RESOURCES},
        "pod_spec_config": {"priority_class_name": EXPERIMENT_PRIORITY_CLASS},
        "pod_template_spec_metadata": _labels(request, experiment),
    }


def k8s_config_tag(request: ResourceRequest, *, experiment: str) -> dict[str, str]:
    """The run's ``dagster-k8s/config`` tag: it sizes the run pod only."""
    config = run_pod_config(request, experiment=experiment)
    return {K8S_CONFIG_TAG: json.dumps(config, sort_keys=True)}
