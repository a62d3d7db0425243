"""Running Clearlake's own assets from the command line, on the configured instance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

from clearlake.errors import ClearlakeError
from clearlake.settings import ensure_dagster_home, load_settings

QUIET_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""In-process runs log to the instance; the terminal shows our progress instead."""


def load_definitions() -> dg.Definitions:
    from assets.definitions import defs

    loaded = defs() if callable(defs) else defs
    return loaded if isinstance(loaded, dg.Definitions) else dg.Definitions.merge(loaded)


def instance() -> dg.DagsterInstance:
    ensure_dagster_home(load_settings())
    return dg.DagsterInstance.get()


def materialize(
    keys: Sequence[dg.AssetKey],
    *,
    partition_range: tuple[dt.date, dt.date] | None = None,
    partition_key: str | None = None,
    run_config: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    dagster_instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise ``keys`` in-process, recorded in the instance like any other run."""
    definitions = load_definitions()
    all_tags = dict(tags or {})
    if partition_range is not None:
        all_tags["dagster/asset_partition_range_start"] = partition_range[0].isoformat()
        all_tags["dagster/asset_partition_range_end"] = partition_range[1].isoformat()
    config = {**QUIET_RUN_CONFIG, **(run_config or {})}
    assets = [
        a
        for a in definitions.assets or []
        if isinstance(a, dg.AssetsDefinition | dg.AssetSpec | dg.SourceAsset)
    ]
    return dg.materialize(
        assets,
        selection=list(keys),
        instance=dagster_instance or instance(),
        resources=definitions.resources,
        partition_key=partition_key,
        run_config=config,
        tags=all_tags,
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The user-facing cause of a failed in-process run (our error's own message)."""
    ours = {c.__name__ for c in _subclasses(ClearlakeError)}
    for event in result.get_step_failure_events():
        chain = []
        error = event.step_failure_data.error
        while error is not None:
            chain.append(error)
            error = error.cause
        chosen = next((e for e in chain if e.cls_name in ours), chain[-1] if chain else None)
        if chosen is not None:
            return chosen.message.strip().split("\n")[0].split(": ", 1)[-1]
    return "see the run's logs in the Dagster UI (`clearlake ui`)"


def _subclasses(cls: type) -> set[type]:
    found: set[type] = {cls}
    sub: type
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found
