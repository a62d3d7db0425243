"""templates/service-code-location.yaml: the gRPC endpoint the dagster workspace names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import CHART_DIR, Manifest, load_yaml


def test_selects_the_code_location_pods_on_the_grpc_port(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    service = get(manifests, "Service", "clearlake-code-location")
    deployment = get(manifests, "Deployment", "clearlake-code-location")
    assert service.spec.type == "ClusterIP"
    assert service.spec.selector == deployment.spec.selector.match_labels
    (port,) = service.spec.ports
    assert (port.port, port.target_port, port.app_protocol) == (4000, "grpc", "grpc")


def test_is_the_server_of_the_dagster_workspace(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    service = get(manifests, "Service", "clearlake-code-location")
    workspace = load_yaml(CHART_DIR / "values.yaml")["dagster"]["dagsterWebserver"]["workspace"]
    assert workspace["enabled"] is True
    assert {"host": service.metadata.name, "port": 4000, "name": "clearlake"} in (
        workspace["servers"]
    )
