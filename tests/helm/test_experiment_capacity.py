"""Experiments against the cluster's capacity: the chart writes the node groups and the
experiment quota into every pod's environment, and a profile no node group can hold (or
the quota cannot admit) is refused before launch. No namespace-wide LimitRange: each
experiment step pod carries its profile's limits (clearlake.experiments.profiles)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from helm_support import Manifest, aws_profile, offline

from clearlake.experiments.capacity import check_capacity, parse_capacity
from clearlake.experiments.profiles import ProfileError, resolve_request
from clearlake.project.load import current_project
from clearlake.settings import load_settings

Render = Callable[[dict[str, Any]], list[Manifest]]
# What Terraform's helm_values output gives for its node groups (examples/complete defaults).
GENERAL = {"cpu": "3920m", "memory": "14Gi", "gpu": 0}  # m6i.xlarge
LARGE = {"cpu": "15890m", "memory": "57Gi", "gpu": 0}  # m6i.4xlarge
GPU = {"cpu": "7910m", "memory": "28Gi", "gpu": 1}  # g5.2xlarge


def rendered_capacity(render: Render, nodes: dict[str, Any], **quota: str) -> str:
    values = copy.deepcopy(offline(aws_profile()))
    experiments = values.setdefault("experiments", {})
    experiments["nodes"] = nodes
    if quota:  # merged into the chart's defaults by Helm
        experiments["resourceQuota"] = {"hard": quota}
    (env,) = [
        m
        for m in render(values)
        if m["kind"] == "ConfigMap" and m["metadata"]["name"].endswith("-env")
    ]
    return str(env["data"]["CLEARLAKE_EXPERIMENT_CAPACITY"])


def check(capacity: str, profile: str) -> None:
    profiles = current_project(load_settings({})).config.profiles
    check_capacity(resolve_request(profiles, profile), parse_capacity(capacity))


def test_no_limitrange_caps_the_namespace(aws_manifests: list[Manifest]) -> None:
    assert [m for m in aws_manifests if m["kind"] == "LimitRange"] == []


def test_profiles_a_one_group_cluster_cannot_hold_are_refused(render: Render) -> None:
    capacity = rendered_capacity(render, {"general": GENERAL})
    check(capacity, "small")
    check(capacity, "medium")  # requests 2 CPU / 4Gi: fits a 4-vCPU node
    with pytest.raises(ProfileError) as large:
        check(capacity, "large")
    message = str(large.value)
    assert message.startswith("Profile 'large' cannot run on this cluster: its step pod ")
    assert "no node group can hold it" in message and "general: cpu 3.92" in message
    assert "Nothing was launched" in message and "\n" not in message
    with pytest.raises(ProfileError, match="requests cpu 4, memory 16Gi, 1 GPU"):
        check(capacity, "gpu")


def test_node_groups_sized_for_the_profiles_hold_every_profile(render: Render) -> None:
    capacity = rendered_capacity(render, {"general": GENERAL, "large": LARGE, "gpu": GPU})
    for profile in ("small", "medium", "large", "gpu"):
        check(capacity, profile)


def test_the_quota_refuses_a_pod_larger_than_itself(render: Render) -> None:
    capacity = rendered_capacity(render, {"large": LARGE}, **{"limits.cpu": "12"})
    with pytest.raises(ProfileError, match=r"experiment quota admits less \(limits.cpu 16 > 12\)"):
        check(capacity, "large")


def test_the_device_plugin_runs_only_on_gpu_nodes(render: Render) -> None:
    values = copy.deepcopy(offline(aws_profile()))
    values.setdefault("experiments", {})["devicePlugin"] = {"enabled": True}
    (plugin,) = [m for m in render(values) if m["kind"] == "DaemonSet"]
    kubernetes_validate.validate(plugin, "1.33.0", strict=True)
    spec = plugin["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert spec["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert [m for m in render(offline(aws_profile())) if m["kind"] == "DaemonSet"] == []
