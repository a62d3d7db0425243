"""templates/deployment-data-api.yaml: the read-only Data API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import (
    Manifest,
    aws_profile,
    deep_merge,
    find,
    mounts_of_claim,
    offline,
    parents_left_to_the_runtime,
    pod_reports_root,
    reports_claim,
)

NAME = "clearlake-data-api"


def _pod(get: Callable[..., Any], objects: list[Manifest]) -> Any:
    return get(objects, "Deployment", NAME).spec.template.spec


def test_serves_http_with_a_health_endpoint(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    (container,) = _pod(get, aws_manifests).containers
    assert container.command == [
        "clearlake",
        "api",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    # Readiness follows the lake (/health lists it); liveness does not, so an S3 outage takes
    # replicas out of the Service instead of restarting every one of them.
    assert (container.readiness_probe.http_get.path, container.readiness_probe.http_get.port) == (
        "/health",
        "http",
    )
    assert (container.liveness_probe.http_get.path, container.liveness_probe.http_get.port) == (
        "/livez",
        "http",
    )


def test_gets_no_source_database_secret(manifests: list[Manifest]) -> None:
    pod = find(manifests, "Deployment", NAME)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    names = {e["name"] for e in container.get("env", [])}
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert "CLEARLAKE_SOURCE_URL" not in names
    assert "clearlake-source" not in secrets


def test_tokens_are_a_mounted_secret_file(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    pod = _pod(get, aws_manifests)
    (container,) = pod.containers
    env = {e.name: e for e in container.env}
    tokens_file = env["CLEARLAKE_API_TOKENS_FILE"].value
    mount = next(m for m in container.volume_mounts if tokens_file.startswith(m.mount_path + "/"))
    assert mount.read_only is True
    volume = next(v for v in pod.volumes if v.name == mount.name)
    assert volume.secret.secret_name == "clearlake-api-tokens"
    assert [item.path for item in volume.secret.items] == [tokens_file.rsplit("/", 1)[1]]


def test_policy_from_the_configmap_and_mask_key_from_a_secret(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    policy = {"version": 1, "roles": {}}
    pod = _pod(get, render(offline(deep_merge(aws_profile(), {"dataApi": {"policy": policy}}))))
    (container,) = pod.containers
    env = {e.name: e for e in container.env}
    assert env["CLEARLAKE_API_POLICY"].value == "/etc/clearlake/api-policy.yaml"
    mask = env["CLEARLAKE_API_MASK_KEY"].value_from.secret_key_ref
    assert (mask.name, mask.key) == ("clearlake-api-mask-key", "mask-key")
    config = next(v for v in pod.volumes if v.config_map is not None)
    assert config.config_map.name == "clearlake-config"


def test_serves_the_reports_claim_read_only(manifests: list[Manifest]) -> None:
    # /reports serves Settings.reports_root: the shared claim, which the API must not change.
    pod = find(manifests, "Deployment", NAME)["spec"]["template"]["spec"]
    claim = reports_claim(manifests)["metadata"]["name"]
    (mount,) = mounts_of_claim(pod, claim)
    assert mount["mountPath"] == pod_reports_root(manifests)
    assert mount["readOnly"] is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["persistentVolumeClaim"] == {"claimName": claim, "readOnly": True}
    assert parents_left_to_the_runtime(pod, mount["mountPath"]) == []


def test_runs_as_the_read_only_identity(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    assert _pod(get, aws_manifests).service_account_name == "clearlake-data-api"


def test_can_be_disabled(render: Callable[[dict[str, Any]], list[Manifest]]) -> None:
    objects = render(offline(deep_merge(aws_profile(), {"dataApi": {"enabled": False}})))
    assert not [o for o in objects if "data-api" in o["metadata"]["name"]]
