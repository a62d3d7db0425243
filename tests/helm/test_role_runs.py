"""templates/role-runs.yaml: least privilege for K8sRunLauncher and k8s_job_executor.

The needed permissions are read from dagster-k8s itself: every Kubernetes API call of the
launcher and the executor goes through dagster_k8s/client.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster_k8s.client
from helm_support import Manifest, aws_profile, deep_merge, offline

RESOURCES = {
    "job": ("batch", "jobs"),
    "job_status": ("batch", "jobs/status"),
    "pod": ("", "pods"),
    "pod_log": ("", "pods/log"),
    "event": ("", "events"),
}
VERBS = {"read": "get", "list": "list", "create": "create", "delete": "delete", "patch": "patch"}
# Granted beyond today's calls: reading a Job (its status is already readable) and watching
# Jobs and pods (what `kubectl wait`-style tooling and newer dagster-k8s releases use); none
# reveals anything `list` does not.
TOLERATED_EXTRAS = {("batch", "jobs", "get"), ("batch", "jobs", "watch"), ("", "pods", "watch")}


def _needed() -> set[tuple[str, str, str]]:
    source = Path(dagster_k8s.client.__file__).read_text()
    calls = set(re.findall(r"\.(read|list|create|delete|patch)_namespaced_([a-z_]+?)\(", source))
    assert calls, "no Kubernetes API calls found in dagster_k8s/client.py"
    return {(*RESOURCES[resource], VERBS[verb]) for verb, resource in calls}


def _granted(role: Any) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role.rules
        for group in rule.api_groups
        for resource in rule.resources
        for verb in rule.verbs
    }


def test_grants_exactly_what_dagster_k8s_calls(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    granted = _granted(get(manifests, "Role", "clearlake-runs"))
    needed = _needed()
    assert needed <= granted, f"missing: {sorted(needed - granted)}"
    assert granted - needed <= TOLERATED_EXTRAS, f"excess: {sorted(granted - needed)}"


def test_no_wildcards_and_no_secrets(get: Callable[..., Any], manifests: list[Manifest]) -> None:
    role = get(manifests, "Role", "clearlake-runs")
    for rule in role.rules:
        assert "*" not in rule.verbs and "*" not in rule.resources
        assert "secrets" not in rule.resources


def test_the_reports_claim_needs_no_rights(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    # Run and step Jobs only name the claim in their pod spec; creating such a Job needs no
    # rights on PersistentVolumeClaims, and dagster-k8s never calls their API.
    source = Path(dagster_k8s.client.__file__).read_text()
    assert not re.search(r"_namespaced_persistent_volume_claim\(", source)
    granted = _granted(get(manifests, "Role", "clearlake-runs"))
    assert not [g for g in granted if "persistentvolume" in g[1] or "storageclass" in g[1]]


def test_rbac_can_be_left_to_the_platform_team(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    objects = render(offline(deep_merge(aws_profile(), {"rbac": {"create": False}})))
    assert not [o for o in objects if o["kind"] in ("Role", "RoleBinding")]
