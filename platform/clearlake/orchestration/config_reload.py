"""Configuration edits reach a running UI: watch the project's files, reload the location.

A code location loads the project once; Dagster does not watch files, so an edit of
``clearlake.yaml`` (or of a feature's SQL) under ``clearlake ui`` changed nothing until
someone pressed "Reload" in the UI. :class:`ConfigWatcher` polls the files' modification
times (a poll a second costs nothing and needs no extra dependency), validates the edited
project first — an invalid edit is reported in one line and *not* loaded, so the UI keeps
the previous definitions — and then reloads the code location through Dagster's public
GraphQL client, exactly the UI's "Reload" button.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import yaml
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError
from dagster_graphql.client.utils import ReloadRepositoryLocationStatus

from clearlake.errors import ClearlakeError, ConfigurationError
from clearlake.orchestration.code_location import WORKSPACE
from clearlake.project.load import config_file, load_project

RELOADED = "configuration changed: reloaded"


class ReloadError(ClearlakeError):
    """The running Dagster webserver could not reload the code location."""


def location_name(workspace: Path = WORKSPACE) -> str:
    """The workspace's code location name (``location_name``, as the UI shows it)."""
    try:
        (entry,) = yaml.safe_load(workspace.read_text())["load_from"]
        return str(entry["python_module"]["location_name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{workspace} must declare one python_module code location with a location_name "
            f"({exc})."
        ) from None


def reload_location(host: str, port: int, location: str | None = None) -> None:
    """Reload the code location of the webserver at ``host:port`` (the UI's "Reload")."""
    name = location or location_name()
    try:
        info = DagsterGraphQLClient(host, port_number=port, timeout=120).reload_repository_location(
            name
        )
    except (DagsterGraphQLClientError, OSError) as exc:
        raise ReloadError(
            f"Could not reach the Dagster UI at http://{host}:{port} to reload {name!r} "
            f"({' '.join(str(exc).split())[:200]}). Is `clearlake ui` running on that port?"
        ) from None
    if info.status != ReloadRepositoryLocationStatus.SUCCESS:
        raise ReloadError(
            f"The Dagster UI could not load code location {name!r}: "
            f"{' '.join((info.message or 'no message').split())[:300]}"
        )


def watched_files(config: Path) -> list[Path]:
    """The project's configuration file and the files it names (feature SQL)."""
    file = config_file(config)
    try:
        project = load_project(file)
    except ConfigurationError:
        return [file]
    sql = [project.resolve(f.sql) for f in project.config.features.values() if f.sql]
    return [file, *sorted(set(sql))]


def _stamps(files: list[Path]) -> dict[Path, int | None]:
    stamps: dict[Path, int | None] = {}
    for file in files:
        try:
            stamps[file] = file.stat().st_mtime_ns
        except OSError:
            stamps[file] = None
    return stamps


class ConfigWatcher:
    """Polls the project's files; on a change, validates and reloads (see the module)."""

    def __init__(self, config: Path, reload: Callable[[], None]) -> None:
        self.config = config
        self.reload = reload
        self.files = watched_files(config)
        self.stamps = _stamps(self.files)

    def check(self) -> str | None:
        """One poll: None when nothing changed, else the one line to show."""
        stamps = _stamps(self.files)
        if stamps == self.stamps:
            return None
        try:
            load_project(self.config)
        except ConfigurationError as exc:
            self.stamps = stamps
            return f"configuration error (the UI keeps the previous definitions): {exc}"
        self.files = watched_files(self.config)
        self.stamps = _stamps(self.files)
        try:
            self.reload()
        except ReloadError as exc:
            return f"configuration changed, but not reloaded: {exc}"
        return RELOADED

    def run(self, stop: threading.Event, report: Callable[[str], None], interval: float) -> None:
        while not stop.wait(interval):
            line = self.check()
            if line:
                report(line)
