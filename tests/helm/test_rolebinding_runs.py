"""templates/rolebinding-runs.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import NAMESPACE, Manifest


def test_binds_the_runs_role_to_the_runs_account_only(
    get: Callable[..., Any], manifests: list[Manifest]
) -> None:
    binding = get(manifests, "RoleBinding", "clearlake-runs")
    assert (binding.role_ref.kind, binding.role_ref.name) == ("Role", "clearlake-runs")
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [
        ("ServiceAccount", "clearlake-runs", NAMESPACE)
    ]
