"""templates/networkpolicy-dagster.yaml: webserver, daemon, run and step pods."""

from __future__ import annotations

from helm_support import CODE_LOCATION_POD, RUN_POD, WEBSERVER_POD, Manifest, allowed


def test_dagster_pods_reach_the_code_location_db_s3_and_api(
    aws_manifests: list[Manifest],
) -> None:
    for pod in (RUN_POD, WEBSERVER_POD):
        code_location = {"labels": CODE_LOCATION_POD}
        assert allowed(aws_manifests, pod=pod, direction="egress", peer=code_location, port=4000)
        for ip, port in [("10.20.3.4", 5432), ("52.216.10.1", 443), ("172.20.0.1", 443)]:
            assert allowed(aws_manifests, pod=pod, direction="egress", peer={"ip": ip}, port=port)
        assert not allowed(
            aws_manifests, pod=pod, direction="egress", peer={"ip": "10.20.3.4"}, port=22
        )


def test_run_pods_accept_no_connections(manifests: list[Manifest]) -> None:
    peer = {"labels": WEBSERVER_POD}
    assert not allowed(manifests, pod=RUN_POD, direction="ingress", peer=peer, port=8080)
