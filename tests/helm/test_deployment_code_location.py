"""templates/deployment-code-location.yaml: the Dagster gRPC code-location server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helm_support import (
    COMMIT,
    TERRAFORM_OUTPUTS,
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

NAME = "clearlake-code-location"


def _container(get: Callable[..., Any], objects: list[Manifest]) -> Any:
    deployment = get(objects, "Deployment", NAME)
    (container,) = deployment.spec.template.spec.containers
    return container


def test_serves_the_definitions_module_over_grpc(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    container = _container(get, aws_manifests)
    assert container.command == [
        "dagster",
        "api",
        "grpc",
        "--module-name",
        "assets.definitions",
        "--host",
        "0.0.0.0",
        "--port",
        "4000",
    ]
    assert [(p.name, p.container_port) for p in container.ports] == [("grpc", 4000)]
    for probe in (container.startup_probe, container.readiness_probe, container.liveness_probe):
        assert probe.grpc.port == 4000
        assert probe.grpc.service == "DagsterApi"


def test_runs_the_commit_image_and_advertises_it_for_runs(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    container = _container(get, aws_manifests)
    image = f"{TERRAFORM_OUTPUTS['image']['repository']}:{COMMIT}"
    assert container.image == image
    env = {e.name: e for e in container.env}
    assert env["DAGSTER_CURRENT_IMAGE"].value == image
    source = env["CLEARLAKE_SOURCE_URL"].value_from.secret_key_ref
    assert (source.name, source.key) == ("clearlake-source", "url")
    assert [ref.config_map_ref.name for ref in container.env_from] == ["clearlake-env"]


def test_mounts_clearlake_yaml_read_only(
    get: Callable[..., Any], aws_manifests: list[Manifest]
) -> None:
    pod = get(aws_manifests, "Deployment", NAME).spec.template.spec
    mounts = {m.mount_path: m for m in _container(get, aws_manifests).volume_mounts}
    assert mounts["/etc/clearlake"].read_only is True
    volumes = {v.name: v for v in pod.volumes}
    assert volumes[mounts["/etc/clearlake"].name].config_map.name == "clearlake-config"
    assert volumes[mounts["/tmp"].name].empty_dir.size_limit == "1Gi"
    assert pod.service_account_name == "clearlake-runs"


def test_writes_reports_to_the_shared_claim(manifests: list[Manifest]) -> None:
    # Sensors and the gallery may write reports: the claim sits where clearlake.settings puts
    # them (reports_root, under the rendered CLEARLAKE_HOME), writable.
    pod = find(manifests, "Deployment", NAME)["spec"]["template"]["spec"]
    (mount,) = mounts_of_claim(pod, reports_claim(manifests)["metadata"]["name"])
    assert mount["mountPath"] == pod_reports_root(manifests)
    assert not mount.get("readOnly")
    # CLEARLAKE_HOME above it stays writable (sensors keep git checkouts in its cache/).
    assert parents_left_to_the_runtime(pod, mount["mountPath"]) == []


def test_a_digest_pins_the_image(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    digest = "sha256:" + "a" * 64
    objects = render(offline(deep_merge(aws_profile(), {"image": {"digest": digest}})))
    container = _container(get, objects)
    assert container.image == f"{TERRAFORM_OUTPUTS['image']['repository']}@{digest}"


def test_config_changes_roll_the_pods(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    before = get(render(offline(aws_profile())), "Deployment", NAME)
    changed = offline(deep_merge(aws_profile(), {"config": {"lake": {"tables": ["flights"]}}}))
    after = get(render(changed), "Deployment", NAME)
    key = "checksum/config"
    assert (
        before.spec.template.metadata.annotations[key]
        != (after.spec.template.metadata.annotations[key])
    )


def test_gets_the_dagster_database_password_and_extra_env(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    # Sensors load the instance on this server; its storage reads DAGSTER_PG_PASSWORD.
    extra = {"codeLocation": {"env": [{"name": "GIT_SSH_COMMAND", "value": "ssh -F /x"}]}}
    objects = render(offline(deep_merge(aws_profile(), extra)))
    (container,) = get(
        objects, "Deployment", "clearlake-code-location"
    ).spec.template.spec.containers
    env = {e.name: e for e in container.env}
    password = env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref
    assert (password.name, password.key) == ("clearlake-dagster-postgresql", "postgresql-password")
    assert env["GIT_SSH_COMMAND"].value == "ssh -F /x"
