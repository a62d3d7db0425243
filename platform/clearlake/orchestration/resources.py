"""Dagster resources: one interface each, configured per environment by the root module."""

from __future__ import annotations

import dagster as dg

from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore


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
