"""In-process Dagster runs of Clearlake's assets, recorded in an instance like any run.

Used by the command line and the demo loop; the caller passes the Definitions, so the
library never imports the ``assets`` package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

from clearlake.errors import ClearlakeError
from clearlake.orchestration.run_sweep import owner_tags

QUIET_RUN_CONFIG: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""In-process runs log to the instance; the terminal shows our own progress instead."""


RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """Tags that make one run cover the days ``first``..``last`` (single-run backfill)."""
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def materialize(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: Sequence[dg.AssetKey],
    *,
    partition_range: tuple[dt.date, dt.date] | None = None,
    partition_key: str | None = None,
    run_config: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise ``keys`` in-process; never raises on a failed run (check ``success``)."""
    all_tags = {**owner_tags(), **(tags or {})}
    if partition_range is not None:
        all_tags.update(range_tags(*partition_range))
    assets = [
        a
        for a in definitions.assets or []
        if isinstance(a, dg.AssetsDefinition | dg.AssetSpec | dg.SourceAsset)
    ]
    return dg.materialize(
        assets,
        selection=list(keys),
        instance=instance,
        resources=definitions.resources,
        partition_key=partition_key,
        run_config={**QUIET_RUN_CONFIG, **(run_config or {})},
        tags=all_tags,
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult | dg.ExecuteJobResult) -> str:
    """The user-facing cause of a failed run: our own error's message when there is one."""
    ours = {c.__name__ for c in _subclasses(ClearlakeError)}
    for event in result.get_step_failure_events():
        chain = []
        error = event.step_failure_data.error
        while error is not None:
            chain.append(error)
            error = error.cause
        chosen = next((e for e in chain if e.cls_name in ours), chain[-1] if chain else None)
        if chosen is not None:
            message = chosen.message.strip()
            return message.split(f"{chosen.cls_name}: ", 1)[-1]  # qualified or not
    return "see the run's logs in the Dagster UI (`clearlake ui`)"


def _subclasses(cls: type) -> set[type]:
    found: set[type] = {cls}
    sub: type
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found
