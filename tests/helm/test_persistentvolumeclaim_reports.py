"""templates/persistentvolumeclaim-reports.yaml: the claim holding reports and the gallery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helm_support import (
    Manifest,
    aws_profile,
    deep_merge,
    find,
    local_profile,
    mounts_of_claim,
    offline,
    reports_claim,
)

NAME = "clearlake-reports"


def _pod(objects: list[Manifest], deployment: str) -> Manifest:
    pod: Manifest = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]
    return pod


def test_aws_claim_is_shared_by_every_node_through_the_efs_class(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    claim = get(aws_manifests, "PersistentVolumeClaim", NAME)
    assert claim.spec.access_modes == ["ReadWriteMany"]
    storage_class = get(aws_manifests, "StorageClass", claim.spec.storage_class_name)
    assert storage_class.provisioner == "efs.csi.aws.com"
    assert claim.spec.resources.requests == {"storage": "20Gi"}


def test_local_claim_uses_the_default_class_on_one_node(
    get: Callable[..., Any], local_manifests: list[Manifest]
) -> None:
    claim = get(local_manifests, "PersistentVolumeClaim", NAME)
    assert claim.spec.storage_class_name is None  # the cluster's default StorageClass
    assert claim.spec.access_modes == ["ReadWriteOnce"]
    assert claim.spec.resources.requests == {"storage": "2Gi"}


def test_claim_outlives_the_release(manifests: list[Manifest]) -> None:
    annotations = reports_claim(manifests)["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize(("class_name", "rendered"), [("", ""), ("nfs-client", "nfs-client")])
def test_a_named_or_empty_class_is_passed_through(
    render: Callable[[dict[str, Any]], list[Manifest]], class_name: str, rendered: str
) -> None:
    # "" is Kubernetes' "no class": bind a PersistentVolume made beforehand.
    values = deep_merge(local_profile(), {"reports": {"storageClassName": class_name}})
    claim = reports_claim(render(offline(values)))
    assert claim["spec"]["storageClassName"] == rendered


def test_an_existing_claim_is_mounted_instead(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    values = deep_merge(aws_profile(), {"reports": {"existingClaim": "team-reports"}})
    objects = render(offline(values))
    kinds = {o["kind"] for o in objects}
    assert "PersistentVolumeClaim" not in kinds and "StorageClass" not in kinds
    for deployment in ("clearlake-code-location", "clearlake-data-api"):
        assert mounts_of_claim(_pod(objects, deployment), "team-reports"), deployment


def test_disabled_reports_leave_no_claim_and_no_mount(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    objects = render(offline(deep_merge(aws_profile(), {"reports": {"enabled": False}})))
    kinds = {o["kind"] for o in objects}
    assert "PersistentVolumeClaim" not in kinds and "StorageClass" not in kinds
    for deployment in ("clearlake-code-location", "clearlake-data-api"):
        pod = _pod(objects, deployment)
        assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v], deployment
