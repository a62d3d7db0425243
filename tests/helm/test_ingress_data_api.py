"""templates/ingress-data-api.yaml: the Data API over HTTPS (reports, gallery, sign-in), its
links built from the same address, never plain HTTP through an Ingress."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from helm_support import DATA_API_POD, Manifest, allowed, aws_profile, find, offline

Render = Callable[[dict[str, Any]], list[Manifest]]
HOST = "clearlake.example.com"
CONTROLLER = {  # ingress-nginx's pods, in their own namespace
    "labels": {"app.kubernetes.io/name": "ingress-nginx"},
    "namespace": "ingress-nginx",
    "namespaceLabels": {"kubernetes.io/metadata.name": "ingress-nginx"},
}


def with_ingress(**ingress: Any) -> dict[str, Any]:
    values = copy.deepcopy(offline(aws_profile()))
    values["dataApi"]["ingress"] = {"enabled": True, "host": HOST, **ingress}
    return values


def test_off_by_default(aws_manifests: list[Manifest]) -> None:
    assert [m for m in aws_manifests if m["kind"] == "Ingress"] == []
    env = find(aws_manifests, "ConfigMap", "clearlake-env")["data"]
    assert env["CLEARLAKE_PUBLIC_URL"] == "http://clearlake-data-api:8000"


def test_https_to_the_api_service_and_links_built_from_that_address(render: Render) -> None:
    values = with_ingress(
        tlsSecretName="clearlake-tls",
        annotations={"cert-manager.io/cluster-issuer": "letsencrypt"},
    )
    values["networkPolicy"]["dataApiAllowedFrom"] = [
        {
            "namespaceLabels": {"kubernetes.io/metadata.name": "ingress-nginx"},
            "podLabels": {"app.kubernetes.io/name": "ingress-nginx"},
        }
    ]
    manifests = render(values)
    ingress = find(manifests, "Ingress", "clearlake-data-api")
    kubernetes_validate.validate(ingress, "1.33.0", strict=True)
    assert ingress["spec"]["tls"] == [{"hosts": [HOST], "secretName": "clearlake-tls"}]
    (rule,) = ingress["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = find(manifests, "Service", "clearlake-data-api")
    assert backend == {"name": "clearlake-data-api", "port": {"number": 8000}}
    assert service["spec"]["ports"][0]["port"] == 8000
    env = find(manifests, "ConfigMap", "clearlake-env")["data"]
    assert env["CLEARLAKE_PUBLIC_URL"] == f"https://{HOST}"  # every report link
    assert allowed(manifests, pod=DATA_API_POD, direction="ingress", peer=CONTROLLER, port=8000)


def test_an_explicit_public_url_wins(render: Render) -> None:
    values = with_ingress(tlsSecretName="clearlake-tls")
    values["dataApi"]["publicUrl"] = "https://reports.example.com/clearlake"
    env = find(render(values), "ConfigMap", "clearlake-env")["data"]
    assert env["CLEARLAKE_PUBLIC_URL"] == "https://reports.example.com/clearlake"


def test_a_certificate_by_annotation_alone_is_enough(render: Render) -> None:
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    manifests = render(with_ingress(annotations={"alb.ingress.kubernetes.io/certificate-arn": arn}))
    ingress = find(manifests, "Ingress", "clearlake-data-api")
    assert "tls" not in ingress["spec"]
    assert ingress["metadata"]["annotations"] == {"alb.ingress.kubernetes.io/certificate-arn": arn}


@pytest.mark.parametrize(
    ("ingress", "message"),
    [
        ({"host": ""}, "dataApi.ingress.host is required"),
        ({}, "set dataApi.ingress.tlsSecretName"),  # plain HTTP carrying tokens: refused
    ],
    ids=["no host", "no certificate"],
)
def test_refused_without_host_or_certificate(
    render: Render, ingress: dict[str, Any], message: str
) -> None:
    with pytest.raises(Exception, match=message):
        render(with_ingress(**ingress))
