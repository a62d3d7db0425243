"""Cross references from the ``dagster:`` values to the objects the Clearlake chart creates.

The dagster chart takes plain values, so its run launcher and workspace spell Clearlake's
object names literally (``clearlake-runs``, ``clearlake-env``...). These checks keep the two
halves of the values in step; the chart's ``clearlake.validate`` helper repeats the ones
that would break an install.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearlake_deploy.cluster_paths import CLUSTER_HOME, REPORTS_ROOT
from clearlake_deploy.dagster_values import DagsterValues


@dataclass(frozen=True)
class ChartObjects:
    """What the Clearlake half of the values names (helm_values.ClearlakeValues builds it)."""

    name: str
    runs_service_account: str
    source_secret: dict[str, str]
    code_location_port: int
    reports_claim: str | None  # None: reports disabled
    dagster: DagsterValues


LAUNCHER = "dagster.runLauncher.config.k8sRunLauncher"
"""Where the run launcher's values sit in the dagster subtree (named in every message)."""


def _claim_of(volume: dict[str, Any]) -> str | None:
    claim = volume.get("persistentVolumeClaim") or {}
    name = claim.get("claimName")
    return name if isinstance(name, str) else None


def reference_problems(values: ChartObjects) -> list[str]:
    """Mismatches between the dagster subtree and the objects this chart creates."""
    name = values.name
    dagster = values.dagster
    launcher = dagster.run_launcher.config.k8s_run_launcher
    pod_spec = launcher.run_k8s_config.pod_spec_config
    problems: list[str] = []
    account = pod_spec.get("serviceAccountName", pod_spec.get("service_account_name"))
    if account != values.runs_service_account:
        problems.append(
            f"{LAUNCHER}.runK8sConfig.podSpecConfig.serviceAccountName is {account!r}: set it "
            f"to serviceAccounts.runs.name ({values.runs_service_account!r}) so run and "
            "step pods get the runs role"
        )
    if f"{name}-env" not in {ref.name for ref in launcher.env_config_maps}:
        problems.append(
            f"{LAUNCHER}.envConfigMaps must list {name}-env (the Clearlake environment of run "
            "and step pods)"
        )
    config_volumes = {
        v.get("configMap", {}).get("name") for v in pod_spec.get("volumes", []) if "configMap" in v
    }
    if f"{name}-config" not in config_volumes:
        problems.append(
            f"{LAUNCHER}.runK8sConfig.podSpecConfig.volumes must mount ConfigMap {name}-config "
            "(clearlake.yaml for run and step pods)"
        )
    env = launcher.run_k8s_config.container_config.get("env", [])
    source_refs = [
        item.get("valueFrom", {}).get("secretKeyRef", {})
        for item in env
        if item.get("name") == "CLEARLAKE_SOURCE_URL"
    ]
    wanted_ref = values.source_secret
    if wanted_ref not in source_refs:
        problems.append(
            f"{LAUNCHER}.runK8sConfig.containerConfig.env must set CLEARLAKE_SOURCE_URL from "
            f"secretKeyRef {wanted_ref} (source.secretName/key)"
        )
    servers = dagster.dagster_webserver.workspace.servers
    wanted = (f"{name}-code-location", values.code_location_port)
    if not dagster.dagster_webserver.workspace.enabled or wanted not in {
        (s.host, s.port) for s in servers
    }:
        problems.append(
            "dagster.dagsterWebserver.workspace must be enabled with a server "
            f"host={wanted[0]} port={wanted[1]} (the code-location Service)"
        )
    problems += reports_mount_problems(values)
    if not dagster.postgresql.enabled and not dagster.postgresql.postgresql_host:
        problems.append(
            "dagster.postgresql.postgresqlHost is required when dagster.postgresql.enabled "
            "is false: set it to the RDS address (terraform output metadata_db_address)"
        )
    return problems


def reports_mount_problems(values: ChartObjects) -> list[str]:
    """Run and step pods must mount the reports claim, writable, at the reports root.

    dagster-k8s gives step pods the launcher's ``volumes`` and ``volumeMounts`` too
    (``K8sContainerContext.create_for_run``), so one pair of lists covers both.
    """
    launcher = values.dagster.run_launcher.config.k8s_run_launcher
    root = str(REPORTS_ROOT)
    at_root = [m for m in launcher.volume_mounts if m.get("mountPath") == root]
    if values.reports_claim is None:
        return [
            f"reports.enabled is false but {LAUNCHER}.volumeMounts mounts {m.get('name')!r} at "
            f"{root}: remove that volume and its mount, or enable reports"
            for m in at_root
        ]
    claim = values.reports_claim
    volumes = {v.get("name"): v for v in launcher.volumes}
    mounted = [m for m in at_root if _claim_of(volumes.get(m.get("name")) or {}) == claim]
    if not mounted:
        return [
            f"{LAUNCHER} must mount the reports claim {claim!r} at {root}: add volumes "
            f"[{{name: reports, persistentVolumeClaim: {{claimName: {claim}}}}}] and volumeMounts "
            f"[{{name: reports, mountPath: {root}}}] so run and step pods keep their reports"
        ]
    if any(m.get("readOnly") for m in mounted):
        return [
            f"{LAUNCHER}.volumeMounts mounts the reports claim {claim!r} read-only: run and step "
            "pods write reports there, remove readOnly"
        ]
    home = str(CLUSTER_HOME)
    container_mounts = launcher.run_k8s_config.container_config.get("volumeMounts", [])
    if not [m for m in [*launcher.volume_mounts, *container_mounts] if m.get("mountPath") == home]:
        sub_path = CLUSTER_HOME.relative_to("/tmp")
        return [
            f"{LAUNCHER}.runK8sConfig.containerConfig.volumeMounts must mount {home} "
            f"(CLEARLAKE_HOME) from the tmp emptyDir ({{name: tmp, mountPath: {home}, subPath: "
            f"{sub_path}}}): otherwise the runtime creates it root-owned as the parent of the "
            "reports mount, and run and step pods cannot write their cache"
        ]
    return []
