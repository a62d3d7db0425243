"""The command line's access to the project's definitions and its Dagster instance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg
import typer

from clearlake.orchestration import runs
from clearlake.orchestration.code_location import load_definitions
from clearlake.orchestration.run_sweep import fail_dead_runs
from clearlake.orchestration.runs import failure_message
from clearlake.settings import ensure_dagster_home, load_settings

__all__ = ["failure_message", "instance", "load_definitions", "materialize"]


def instance() -> dg.DagsterInstance:
    """The configured instance, with runs left unfinished by a killed process marked failed."""
    ensure_dagster_home(load_settings())
    configured = dg.DagsterInstance.get()
    sweep(configured)
    return configured


def sweep(configured: dg.DagsterInstance) -> None:
    for run_id in fail_dead_runs(configured):
        typer.echo(
            f"note: run {run_id} was left unfinished by a killed process: marked failed", err=True
        )


def materialize(
    keys: Sequence[dg.AssetKey],
    *,
    partition_range: tuple[dt.date, dt.date] | None = None,
    partition_key: str | None = None,
    run_config: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise the project's assets ``keys`` on the configured instance."""
    return runs.materialize(
        load_definitions(),
        instance(),
        keys,
        partition_range=partition_range,
        partition_key=partition_key,
        run_config=run_config,
        tags=tags,
    )
