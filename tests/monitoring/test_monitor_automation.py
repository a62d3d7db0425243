"""The monitor's daily assets run by themselves as days land: predictions of day D once
feature day D exists, its performance only once feature day D + label delay exists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.features.feature_tables import feature_asset
from assets.monitoring.monitors import monitor_assets
from clearlake.names import (
    feature_key,
    monitor_performance_key,
    monitor_predictions_key,
    monitor_status_key,
)
from tests.monitoring.monitor_env import TASK, monitored


def test_days_flow_through_the_monitor_as_the_lake_grows(tmp_path: Path) -> None:
    monitor = {
        "watch": "returns-model:main",
        "label_delay_days": 2,
        "reference": {"suite": "holdout"},
    }
    with monitored(tmp_path, monitor) as env:
        definitions = dg.Definitions(
            assets=[feature_asset(env.project, "returns"), *monitor_assets(env.project)],
            resources=env.definitions.resources,
        )
        predictions, performance = monitor_predictions_key(TASK), monitor_performance_key(TASK)
        cursor = None

        def tick(day: int) -> dict[dg.AssetKey, set[str | None]]:
            """An evaluation of the daemon at noon of ``day`` (days before it exist)."""
            nonlocal cursor
            result = dg.evaluate_automation_conditions(
                definitions,
                env.instance,
                cursor=cursor,
                evaluation_time=dt.datetime.combine(env.day(day), dt.time(12), dt.UTC),
            )
            cursor = result.cursor
            return {
                key: set(result.get_requested_partitions(key))
                for key in (predictions, performance, monitor_status_key(TASK))
                if result.get_num_requested(key)
            }

        def landed(key: dg.AssetKey, *days: int) -> None:
            for day in days:
                env.instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        key,
                        partition=env.day(day).isoformat(),
                        tags={"dagster/data_version": f"{key.path[-1]}-{day}"},
                    )
                )

        def iso(*days: int) -> set[str | None]:
            return {env.day(d).isoformat() for d in days}

        assert tick(37) == {}  # the first look: nothing has landed
        landed(feature_key("returns"), 36, 37)
        assert tick(38) == {predictions: iso(36, 37)}
        landed(predictions, 36, 37)
        assert tick(38) == {}  # labels of day 36 mature with day 38 (delay 2)
        landed(feature_key("returns"), 38)
        assert tick(39) == {predictions: iso(38), performance: iso(36)}
        landed(performance, 36)
        assert tick(39) == {monitor_status_key(TASK): {None}}
