"""templates/serviceaccount-data-api.yaml: the Data API's read-only identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import TERRAFORM_OUTPUTS, Manifest


def test_carries_the_read_only_role(get: Callable[..., Any], aws_manifests: list[Manifest]) -> None:
    account = get(aws_manifests, "ServiceAccount", "clearlake-data-api")
    role = TERRAFORM_OUTPUTS["serviceAccounts"]["dataApi"]["roleArn"]
    assert account.metadata.annotations == {"eks.amazonaws.com/role-arn": role}
    assert account.automount_service_account_token is False
    runs = get(aws_manifests, "ServiceAccount", "clearlake-runs")
    assert runs.metadata.annotations != account.metadata.annotations
