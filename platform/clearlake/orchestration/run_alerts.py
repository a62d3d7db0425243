"""The platform's own alerts: a failed run, a sensor that started erroring.

Dagster OSS shows both in its UI and tells nobody. These messages go through the project's
``alerts.notifiers`` (webhooks: Slack, chat, paging) with the notifiers' retries. A sensor is
reported once when it starts erroring (its newest tick failed and the one reported last was
not a failure) and once when it recovers, so a sensor failing every 30 s is one message,
not 2,880 a day. The decision is a plain function of the ticks and a cursor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clearlake.evaluation.notify import Log, NotifyError, Sender, _secret
from clearlake.project.config import AlertsConfig


@dataclass(frozen=True)
class SensorTick:
    """The newest tick of one sensor."""

    sensor: str
    timestamp: float
    failed: bool
    error: str = ""


def run_failure_text(*, job: str, run_id: str, error: str, dagster_url: str) -> str:
    first = error.strip().splitlines()[0] if error.strip() else "no error message"
    return (
        f"Clearlake run failed: job {job}, run {run_id}: {first} "
        f"({dagster_url.rstrip('/')}/runs/{run_id})"
    )


def plan_sensor_alerts(
    ticks: Sequence[SensorTick], cursor: str | None, *, dagster_url: str
) -> tuple[list[str], str]:
    """Messages for sensors that started erroring or recovered, and the next cursor."""
    reported: dict[str, bool] = json.loads(cursor) if cursor else {}
    messages = []
    for tick in sorted(ticks, key=lambda t: t.sensor):
        was_failing = reported.get(tick.sensor, False)
        if tick.failed and not was_failing:
            first = tick.error.strip().splitlines()[0] if tick.error.strip() else "no message"
            messages.append(
                f"Clearlake sensor {tick.sensor} is erroring: {first} "
                f"({dagster_url.rstrip('/')}/automation)"
            )
        elif was_failing and not tick.failed:
            messages.append(f"Clearlake sensor {tick.sensor} recovered.")
        reported[tick.sensor] = tick.failed
    return messages, json.dumps(reported, sort_keys=True)


def deliver(
    alerts: AlertsConfig, text: str, details: Mapping[str, object], *, log: Log
) -> list[str]:
    """POST ``text`` (and ``details`` under ``clearlake``) to every notifier; problems back."""
    problems = []
    for config in alerts.notifiers:
        send = Sender(alerts.notify, repository="(platform alerts)", notifier="webhook")
        try:
            url = config.url or _secret(send.repository, "webhook", str(config.url_env))
            send("POST", url, json={"text": text, "clearlake": dict(details)})
        except NotifyError as exc:
            problems.append(str(exc))
            log.warning(str(exc))
        finally:
            send.client.close()
    return problems
