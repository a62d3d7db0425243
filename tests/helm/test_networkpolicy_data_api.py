"""templates/networkpolicy-data-api.yaml."""

from __future__ import annotations

from helm_support import DATA_API_POD, Manifest, allowed

CLIENT = {
    "labels": {"clearlake.io/data-api-client": "true"},
    "namespace": "notebooks",
    "namespaceLabels": {"kubernetes.io/metadata.name": "notebooks"},
}


def test_only_labelled_clients_may_call_it(manifests: list[Manifest]) -> None:
    assert allowed(manifests, pod=DATA_API_POD, direction="ingress", peer=CLIENT, port=8000)
    unlabelled = {**CLIENT, "labels": {"app": "notebook"}}
    assert not allowed(manifests, pod=DATA_API_POD, direction="ingress", peer=unlabelled, port=8000)


def test_reaches_the_lake_but_no_database(aws_manifests: list[Manifest]) -> None:
    def egress(ip: str, port: int) -> bool:
        return allowed(
            aws_manifests, pod=DATA_API_POD, direction="egress", peer={"ip": ip}, port=port
        )

    assert egress("52.216.10.1", 443)
    assert not egress("10.20.3.4", 5432)
