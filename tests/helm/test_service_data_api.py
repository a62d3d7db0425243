"""templates/service-data-api.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import Manifest


def test_selects_the_data_api_pods_on_http(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    service = get(manifests, "Service", "clearlake-data-api")
    deployment = get(manifests, "Deployment", "clearlake-data-api")
    assert service.spec.type == "ClusterIP"
    assert service.spec.selector == deployment.spec.selector.match_labels
    (port,) = service.spec.ports
    assert (port.port, port.target_port) == (8000, "http")
