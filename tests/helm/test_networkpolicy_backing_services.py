"""templates/networkpolicy-backing-services.yaml: in-namespace MinIO and PostgreSQL (kind)."""

from __future__ import annotations

from helm_support import CODE_LOCATION_POD, DATA_API_POD, RUN_POD, WEBSERVER_POD, Manifest, allowed

MINIO_POD = {"app.kubernetes.io/name": "minio"}
POSTGRES_POD = {"app.kubernetes.io/name": "postgresql"}


def test_local_profile_reaches_in_namespace_minio_and_postgresql(
    local_manifests: list[Manifest],
) -> None:
    needs = [
        (CODE_LOCATION_POD, (MINIO_POD, 9000)),
        (CODE_LOCATION_POD, (POSTGRES_POD, 5432)),
        (RUN_POD, (MINIO_POD, 9000)),
        (RUN_POD, (POSTGRES_POD, 5432)),
        (WEBSERVER_POD, (POSTGRES_POD, 5432)),
        (DATA_API_POD, (MINIO_POD, 9000)),  # the lake only: no database for the Data API
    ]
    for client, (server, port) in needs:
        peer, back = {"labels": server}, {"labels": client}
        assert allowed(local_manifests, pod=client, direction="egress", peer=peer, port=port)
        assert allowed(local_manifests, pod=server, direction="ingress", peer=back, port=port)


def test_only_their_ports_are_open(local_manifests: list[Manifest]) -> None:
    peer = {"labels": CODE_LOCATION_POD}
    assert not allowed(local_manifests, pod=MINIO_POD, direction="ingress", peer=peer, port=22)


def test_aws_profile_has_no_in_namespace_backing_services(aws_manifests: list[Manifest]) -> None:
    names = [o["metadata"]["name"] for o in aws_manifests if o["kind"] == "NetworkPolicy"]
    assert "clearlake-object-store" not in names and "clearlake-databases" not in names
