"""A code location for test_alerts_daemon.py: a sensor that raises while a flag file exists
(as a drop sensor does while its bucket refuses the listing) beside Clearlake's own alert
sensors (erroring sensors, failed runs), all ticking as often as the daemon allows, the
alerts going to the test's webhook."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.operations.alerts import build_run_failure_sensor, build_sensor_health_sensor
from clearlake.project.config import AlertsConfig

ROOT = Path(os.environ["ALERTS_TEST_ROOT"])
FLAKY_SENSOR = "flaky_drop_sensor"


@dg.sensor(
    name=FLAKY_SENSOR, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING
)
def flaky_drop_sensor() -> dg.SkipReason:
    if (ROOT / "broken").exists():
        raise RuntimeError("the drop bucket refused the listing (AccessDenied)")
    return dg.SkipReason("no new files")


alerts = AlertsConfig.model_validate(
    {"notifiers": [{"kind": "webhook", "url": os.environ["ALERTS_TEST_WEBHOOK"]}]}
)
url = os.environ["ALERTS_TEST_DAGSTER_URL"]
defs = dg.Definitions(
    sensors=[
        flaky_drop_sensor,
        build_sensor_health_sensor(alerts, dagster_url=url, minimum_interval_seconds=1),
        build_run_failure_sensor(alerts, dagster_url=url, minimum_interval_seconds=1),
    ]
)
