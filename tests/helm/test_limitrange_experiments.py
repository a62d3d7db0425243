"""templates/limitrange-experiments.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import Manifest
from kubernetes.utils import parse_quantity


def test_defaults_and_ceiling_for_containers(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    (limit,) = get(manifests, "LimitRange", "clearlake-experiments").spec.limits
    assert limit.type == "Container"
    assert limit.default == {"cpu": "1", "memory": "2Gi"}
    assert limit.default_request == {"cpu": "250m", "memory": "512Mi"}
    assert limit.max == {"cpu": "8", "memory": "64Gi"}


def test_clearlake_pods_fit_under_the_ceiling(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    (limit,) = get(manifests, "LimitRange", "clearlake-experiments").spec.limits
    for name in ("clearlake-code-location", "clearlake-data-api"):
        for container in get(manifests, "Deployment", name).spec.template.spec.containers:
            for resource, ceiling in limit.max.items():
                assert parse_quantity(container.resources.limits[resource]) <= parse_quantity(
                    ceiling
                ), f"{name} {resource} limit is above the LimitRange max"
