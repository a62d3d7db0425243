"""clearlake_deploy.helm_values: the typed values and the schema generated from them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from pydantic import ValidationError

from clearlake_deploy.helm_values import ClearlakeValues, main, values_json_schema

CHART = Path(__file__).resolve().parents[2] / "helm" / "clearlake"
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def valid() -> dict[str, Any]:
    """Chart defaults plus the required keys, as Helm would merge them."""
    with helm.Chart.load(CHART) as chart:
        return chart.merge_values(
            {
                "image": {"tag": COMMIT},
                "lake": {"url": "s3://lake/lake"},
                "dagster": {
                    "postgresql": {"postgresqlHost": "db.internal"},
                    "computeLogManager": {"config": {"s3ComputeLogManager": {"bucket": "lake"}}},
                },
            }
        )


def _set(values: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    *parents, leaf = dotted.split(".")
    target = changed
    for key in parents:
        target = target[key]
    target[leaf] = value
    return changed


def test_complete_values_validate(valid: dict[str, Any]) -> None:
    values = ClearlakeValues.model_validate(valid)
    assert values.image.tag == COMMIT
    assert values.code_location.port == 4000
    assert values.dagster.run_launcher.config.k8s_run_launcher.fail_pod_on_run_failure


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("codeLocation.replica", 2, "codeLocation.replica\n  Extra inputs are not permitted"),
        ("image.tag", "latest", "image.tag\n  String should match pattern"),
        ("codeLocation.resources.limits.memory", "2 GB", "codeLocation.resources.limits.memory"),
        (
            "dataApi.resources.requests.cpu",
            "2",
            "requests.cpu (2) is above limits.cpu (1): lower the request or raise the limit",
        ),
        (
            "networkPolicy.dataApiAllowedFrom",
            [{}],
            "a peer needs cidr, namespaceLabels or podLabels",
        ),
        (
            "networkPolicy.dataApiAllowedFrom",
            [{"cidr": "10.0.0.0/8", "podLabels": {"a": "b"}}],
            "a peer is either a cidr or namespace/pod labels, not both",
        ),
        ("reports.size", "0", "reports.size (0) must be above zero"),
        ("reports.accessModes", ["ReadWriteOncePod"], "ReadWriteOncePod lets a single pod"),
        ("reports.accessModes", ["ReadOnlyMany"], "reports.accessModes must include"),
        (
            "reports.storageClass",
            {"create": True},
            "reports.storageClass.provisioner is empty: name the CSI driver",
        ),
        (
            "reports.storageClass",
            {"create": True, "provisioner": "efs.csi.aws.com", "parameters": {}},
            "fileSystemId ('') must be an EFS file system id (fs-...) for efs.csi.aws.com: set it "
            "to the terraform output reports_file_system_id",
        ),
        (
            "reports.storageClass",
            {
                "create": True,
                "provisioner": "efs.csi.aws.com",
                "parameters": {"fileSystemId": "fs-0123456789abcdef0", "uid": "0"},
            },
            "reports.storageClass.parameters.uid: remove it, the chart sets uid and gid",
        ),
    ],
)
def test_invalid_values_name_the_key(
    valid: dict[str, Any], dotted: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        ClearlakeValues.model_validate(_set(valid, dotted, value))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        (
            "serviceAccounts.runs.name",
            "runner",
            "set it to serviceAccounts.runs.name ('runner') so run and step pods get the runs role",
        ),
        (
            "dagster.runLauncher.config.k8sRunLauncher.envConfigMaps",
            [],
            "envConfigMaps must list clearlake-env",
        ),
        ("source.secretName", "prod-db", "set CLEARLAKE_SOURCE_URL from secretKeyRef"),
        ("codeLocation.port", 4100, "host=clearlake-code-location port=4100"),
        ("dagster.postgresql.postgresqlHost", "", "terraform output metadata_db_address"),
        (
            "dagster.runLauncher.config.k8sRunLauncher.runK8sConfig.podSpecConfig.volumes",
            [],
            "must mount ConfigMap clearlake-config",
        ),
        (
            "dagster.runLauncher.config.k8sRunLauncher.volumes",
            [],
            "must mount the reports claim 'clearlake-reports' at /tmp/clearlake/reports",
        ),
        (
            "reports.existingClaim",
            "team-reports",
            "must mount the reports claim 'team-reports' at /tmp/clearlake/reports",
        ),
        (
            "dagster.runLauncher.config.k8sRunLauncher.volumeMounts",
            [{"name": "reports", "mountPath": "/tmp/clearlake/reports", "readOnly": True}],
            "mounts the reports claim 'clearlake-reports' read-only",
        ),
        (
            "dagster.runLauncher.config.k8sRunLauncher.runK8sConfig.containerConfig.volumeMounts",
            [{"name": "tmp", "mountPath": "/tmp"}],
            "must mount /tmp/clearlake (CLEARLAKE_HOME) from the tmp emptyDir",
        ),
        (
            "reports.enabled",
            False,
            "reports.enabled is false but dagster.runLauncher.config.k8sRunLauncher.volumeMounts "
            "mounts 'reports' at /tmp/clearlake/reports",
        ),
    ],
)
def test_dagster_subtree_must_name_our_objects(
    valid: dict[str, Any], dotted: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        ClearlakeValues.model_validate(_set(valid, dotted, value))
    assert message in str(err.value)


def test_storage_class_name_and_a_created_class_exclude_each_other(
    valid: dict[str, Any],
) -> None:
    storage_class = {
        "create": True,
        "provisioner": "efs.csi.aws.com",
        "parameters": {"fileSystemId": "fs-0123456789abcdef0"},
    }
    values = _set(
        _set(valid, "reports.storageClass", storage_class), "reports.storageClassName", ""
    )
    with pytest.raises(ValidationError) as err:
        ClearlakeValues.model_validate(values)
    assert "reports.storageClassName and reports.storageClass.create are exclusive" in str(
        err.value
    )


def test_an_existing_claim_named_in_both_places_validates(valid: dict[str, Any]) -> None:
    volumes = [{"name": "reports", "persistentVolumeClaim": {"claimName": "team-reports"}}]
    values = _set(valid, "reports.existingClaim", "team-reports")
    values = _set(values, "dagster.runLauncher.config.k8sRunLauncher.volumes", volumes)
    assert ClearlakeValues.model_validate(values).reports_claim == "team-reports"


def test_references_are_not_checked_without_dagster(valid: dict[str, Any]) -> None:
    values = _set(_set(valid, "serviceAccounts.runs.name", "runner"), "dagster.enabled", False)
    assert ClearlakeValues.model_validate(values).service_accounts.runs.name == "runner"


def test_dagster_subtree_accepts_keys_of_the_dagster_chart(valid: dict[str, Any]) -> None:
    # Keys only the dagster chart knows pass through to its own schema.
    values = _set(valid, "dagster.dagsterWebserver.replicaCount", 2)
    extra = ClearlakeValues.model_validate(values).dagster.dagster_webserver.model_extra
    assert extra is not None and extra["replicaCount"] == 2


def test_schema_is_2020_12_closed_and_requires_what_has_no_default() -> None:
    schema = values_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"image", "lake", "dagster"}
    assert schema["$defs"]["ImageValues"]["required"] == ["repository", "tag"]


def test_generator_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    main()
    assert json.loads(capsys.readouterr().out) == values_json_schema()
