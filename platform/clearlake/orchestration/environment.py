"""The resources and executor of one environment (local or cluster), chosen by settings.

Kept apart from the resource classes so the IO manager can depend on them without a
cycle: ``resources`` ← ``io_managers`` ← ``environment``.
"""

from __future__ import annotations

import dagster as dg

from clearlake.orchestration.io_managers import LakeParquetIOManager
from clearlake.orchestration.resources import (
    DropZoneResource,
    LakeResource,
    SettingsResource,
    SourceDatabaseResource,
)
from clearlake.settings import ENV_VARS, Settings

SECRET_SETTINGS = ("api_tokens", "api_mask_key", "api_token")
"""Never copied into a resource's configuration (steps do not need them)."""


def settings_variables(settings: Settings) -> dict[str, str]:
    """The ``CLEARLAKE_*`` variables that give ``settings`` again (secrets left out)."""
    fields = {
        "env": settings.env,
        "home": settings.home,
        "lake_url": settings.lake_url,
        "source_url": settings.source_url,
        "config": settings.config_path,
        "platform_commit": settings.platform_commit,
        "dagster_url": settings.dagster_url,
        "api_policy": settings.api_policy_path,
        "api_tokens_file": settings.api_tokens_file,
        "api_audit_log": settings.api_audit_log,
        "api_url": settings.api_url,
        "public_url": settings.public_url,
        "step_executor": settings.step_executor,
        "drops_url": settings.drops_url,
        "experiment_capacity": settings.experiment_capacity,
    }
    return {ENV_VARS[name]: str(value) for name, value in fields.items() if value is not None}


def resources_for(settings: Settings) -> dict[str, object]:
    """The resources of one environment; secrets stay environment variables (``EnvVar``)."""
    if settings.env == "cluster":
        lake = LakeResource(url=dg.EnvVar(ENV_VARS["lake_url"]))
        production = SourceDatabaseResource(url=dg.EnvVar(ENV_VARS["source_url"]))
        platform = SettingsResource()
    else:
        lake = LakeResource(url=settings.lake_url)
        production = SourceDatabaseResource(url=settings.source_url)
        platform = SettingsResource(variables=settings_variables(settings))
    return {
        "settings": platform,
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
