"""templates/storageclass-reports.yaml: the EFS class of the reports claim (AWS profile)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helm_python as helm
import pytest
from helm_support import TERRAFORM_OUTPUTS, Manifest, aws_profile, deep_merge, offline

from clearlake_deploy.helm_values import ClearlakeValues


def _storage_class(objects: list[Manifest]) -> Manifest:
    (found,) = [o for o in objects if o["kind"] == "StorageClass"]
    return found


def test_efs_access_points_own_files_as_the_pods_user(
    values_of: Callable[[str], ClearlakeValues], aws_manifests: list[Manifest]
) -> None:
    values = values_of("aws")
    parameters = _storage_class(aws_manifests)["parameters"]
    # Each claim's access point makes every file belong to the user the pods run as.
    assert (parameters["uid"], parameters["gid"]) == (
        str(values.pod_security.run_as_user),
        str(values.pod_security.run_as_group),
    )
    assert (
        parameters["fileSystemId"]
        == (TERRAFORM_OUTPUTS["reports"]["storageClass"]["parameters"]["fileSystemId"])
    )


def test_reports_survive_a_deleted_claim(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    name = _storage_class(aws_manifests)["metadata"]["name"]
    assert get(aws_manifests, "StorageClass", name).reclaim_policy == "Retain"


def test_the_class_is_named_after_namespace_and_release(aws_manifests: list[Manifest]) -> None:
    # Cluster-scoped: two releases in other namespaces must not share (or fight over) it.
    claim = next(o for o in aws_manifests if o["kind"] == "PersistentVolumeClaim")
    storage_class = _storage_class(aws_manifests)
    assert "namespace" not in storage_class["metadata"]
    assert claim["spec"]["storageClassName"] == storage_class["metadata"]["name"]
    assert storage_class["metadata"]["name"].startswith(claim["metadata"]["namespace"] + "-")


def test_an_efs_class_needs_its_file_system(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    values = offline(aws_profile())
    del values["reports"]["storageClass"]["parameters"]["fileSystemId"]
    with pytest.raises(helm.HelmRenderError) as err:
        render(values)
    assert "reports.storageClass.parameters.fileSystemId is required for efs.csi.aws.com" in str(
        err.value
    )


def test_other_provisioners_get_their_parameters_verbatim(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    nfs = {"provisioner": "nfs.csi.k8s.io", "parameters": {"server": "nfs.internal"}}
    values = deep_merge(aws_profile(), {"reports": {"storageClass": nfs}})
    values["reports"]["storageClass"]["parameters"] = nfs["parameters"]
    storage_class = _storage_class(render(offline(values)))
    assert storage_class["provisioner"] == "nfs.csi.k8s.io"
    assert storage_class["parameters"] == {"server": "nfs.internal"}
