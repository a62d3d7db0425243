"""templates/configmap-config.yaml: clearlake.yaml and the Data API policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helm_python as helm
import yaml
from helm_support import Manifest, aws_profile, deep_merge, load_yaml, offline

from clearlake.api.policy import parse_policy
from clearlake.project.load import parse_project
from clearlake.settings import DEFAULT_PROJECT

REPO_CONFIG = load_yaml(DEFAULT_PROJECT / "clearlake.yaml")
SAMPLE_POLICY = load_yaml(DEFAULT_PROJECT / "api_policy.yaml")


def _with(config: Any, policy: Any) -> dict[str, Any]:
    return offline(deep_merge(aws_profile(), {"config": config, "dataApi": {"policy": policy}}))


def test_renders_files_the_platform_accepts(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    objects = render(_with(REPO_CONFIG, SAMPLE_POLICY))
    data = get(objects, "ConfigMap", "clearlake-config").data
    assert helm.values_from_yaml(data["clearlake.yaml"]) == REPO_CONFIG
    rendered = yaml.safe_load(data["clearlake.yaml"])
    parse_project(rendered, path=DEFAULT_PROJECT / "clearlake.yaml")
    assert parse_policy(data["api-policy.yaml"], name="clearlake-config").roles
    env = get(objects, "ConfigMap", "clearlake-env").data
    assert env["CLEARLAKE_CONFIG"] == "/etc/clearlake/clearlake.yaml"
    (api,) = get(objects, "Deployment", "clearlake-data-api").spec.template.spec.containers
    assert {e.name: e.value for e in api.env}["CLEARLAKE_API_POLICY"] == (
        "/etc/clearlake/api-policy.yaml"
    )


def test_empty_values_fall_back_to_the_files_in_the_image(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    assert not get(aws_manifests, "ConfigMap", "clearlake-config").data
    env = get(aws_manifests, "ConfigMap", "clearlake-env").data
    assert env["CLEARLAKE_CONFIG"] == "/opt/clearlake/examples/flights/clearlake.yaml"
    (api,) = get(aws_manifests, "Deployment", "clearlake-data-api").spec.template.spec.containers
    assert "CLEARLAKE_API_POLICY" not in {e.name for e in api.env}
