"""Dagster resources: one interface each, configured per environment by the root module."""

from __future__ import annotations

import dagster as dg

from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.settings import Settings, load_settings


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
    """A local folder, or ``s3://bucket/prefix`` (one prefix per dataset below it)."""


class SettingsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The platform's settings, handed to steps instead of read from the environment in
    their bodies: the root module decides them once (``environment.resources_for``)."""

    variables: dict[str, str] | None = None
    """The ``CLEARLAKE_*`` variables the settings are made from; None on the cluster, where
    each pod's own environment (set by the chart, secrets included) is read when a step
    asks — never baked into the run's configuration."""

    def settings(self) -> Settings:
        return load_settings(self.variables)
