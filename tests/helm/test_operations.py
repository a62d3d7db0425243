"""Operations objects: disruption budgets, the first-load Job, oauth2-proxy and the Ingress,
rendered and validated against the Kubernetes 1.33 schemas."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from helm_support import Manifest, aws_profile, find, offline

Render = Callable[[dict[str, Any]], list[Manifest]]


def test_every_long_running_component_has_a_disruption_budget(
    aws_manifests: list[Manifest],
) -> None:
    budgets = {
        m["metadata"]["name"]: m for m in aws_manifests if m["kind"] == "PodDisruptionBudget"
    }
    assert set(budgets) == {
        "clearlake-code-location",
        "clearlake-data-api",
        "clearlake-dagster-webserver",
        "clearlake-dagster-daemon",
    }
    for budget in budgets.values():
        kubernetes_validate.validate(budget, "1.33.0", strict=True)
        assert budget["spec"]["maxUnavailable"] == 1
    assert budgets["clearlake-dagster-daemon"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "dagster",
        "component": "dagster-daemon",
    }
    code = find(aws_manifests, "Deployment", "clearlake-code-location")
    selector = code["spec"]["selector"]["matchLabels"]
    assert budgets["clearlake-code-location"]["spec"]["selector"]["matchLabels"] == selector


def test_the_first_load_is_a_suspended_cronjob_running_clearlake_build(
    aws_manifests: list[Manifest],
) -> None:
    cron = find(aws_manifests, "CronJob", "clearlake-build")
    kubernetes_validate.validate(cron, "1.33.0", strict=True)
    assert cron["spec"]["suspend"] is True  # only `kubectl create job --from=cronjob/…` runs it
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["clearlake", "build"]
    assert {e["name"] for e in container["env"]} >= {"CLEARLAKE_SOURCE_URL", "DAGSTER_PG_PASSWORD"}
    instance = next(v for v in pod["volumes"] if v["name"] == "instance")
    assert instance["configMap"]["name"] == "clearlake-instance"  # the dagster chart's dagster.yaml


def test_oauth2_proxy_and_a_tls_ingress_in_front_of_the_ui(render: Render) -> None:
    values = copy.deepcopy(offline(aws_profile()))
    values["oauth2Proxy"] = {
        "enabled": True,
        "oidcIssuerUrl": "https://login.example.com",
        "clientId": "clearlake",
    }
    values["ingress"] = {
        "enabled": True,
        "host": "dagster.example.com",
        "tlsSecretName": "dagster-tls",
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
    }
    manifests = render(values)
    ingress = find(manifests, "Ingress", "clearlake-dagster-webserver")
    proxy = find(manifests, "Deployment", "clearlake-oauth2-proxy")
    for obj in (ingress, proxy, find(manifests, "Service", "clearlake-oauth2-proxy")):
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
    assert ingress["spec"]["tls"] == [
        {"hosts": ["dagster.example.com"], "secretName": "dagster-tls"}
    ]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "clearlake-oauth2-proxy"
    args = proxy["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--upstream=http://clearlake-dagster-webserver:80" in args
    assert "--oidc-issuer-url=https://login.example.com" in args


def test_an_ingress_without_authentication_is_refused(render: Render) -> None:
    values = copy.deepcopy(offline(aws_profile()))
    values["ingress"] = {"enabled": True, "host": "dagster.example.com"}
    with pytest.raises(Exception, match="no authentication: enable oauth2Proxy"):
        render(values)


def test_dagsters_password_can_be_synced_by_external_secrets(render: Render) -> None:
    values = copy.deepcopy(offline(aws_profile()))
    values["externalSecrets"] = {"enabled": True, "dagsterPasswordKey": "clearlake/dagster-db"}
    (synced,) = [m for m in render(values) if m["kind"] == "ExternalSecret"]
    assert synced["metadata"]["name"] == "clearlake-dagster-postgresql"  # the Secret Dagster reads
    (item,) = synced["spec"]["data"]
    assert item == {
        "secretKey": "postgresql-password",
        "remoteRef": {"key": "clearlake/dagster-db", "property": "password"},
    }
    assert not [m for m in render(offline(aws_profile())) if m["kind"] == "ExternalSecret"]
