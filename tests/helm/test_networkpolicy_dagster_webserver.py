"""templates/networkpolicy-dagster-webserver.yaml: who may open the Dagster UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import WEBSERVER_POD, Manifest, allowed, aws_profile, deep_merge, offline

INGRESS_CONTROLLER = {
    "labels": {"app": "ingress-nginx"},
    "namespace": "ingress-nginx",
    "namespaceLabels": {"kubernetes.io/metadata.name": "ingress-nginx"},
}


def test_nobody_by_default(manifests: list[Manifest]) -> None:
    policies = [o for o in manifests if o["kind"] == "NetworkPolicy"]
    assert not [o for o in policies if o["metadata"]["name"] == "clearlake-dagster-webserver"]
    peer = INGRESS_CONTROLLER
    assert not allowed(manifests, pod=WEBSERVER_POD, direction="ingress", peer=peer, port=80)


def test_declared_peers_may_reach_port_80(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    peers = [
        {"namespaceLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
        {"cidr": "10.8.0.0/16"},
    ]
    values = deep_merge(aws_profile(), {"networkPolicy": {"webserverAllowedFrom": peers}})
    objects = render(offline(values))
    pod = WEBSERVER_POD
    assert allowed(objects, pod=pod, direction="ingress", peer=INGRESS_CONTROLLER, port=80)
    assert allowed(objects, pod=pod, direction="ingress", peer={"ip": "10.8.1.1"}, port=80)
    assert not allowed(objects, pod=pod, direction="ingress", peer={"ip": "10.9.1.1"}, port=80)
    assert not allowed(objects, pod=pod, direction="ingress", peer=INGRESS_CONTROLLER, port=3000)
