"""Platform alerts: a real Dagster run fails and the run-failure sensor tells the project's
webhook (a real HTTP receiver on loopback); erroring sensors are told once, then recovery."""

from __future__ import annotations

from typing import Any

import dagster as dg

from assets.operations.alerts import build_run_failure_sensor, build_sensor_health_sensor
from clearlake.orchestration.run_alerts import SensorTick, plan_sensor_alerts
from clearlake.project.config import AlertsConfig

URL = "http://dagster.example:3000"


@dg.op
def load_day() -> None:
    raise RuntimeError("the source closed the connection mid-day")


@dg.job
def nightly_load() -> None:
    load_day()


def test_a_failed_run_reaches_the_alert_webhook(hook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = hook
    alerts = AlertsConfig.model_validate({"notifiers": [{"kind": "webhook", "url": url}]})
    sensor = build_run_failure_sensor(alerts, dagster_url=URL)
    with dg.instance_for_test() as instance:
        result = nightly_load.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        (failure,) = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
        ).for_run_failure()
        sensor(context)
    (message,) = received
    run_id = result.run_id
    assert message["clearlake"] == {"kind": "run_failure", "job": "nightly_load", "run_id": run_id}
    assert message["text"].startswith(f"Clearlake run failed: job nightly_load, run {run_id}: ")
    assert message["text"].endswith(f"({URL}/runs/{run_id})")
    assert "load_day" in message["text"]


def test_an_erroring_sensor_is_told_once_then_its_recovery() -> None:
    failing = [SensorTick("drop_zone_sensor", 1.0, True, "S3 refused\nTraceback ..."),
               SensorTick("candidate_commit_sensor", 1.0, False)]  # fmt: skip
    first, cursor = plan_sensor_alerts(failing, None, dagster_url=URL)
    assert first == [
        f"Clearlake sensor drop_zone_sensor is erroring: S3 refused ({URL}/automation)"
    ]
    again, cursor = plan_sensor_alerts(failing, cursor, dagster_url=URL)
    assert again == []  # still failing: not told every tick
    healthy = [SensorTick("drop_zone_sensor", 2.0, False)]
    recovered, cursor = plan_sensor_alerts(healthy, cursor, dagster_url=URL)
    assert recovered == ["Clearlake sensor drop_zone_sensor recovered."]
    assert plan_sensor_alerts(healthy, cursor, dagster_url=URL)[0] == []


def test_the_health_sensor_reads_the_instance_and_keeps_its_cursor() -> None:
    alerts = AlertsConfig.model_validate({})
    sensor = build_sensor_health_sensor(alerts, dagster_url=URL)
    with dg.instance_for_test() as instance:
        result = sensor(dg.build_sensor_context(instance=instance, cursor='{"x": true}'))
    assert isinstance(result, dg.SensorResult)
    assert result.cursor == '{"x": true}'  # no sensor ticked here: nothing told, nothing lost
