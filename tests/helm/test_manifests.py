"""Every rendered object, in both profiles: a typed Kubernetes model that round-trips
unchanged (no field the API would drop), valid against the Kubernetes 1.33 schemas, and
every pod hardened the same way."""

from __future__ import annotations

import json
from typing import Any

import kubernetes.client
import kubernetes_validate
import pytest
from helm_support import NAMESPACE, Manifest, typed

KUBERNETES_VERSION = "1.33.0"

COMMON_KINDS = {
    "ConfigMap": 2,
    "Deployment": 2,
    "Service": 2,
    "ServiceAccount": 2,
    "Role": 1,
    "RoleBinding": 1,
    "NetworkPolicy": 6,
    "ResourceQuota": 2,
    "PriorityClass": 1,
    "PersistentVolumeClaim": 1,
    "PodDisruptionBudget": 4,
    "CronJob": 1,
}
# AWS creates the EFS class of the reports claim; the local profile uses the default class and
# opens its in-namespace MinIO and PostgreSQL (networkpolicy-backing-services.yaml).
EXPECTED_KINDS = {
    "aws": {**COMMON_KINDS, "StorageClass": 1},
    "local": {**COMMON_KINDS, "NetworkPolicy": COMMON_KINDS["NetworkPolicy"] + 2},
}
CLUSTER_SCOPED = {"StorageClass", "PriorityClass"}


def _name(obj: Manifest) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def test_the_chart_renders_the_expected_objects(profile: str, manifests: list[Manifest]) -> None:
    kinds: dict[str, int] = {}
    for obj in manifests:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    assert kinds == EXPECTED_KINDS[profile]
    names = [_name(obj) for obj in manifests]
    assert len(names) == len(set(names)), f"duplicate objects: {names}"


def test_every_object_loads_into_its_typed_model_unchanged(manifests: list[Manifest]) -> None:
    client = kubernetes.client.ApiClient()
    for obj in manifests:
        model = typed(obj)
        assert type(model).__name__ == f"V1{obj['kind']}"
        round_trip = client.sanitize_for_serialization(model)
        assert round_trip == json.loads(json.dumps(obj)), f"{_name(obj)} loses or changes fields"


def test_every_object_is_valid_kubernetes(manifests: list[Manifest]) -> None:
    for obj in manifests:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{_name(obj)} is invalid for Kubernetes {KUBERNETES_VERSION}: {error}")


def test_every_object_is_namespaced_and_labelled(manifests: list[Manifest]) -> None:
    for obj in manifests:
        metadata = obj["metadata"]
        namespace = None if obj["kind"] in CLUSTER_SCOPED else NAMESPACE
        assert metadata.get("namespace") == namespace, _name(obj)
        assert metadata["labels"]["app.kubernetes.io/part-of"] == "clearlake", _name(obj)
        assert metadata["labels"]["app.kubernetes.io/managed-by"] == "Helm", _name(obj)


def _pods(manifests: list[Manifest]) -> list[tuple[str, Any]]:
    return [
        (_name(obj), typed(obj).spec.template.spec)
        for obj in manifests
        if obj["kind"] == "Deployment"
    ]


def test_every_pod_has_the_security_baseline(manifests: list[Manifest]) -> None:
    pods = _pods(manifests)
    assert pods
    for name, pod in pods:
        assert pod.security_context.run_as_non_root is True, name
        assert pod.security_context.run_as_user >= 10000, name
        assert pod.security_context.seccomp_profile.type == "RuntimeDefault", name
        # The reports claim can hold many files: fix its group once, not at every start.
        assert pod.security_context.fs_group_change_policy == "OnRootMismatch", name
        assert pod.automount_service_account_token is False, name
        tmp_volumes = {v.name for v in pod.volumes if v.empty_dir is not None}
        for container in pod.containers:
            context = container.security_context
            where = f"{name} container {container.name}"
            assert context.allow_privilege_escalation is False, where
            assert context.read_only_root_filesystem is True, where
            assert context.run_as_non_root is True, where
            assert context.capabilities.drop == ["ALL"], where
            assert not context.capabilities.add, where
            assert context.seccomp_profile.type == "RuntimeDefault", where
            tmp = [m for m in container.volume_mounts if m.mount_path == "/tmp"]
            assert len(tmp) == 1 and tmp[0].name in tmp_volumes, f"{where}: no emptyDir /tmp"


def test_every_container_has_requests_limits_and_probes(manifests: list[Manifest]) -> None:
    for name, pod in _pods(manifests):
        for container in pod.containers:
            where = f"{name} container {container.name}"
            for bound in (container.resources.requests, container.resources.limits):
                assert set(bound) == {"cpu", "memory"}, where
            assert container.liveness_probe is not None, where
            assert container.readiness_probe is not None, where


def test_images_are_commit_tags_never_latest(manifests: list[Manifest]) -> None:
    for name, pod in _pods(manifests):
        for container in pod.containers:
            repository, _, tag = container.image.rpartition(":")
            assert repository and tag not in ("", "latest"), f"{name}: {container.image}"
            assert len(tag) == 40 and int(tag, 16) >= 0, f"{name}: {container.image}"
