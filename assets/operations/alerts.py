"""Alerts on the platform itself: failed runs and erroring sensors, through the project's
``alerts.notifiers`` (:mod:`clearlake.orchestration.run_alerts` decides and sends; these
are thin)."""

from collections.abc import Iterator
from typing import Protocol

import dagster as dg

from clearlake import names
from clearlake.orchestration.run_alerts import (
    SensorTick,
    deliver,
    plan_sensor_alerts,
    run_failure_text,
)
from clearlake.project.config import AlertsConfig
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def build_run_failure_sensor(
    alerts: AlertsConfig, *, dagster_url: str, minimum_interval_seconds: int = 30
) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=names.RUN_FAILURE_SENSOR,
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=minimum_interval_seconds,
    )
    def _failed(context: dg.RunFailureSensorContext) -> None:
        """Every failed run, once, to the project's alert webhooks."""
        run = context.dagster_run
        error = context.failure_event.message or ""
        text = run_failure_text(
            job=run.job_name, run_id=run.run_id, error=error, dagster_url=dagster_url
        )
        details = {"kind": "run_failure", "job": run.job_name, "run_id": run.run_id}
        details.update({k: v for k, v in run.tags.items() if k == "dagster/partition"})
        deliver(alerts, text, details, log=context.log)

    return _failed


class _ErrorInfo(Protocol):
    """What a tick's error record holds (Dagster's SerializableErrorInfo, not exported)."""

    @property
    def message(self) -> str: ...

    @property
    def cause(self) -> "_ErrorInfo | None": ...


def _root_cause(error: _ErrorInfo) -> str:
    """The innermost cause's message: a tick's error is Dagster's SensorExecutionError
    ("Error occurred during the execution of evaluation_fn …"), the sensor's own exception
    its cause, and the alert should say what broke, not where."""
    while error.cause is not None:
        error = error.cause
    return error.message


def _newest_sensor_ticks(instance: dg.DagsterInstance, own: str) -> Iterator[SensorTick]:
    """The newest tick of every sensor but this one (DagsterInstance's scheduling methods)."""
    for state in instance.all_instigator_state():
        if state.instigator_type.value != "SENSOR" or state.instigator_name == own:
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        for tick in ticks:
            error = _root_cause(tick.error) if tick.error is not None else ""
            yield SensorTick(
                state.instigator_name, tick.timestamp, tick.status.value == "FAILURE", error
            )


def build_sensor_health_sensor(
    alerts: AlertsConfig, *, dagster_url: str, minimum_interval_seconds: int = 60
) -> dg.SensorDefinition:
    @dg.sensor(
        name=names.SENSOR_HEALTH_SENSOR,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _health(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """A sensor that starts erroring (and its recovery), once each, to the webhooks."""
        ticks = list(_newest_sensor_ticks(context.instance, names.SENSOR_HEALTH_SENSOR))
        messages, cursor = plan_sensor_alerts(ticks, context.cursor, dagster_url=dagster_url)
        for text in messages:
            deliver(alerts, text, {"kind": "sensor"}, log=context.log)
        return dg.SensorResult(cursor=cursor)

    return _health


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    alerts = current_project(settings).config.alerts
    return dg.Definitions(
        sensors=[
            build_run_failure_sensor(alerts, dagster_url=settings.dagster_url),
            build_sensor_health_sensor(alerts, dagster_url=settings.dagster_url),
        ]
    )
