"""templates/networkpolicy-dns.yaml."""

from __future__ import annotations

from helm_support import STRANGER_POD, Manifest, allowed

KUBE_DNS = {
    "labels": {"k8s-app": "kube-dns"},
    "namespace": "kube-system",
    "namespaceLabels": {"kubernetes.io/metadata.name": "kube-system"},
}


def test_every_pod_may_resolve_names(manifests: list[Manifest]) -> None:
    assert allowed(manifests, pod=STRANGER_POD, direction="egress", peer=KUBE_DNS, port=53)


def test_only_the_cluster_dns(manifests: list[Manifest]) -> None:
    elsewhere = {**KUBE_DNS, "namespaceLabels": {"kubernetes.io/metadata.name": "default"}}
    assert not allowed(manifests, pod=STRANGER_POD, direction="egress", peer=elsewhere, port=53)
    assert not allowed(manifests, pod=STRANGER_POD, direction="egress", peer=KUBE_DNS, port=80)
