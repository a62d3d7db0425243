"""Dagster resources: one interface each, configured per environment by the root module."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.settings import ENV_VARS, Settings


class LakeResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The lake: ``file:///…`` locally, ``s3://bucket/prefix`` on the cluster."""

    url: str

    def store(self) -> LakeStore:
        return LakeStore(self.url)


class SourceDatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The production database replication reads from (read-only, snapshot reads)."""

    url: str

    def database(self) -> SourceDatabase:
        return SourceDatabase(self.url)


class DropZoneResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where scientists drop files to be ingested (one folder per declared dataset)."""

    root: str

    def path(self) -> Path:
        return Path(self.root)


def resources_for(settings: Settings) -> dict[str, object]:
    """The resources of one environment; secrets stay environment variables (``EnvVar``)."""
    from clearlake.io_managers import LakeParquetIOManager

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
