"""The one sensor that lets new lake days flow downstream (declarative automation).

It evaluates the condition of every asset tagged ``flow: new-days`` (feature tables,
rolling suites, the models' monitors): an asset joins the flow by its tag, without
editing this file. Dagster's default automation sensor is stopped until someone turns it
on; this one runs by default, under ``clearlake ui`` (its daemon) and on the cluster.
"""

import dagster as dg

from clearlake.names import FLOW_TAG, NEW_DAYS_FLOW, NEW_DAYS_SENSOR
from clearlake.project.config import LiveConfig
from clearlake.project.load import current_project
from clearlake.settings import load_settings

NEW_DAYS_ASSETS = dg.AssetSelection.tag(FLOW_TAG, NEW_DAYS_FLOW)


def new_days_sensor(live: LiveConfig | None = None) -> dg.AutomationConditionSensorDefinition:
    """``live.flow_seconds`` (the project's) sets how often it looks."""
    return dg.AutomationConditionSensorDefinition(
        NEW_DAYS_SENSOR,
        target=NEW_DAYS_ASSETS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=(live or LiveConfig()).flow_seconds,
        description=(
            "Materialises each new day of the feature tables, rolling suites and monitors "
            "once the lake days it reads exist (tag flow: new-days)."
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    live = current_project(load_settings()).config.live
    return dg.Definitions(sensors=[new_days_sensor(live)])
