"""values.schema.json: generated from clearlake_deploy.helm_values, applied by Helm.

Invalid values must fail at render time (what `helm install` does) with the key's path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import helm_python as helm
import pytest
from helm_support import CHART_DIR, REPO, Manifest, aws_profile, deep_merge, offline

from clearlake_deploy.helm_values import values_json_schema

SCHEMA = CHART_DIR / "values.schema.json"


def test_committed_schema_is_the_generated_one() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "clearlake_deploy.helm_values"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert SCHEMA.read_text() == generated, (
        "helm/clearlake/values.schema.json is stale: run "
        "`python -m clearlake_deploy.helm_values > helm/clearlake/values.schema.json`"
    )


def test_helm_loads_that_schema(chart: helm.Chart) -> None:
    assert chart.schema == values_json_schema()
    assert json.loads(SCHEMA.read_text())["additionalProperties"] is False


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"imageTag": "abc1234"}, "additional properties 'imageTag' not allowed"),
        ({"codeLocation": {"replica": 2}}, "additional properties 'replica' not allowed"),
        (
            {"codeLocation": {"resources": {"limits": {"memory": "2 GB"}}}},
            "at '/codeLocation/resources/limits/memory'",
        ),
        ({"dataApi": {"resources": {"requests": {"cpu": -1}}}}, "/dataApi/resources/requests/cpu"),
        ({"image": {"tag": "latest"}}, "at '/image/tag': 'latest' does not match pattern"),
        ({"image": {"tag": None}}, "at '/image/tag': got null, want string"),
        ({"lake": {"url": "https://bucket/lake"}}, "at '/lake/url'"),
        (
            {"serviceAccounts": {"runs": {"roleArn": "clearlake-runs"}}},
            "at '/serviceAccounts/runs/roleArn'",
        ),
        ({"networkPolicy": {"databases": {"cidrs": ["10.0.0.0"]}}}, "/networkPolicy/databases"),
        ({"experiments": {"resourceQuota": {"hard": {"pods": "many"}}}}, "/hard/pods"),
        (
            {"dagster": {"runLauncher": {"type": "CeleryK8sRunLauncher"}}},
            "at '/dagster/runLauncher/type'",
        ),
        ({"reports": {"accessModes": ["ReadWriteSometimes"]}}, "at '/reports/accessModes/0'"),
        ({"reports": {"size": "lots"}}, "at '/reports/size'"),
        ({"projectConfig": "projects/shop/clearlake.yaml"}, "at '/projectConfig'"),  # relative
        ({"reports": {"existingClaim": "Team Reports"}}, "at '/reports/existingClaim'"),
        (
            {"reports": {"storageClass": {"parameters": {"directoryPerms": 700}}}},
            "at '/reports/storageClass/parameters/directoryPerms': got number, want string",
        ),
    ],
)
def test_invalid_values_are_rejected_at_render_time(
    render: Callable[[dict[str, Any]], list[Manifest]], override: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmValuesError, match="values don't meet the specifications") as err:
        render(offline(deep_merge(aws_profile(), override)))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("section", "key"),
    [("image", "tag"), ("lake", "url"), ("dagster", "computeLogManager")],
)
def test_required_values_left_unset_are_named(
    render: Callable[[dict[str, Any]], list[Manifest]], section: str, key: str
) -> None:
    values = offline(aws_profile())
    del values[section][key]
    if key == "computeLogManager":  # its bucket has no default in values.yaml
        section, key = "dagster/computeLogManager/config/s3ComputeLogManager", "bucket"
    with pytest.raises(helm.HelmValuesError) as err:
        render(values)
    assert f"at '/{section}': missing property '{key}'" in str(err.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"dagster": {"postgresql": {"postgresqlHost": ""}}},
            "dagster.postgresql.postgresqlHost is required when dagster.postgresql.enabled is "
            "false: set it to the RDS address",
        ),
        (
            {"serviceAccounts": {"runs": {"name": "runner"}}},
            'podSpecConfig.serviceAccountName is "clearlake-runs": set it to '
            'serviceAccounts.runs.name ("runner")',
        ),
        (
            {"codeLocation": {"port": 4100}},
            "workspace.servers must contain host=clearlake-code-location port=4100",
        ),
        (
            {"reports": {"existingClaim": "team-reports"}},
            'dagster.runLauncher.config.k8sRunLauncher must mount the reports claim "team-reports"'
            " writable at /tmp/clearlake/reports",
        ),
        (
            {"reports": {"enabled": False}},
            "reports.enabled is false but dagster.runLauncher.config.k8sRunLauncher.volumeMounts "
            'mounts "reports" at /tmp/clearlake/reports: remove that volume and its mount',
        ),
        (
            {
                "dagster": {
                    "runLauncher": {
                        "config": {
                            "k8sRunLauncher": {
                                "volumeMounts": [
                                    {
                                        "name": "reports",
                                        "mountPath": "/tmp/clearlake/reports",
                                        "readOnly": True,
                                    }
                                ]
                            }
                        }
                    }
                }
            },
            'must mount the reports claim "clearlake-reports" writable',
        ),
        (
            {
                "dagster": {
                    "runLauncher": {
                        "config": {
                            "k8sRunLauncher": {
                                "runK8sConfig": {
                                    "containerConfig": {
                                        "volumeMounts": [
                                            {"name": "clearlake-config", "mountPath": "/etc/x"},
                                            {"name": "tmp", "mountPath": "/tmp"},
                                        ]
                                    }
                                }
                            }
                        }
                    }
                }
            },
            "containerConfig.volumeMounts must mount /tmp/clearlake (CLEARLAKE_HOME) from the tmp "
            "emptyDir ({name: tmp, mountPath: /tmp/clearlake, subPath: clearlake})",
        ),
    ],
)
def test_broken_cross_references_fail_the_install(
    render: Callable[[dict[str, Any]], list[Manifest]], override: dict[str, Any], message: str
) -> None:
    # With the dagster subchart enabled (it is absent here, so only our templates render).
    with pytest.raises(helm.HelmRenderError) as err:
        render(deep_merge(aws_profile(), override))
    assert message in str(err.value)


def test_enabled_dagster_renders_when_references_hold(
    render: Callable[[dict[str, Any]], list[Manifest]],
) -> None:
    assert render(aws_profile())
