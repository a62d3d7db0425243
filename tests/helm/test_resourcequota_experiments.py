"""templates/resourcequota-experiments.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import Manifest, aws_profile, deep_merge, offline


def test_caps_cpu_memory_gpus_and_jobs(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    hard = get(aws_manifests, "ResourceQuota", "clearlake-experiments").spec.hard
    assert hard["requests.cpu"] == "16"
    assert hard["limits.memory"] == "128Gi"
    assert hard["requests.nvidia.com/gpu"] == "2"
    assert hard["count/jobs.batch"] == "200"


def test_local_profile_is_laptop_sized(
    get: Callable[..., Any], local_manifests: list[Manifest]
) -> None:
    hard = get(local_manifests, "ResourceQuota", "clearlake-experiments").spec.hard
    assert hard["requests.cpu"] == "4"
    assert hard["requests.nvidia.com/gpu"] == "0"


def test_can_be_disabled(render: Callable[[dict[str, Any]], list[Manifest]]) -> None:
    values = deep_merge(aws_profile(), {"experiments": {"resourceQuota": {"enabled": False}}})
    assert not [o for o in render(offline(values)) if o["kind"] == "ResourceQuota"]
