"""templates/networkpolicy-code-location.yaml."""

from __future__ import annotations

from helm_support import CODE_LOCATION_POD, RUN_POD, STRANGER_POD, WEBSERVER_POD, Manifest, allowed


def test_grpc_from_dagster_pods_only(manifests: list[Manifest]) -> None:
    for client in (WEBSERVER_POD, RUN_POD):
        peer = {"labels": client}
        assert allowed(manifests, pod=CODE_LOCATION_POD, direction="ingress", peer=peer, port=4000)
    stranger = {"labels": STRANGER_POD}
    assert not allowed(
        manifests, pod=CODE_LOCATION_POD, direction="ingress", peer=stranger, port=4000
    )


def test_reaches_s3_and_the_databases_on_aws(aws_manifests: list[Manifest]) -> None:
    def egress(ip: str, port: int) -> bool:
        return allowed(
            aws_manifests, pod=CODE_LOCATION_POD, direction="egress", peer={"ip": ip}, port=port
        )

    assert egress("52.216.10.1", 443)
    assert egress("10.20.3.4", 5432)
    assert not egress("52.216.10.1", 5432)
    assert not egress("10.20.3.4", 22)


def test_reaches_minio_and_postgres_pods_locally(local_manifests: list[Manifest]) -> None:
    minio = {"labels": {"app.kubernetes.io/name": "minio"}}
    postgres = {"labels": {"app.kubernetes.io/name": "postgresql"}}
    pod = CODE_LOCATION_POD
    assert allowed(local_manifests, pod=pod, direction="egress", peer=minio, port=9000)
    assert allowed(local_manifests, pod=pod, direction="egress", peer=postgres, port=5432)
    assert not allowed(
        local_manifests, pod=pod, direction="egress", peer={"ip": "52.216.10.1"}, port=443
    )
