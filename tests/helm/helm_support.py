"""Helpers of the chart tests: render offline (Helm v4 SDK), load, evaluate policies.

The dagster dependency cannot be downloaded here, so every render sets
``dagster.enabled=false``; the ``dagster:`` values are checked on their own in
test_dagster_values.py. Two install profiles are rendered: AWS (values-aws.yaml plus
what the Terraform example outputs) and local (values-local.yaml).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from ipaddress import ip_address, ip_network
from pathlib import Path, PurePosixPath
from typing import Any

import helm_python as helm
import kubernetes.client
import yaml

from clearlake.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "helm" / "clearlake"
RELEASE = "clearlake"
NAMESPACE = "clearlake"
COMMIT = "0123456789abcdef0123456789abcdef01234567"

# What `terraform output -raw helm_values` of terraform/examples/complete yields.
ROLE_PREFIX = "arn:aws:iam::123456789012:role/"
TERRAFORM_OUTPUTS: dict[str, Any] = {
    "image": {"repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clearlake"},
    "lake": {"url": "s3://clearlake-prod-lake/lake", "region": "eu-west-1"},
    "serviceAccounts": {
        "runs": {"roleArn": "arn:aws:iam::123456789012:role/clearlake-prod-runs"},
        "dataApi": {"roleArn": "arn:aws:iam::123456789012:role/clearlake-prod-data-api"},
    },
    "networkPolicy": {"databases": {"cidrs": ["10.20.0.0/16"]}},
    "reports": {"storageClass": {"parameters": {"fileSystemId": "fs-0123456789abcdef0"}}},
    "dagster": {
        "serviceAccount": {
            "annotations": {"eks.amazonaws.com/role-arn": f"{ROLE_PREFIX}clearlake-prod-dagster"}
        },
        "postgresql": {
            "postgresqlHost": "clearlake-prod.abc123.eu-west-1.rds.amazonaws.com",
            "postgresqlUsername": "dagster_app",
            "postgresqlDatabase": "dagster",
        },
        "computeLogManager": {
            "config": {
                "s3ComputeLogManager": {"bucket": "clearlake-prod-lake", "region": "eu-west-1"}
            }
        },
    },
}

Manifest = dict[str, Any]

(DAGSTER_DEPENDENCY,) = [
    d for d in yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["dependencies"]
    if d["name"] == "dagster"
]  # fmt: skip
SUBCHART_PACKAGE = CHART_DIR / "charts" / f"dagster-{DAGSTER_DEPENDENCY['version']}.tgz"
"""The packaged dagster chart as `helm dependency build` leaves it (kept out of git)."""
SUBCHART_MISSING = (
    f"{SUBCHART_PACKAGE.relative_to(REPO)} is not here (the dagster chart "
    f"{DAGSTER_DEPENDENCY['version']} cannot be fetched offline). Fetch it with network access: "
    f"`helm pull dagster --repo {DAGSTER_DEPENDENCY['repository']} --version "
    f"{DAGSTER_DEPENDENCY['version']} -d helm/clearlake/charts`, or without the helm CLI "
    f"`uv run python -c \"import helm_python as h; h.pull('dagster', repo_url="
    f"'{DAGSTER_DEPENDENCY['repository']}', version='{DAGSTER_DEPENDENCY['version']}', "
    "destination='helm/clearlake/charts')\"`"
)


def load_yaml(path: Path) -> dict[str, Any]:
    """A values file as Helm reads it (its YAML rules: dates stay strings, for one)."""
    return helm.values_from_yaml(path.read_text())


def deep_merge(base: dict[str, Any], *overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge values files the way `helm -f a -f b` does: maps merge, the rest is replaced."""
    merged = copy.deepcopy(base)
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def offline(values: dict[str, Any]) -> dict[str, Any]:
    """The same values with the (undownloadable) dagster subchart switched off."""
    return deep_merge(values, {"dagster": {"enabled": False}})


def aws_profile() -> dict[str, Any]:
    return deep_merge(
        load_yaml(CHART_DIR / "values-aws.yaml"), TERRAFORM_OUTPUTS, {"image": {"tag": COMMIT}}
    )


def local_profile() -> dict[str, Any]:
    return deep_merge(load_yaml(CHART_DIR / "values-local.yaml"), {"image": {"tag": COMMIT}})


def parse_manifests(rendered: dict[str, str]) -> list[Manifest]:
    objects: list[Manifest] = []
    for template, text in sorted(rendered.items()):
        for document in yaml.safe_load_all(text):
            if document is None:
                continue
            assert isinstance(document, dict), f"{template} rendered a non-object: {document!r}"
            objects.append(document)
    return objects


class _Response:
    """What ApiClient.deserialize reads: an HTTP response body."""

    def __init__(self, obj: Manifest) -> None:
        self.data = json.dumps(obj)


def typed(obj: Manifest) -> Any:
    """The kubernetes client model of a manifest, e.g. V1Deployment for apps/v1 Deployment."""
    version = obj["apiVersion"].split("/")[-1]
    model = f"{version[0].upper()}{version[1:]}{obj['kind']}"
    assert hasattr(kubernetes.client, model), f"no kubernetes client model {model}"
    return kubernetes.client.ApiClient().deserialize(_Response(obj), model)


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, got {len(matches)}"
    return matches[0]


def pod_reports_root(objects: list[Manifest]) -> str:
    """Settings.reports_root inside the pods: clearlake.settings applied to the rendered
    environment ConfigMap (CLEARLAKE_HOME taken as the pods see it, not resolved here)."""
    env = find(objects, "ConfigMap", "clearlake-env")["data"]
    settings = dataclasses.replace(load_settings(env), home=Path(env["CLEARLAKE_HOME"]))
    return settings.reports_root.as_posix()


def reports_claim(objects: list[Manifest]) -> Manifest:
    """The one PersistentVolumeClaim the chart renders: the reports claim."""
    (claim,) = [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    return claim


def mounts_of_claim(pod: Manifest, claim: str) -> list[Manifest]:
    """The mounts, over all containers, of the pod volumes backed by `claim` (plain dicts)."""
    volumes = {
        v["name"]
        for v in pod.get("volumes", [])
        if (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
    }
    return [
        mount
        for container in pod["containers"]
        for mount in container.get("volumeMounts", [])
        if mount["name"] in volumes
    ]


def parents_left_to_the_runtime(pod: Manifest, path: str) -> list[str]:
    """Directories above the mount at `path` that no volume of the pod mounts, up to the
    nearest one that is mounted, in every container mounting `path`. The container runtime
    creates such mount-point parents itself, as root with mode 0755: unwritable for the
    pods' user. Each mounted parent must come from an emptyDir (writable, like /tmp)."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    left: list[str] = []
    for container in pod["containers"]:
        mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
        if path not in mounts:
            continue
        parent = PurePosixPath(path).parent
        while str(parent) not in mounts and parent != PurePosixPath("/"):
            left.append(f"{container['name']}:{parent}")
            parent = parent.parent
        if str(parent) in mounts:
            source = volumes[mounts[str(parent)]["name"]]
            assert "emptyDir" in source, f"{parent} is mounted from {source}, not an emptyDir"
    return left


# --- A small NetworkPolicy evaluator (matchLabels, ipBlock and TCP/UDP ports only) ---------
Peer = dict[str, Any]
"""{"ip": "10.0.0.1"} or {"labels": {...}, "namespace": "clearlake", "namespaceLabels": {...}}"""


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in wanted.items())


def _peer_matches(rule_peer: dict[str, Any], peer: Peer) -> bool:
    if "ipBlock" in rule_peer:
        return "ip" in peer and ip_address(peer["ip"]) in ip_network(rule_peer["ipBlock"]["cidr"])
    if "ip" in peer:
        return False
    if "namespaceSelector" in rule_peer:
        namespace_ok = _selects(rule_peer["namespaceSelector"], peer.get("namespaceLabels", {}))
    else:
        namespace_ok = peer.get("namespace", NAMESPACE) == NAMESPACE
    pod_ok = "podSelector" not in rule_peer or _selects(rule_peer["podSelector"], peer["labels"])
    return namespace_ok and pod_ok


def _rule_allows(rule: dict[str, Any], side: str, peer: Peer, port: int) -> bool:
    peers = rule.get(side)
    ports = rule.get("ports")
    peer_ok = not peers or any(_peer_matches(p, peer) for p in peers)
    port_ok = not ports or any(p.get("port") == port for p in ports)
    return peer_ok and port_ok


def allowed(
    objects: list[Manifest], *, pod: dict[str, str], direction: str, peer: Peer, port: int
) -> bool:
    """Whether the policies let `pod` (labels, release namespace) talk to/from `peer`."""
    policy_type, side, rules_key = {
        "egress": ("Egress", "to", "egress"),
        "ingress": ("Ingress", "from", "ingress"),
    }[direction]
    policies = [
        o["spec"]
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and policy_type in o["spec"]["policyTypes"]
        and _selects(o["spec"]["podSelector"], pod)
    ]
    if not policies:
        return True
    return any(
        _rule_allows(rule, side, peer, port)
        for spec in policies
        for rule in spec.get(rules_key) or []
    )


CODE_LOCATION_POD = {
    "app.kubernetes.io/name": "clearlake",
    "app.kubernetes.io/instance": RELEASE,
    "clearlake.io/component": "code-location",
}
DATA_API_POD = {**CODE_LOCATION_POD, "clearlake.io/component": "data-api"}
RUN_POD = {
    "app.kubernetes.io/name": "dagster",
    "app.kubernetes.io/component": "run_worker",
    "clearlake.io/component": "run",
}
WEBSERVER_POD = {
    "app.kubernetes.io/name": "dagster",
    "app.kubernetes.io/instance": RELEASE,
    "component": "dagster-webserver",
}
STRANGER_POD = {"app": "something-else"}
