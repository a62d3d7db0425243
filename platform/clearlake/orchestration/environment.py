"""The resources and executor of one environment (local or cluster), chosen by settings.

Kept apart from the resource classes so the IO manager can depend on them without a
cycle: ``resources`` ← ``io_managers`` ← ``environment``.
"""

from __future__ import annotations

import dagster as dg

from clearlake.orchestration.io_managers import LakeParquetIOManager
from clearlake.orchestration.resources import DropZoneResource, LakeResource, SourceDatabaseResource
from clearlake.settings import ENV_VARS, Settings


def resources_for(settings: Settings) -> dict[str, object]:
    """The resources of one environment; secrets stay environment variables (``EnvVar``)."""
    if settings.env == "cluster":
        lake = LakeResource(url=dg.EnvVar(ENV_VARS["lake_url"]))
        production = SourceDatabaseResource(url=dg.EnvVar(ENV_VARS["source_url"]))
    else:
        lake = LakeResource(url=settings.lake_url)
        production = SourceDatabaseResource(url=settings.source_url)
    return {
        "lake": lake,
        "production": production,
        "io_manager": LakeParquetIOManager(lake=lake),
        "drop_zone": DropZoneResource(root=str(settings.drop_root)),
    }


def executor_for(settings: Settings) -> dg.ExecutorDefinition | None:
    """Step isolation on the cluster (one Kubernetes Job per step); Dagster's default here."""
    if settings.env == "cluster" and settings.step_executor == "process":
        return dg.multi_or_in_process_executor  # Dagster's default: a process per step
    if settings.env == "cluster":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    return None
