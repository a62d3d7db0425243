"""templates/serviceaccount-runs.yaml: identity of runs, steps and the code-location server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import TERRAFORM_OUTPUTS, Manifest

IRSA = "eks.amazonaws.com/role-arn"


def test_carries_the_runs_role_on_aws(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    account = get(aws_manifests, "ServiceAccount", "clearlake-runs")
    role = TERRAFORM_OUTPUTS["serviceAccounts"]["runs"]["roleArn"]
    assert account.metadata.annotations == {IRSA: role}
    assert account.automount_service_account_token is False


def test_has_no_role_off_aws(get: Callable[..., Any], local_manifests: list[Manifest]) -> None:
    account = get(local_manifests, "ServiceAccount", "clearlake-runs")
    assert not account.metadata.annotations
