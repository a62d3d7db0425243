"""The platform alerts through a real ``dagster-daemon`` on a PostgreSQL instance: a sensor's
ticks really fail (its code raises) and Clearlake's alert sensor, evaluated by the same
daemon, posts to a real webhook once when the errors start — not on every failed tick after
— and once when the sensor recovers; a run failing meanwhile is posted by the run-failure
sensor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dagster as dg
import pytest
import yaml

from clearlake import names

HERE = Path(__file__).resolve().parent
DAEMON = str(Path(sys.executable).parent / "dagster-daemon")
DAGSTER_URL = "https://dagster.example.org"
FLAKY_SENSOR = "flaky_drop_sensor"  # alerting_location.FLAKY_SENSOR (it reads env on import)
ERRORING = (
    f"Clearlake sensor {FLAKY_SENSOR} is erroring: RuntimeError: the drop bucket refused the "
    f"listing (AccessDenied) ({DAGSTER_URL}/automation)"
)
RECOVERED = f"Clearlake sensor {FLAKY_SENSOR} recovered."


@dg.op
def load_day() -> None:
    raise RuntimeError("the source closed the connection mid-day")


@dg.job
def nightly_load() -> None:
    load_day()


def wait_for(what: str, condition: Callable[[], bool], *, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; daemon log:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)


def instance_yaml(postgres_url: str) -> dict[str, Any]:
    """dagster.yaml on PostgreSQL, as the chart's instance is (run, event and schedule
    storage, where the sensor ticks live)."""
    url = urlparse(postgres_url)
    db = {
        "username": url.username,
        "hostname": url.hostname,
        "port": url.port or 5432,
        "db_name": url.path.lstrip("/"),
        "scheme": "postgresql+psycopg2",  # as the chart renders it (plain postgresql: psycopg 3)
    }
    return {"storage": {"postgres": {"postgres_db": db}}, "telemetry": {"enabled": False}}


def ticks(home: Path, sensor: str) -> list[tuple[float, str]]:
    """(start time, status) of each tick of the sensor, oldest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for state in instance.all_instigator_state():
            if state.instigator_name == sensor:
                found = instance.get_ticks(state.instigator_origin_id, state.selector_id)
                return [(t.timestamp, t.status.value) for t in reversed(found)]
    return []


def looked_again(home: Path, *, since: float, flaky_status: str) -> bool:
    """Whether the alert sensor ticked after a tick of the flaky sensor with that status,
    both after `since`: it has seen the flaky sensor's state since then."""
    flaky = [t for t, status in ticks(home, FLAKY_SENSOR) if t > since and status == flaky_status]
    return bool(flaky) and any(t > flaky[0] for t, _ in ticks(home, names.SENSOR_HEALTH_SENSOR))


@contextlib.contextmanager
def daemon(home: Path, env: dict[str, str], log: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [DAEMON, "run", "-f", str(HERE / "alerting_location.py")],
        cwd=HERE.parents[1],
        env=env,
        start_new_session=True,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # with its code server; nothing to keep
        process.wait()


def test_an_erroring_sensor_once_a_failed_run_once_then_the_recovery_once(
    tmp_path: Path, postgres_db: str, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_yaml(postgres_db)))
    with dg.DagsterInstance.from_config(str(home)):
        pass  # the schema is created here, not by the daemon and its code server at once
    (tmp_path / "broken").touch()
    log = tmp_path / "daemon.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ALERTS_TEST_ROOT": str(tmp_path),
        "ALERTS_TEST_WEBHOOK": url,
        "ALERTS_TEST_DAGSTER_URL": DAGSTER_URL,
    }
    with daemon(home, env, log):
        wait_for("the erroring alert", lambda: len(received) >= 1, seconds=40, log=log)
        told = time.time()
        # Meanwhile a run fails (in this process, on the same instance).
        with dg.DagsterInstance.from_config(str(home)) as instance:
            failed = nightly_load.execute_in_process(instance=instance, raise_on_error=False)
        assert not failed.success
        # Still failing: the flaky sensor fails again and the alert sensor looks again (each
        # evaluates once per daemon loop of 5 s), and nobody is told a second time.
        wait_for(
            "a look at a later failed tick, and the failed run's alert",
            lambda: looked_again(home, since=told, flaky_status="FAILURE") and len(received) >= 2,
            seconds=20,
            log=log,
        )
        assert received[0]["text"] == ERRORING
        assert received[0]["clearlake"] == {"kind": "sensor"}
        run_alert = received[1]
        assert run_alert["clearlake"] == {
            "kind": "run_failure",
            "job": "nightly_load",
            "run_id": failed.run_id,
        }
        assert run_alert["text"].startswith(
            f"Clearlake run failed: job nightly_load, run {failed.run_id}"
        )
        assert len(received) == 2

        (tmp_path / "broken").unlink()
        wait_for("the recovery", lambda: len(received) >= 3, seconds=20, log=log)
        recovered = time.time()
        wait_for(
            "a look at a later healthy tick",
            lambda: looked_again(home, since=recovered, flaky_status="SKIPPED"),
            seconds=20,
            log=log,
        )
    texts = [m["text"] for m in received]
    assert (texts[0], texts[2:]) == (ERRORING, [RECOVERED])  # and the run's alert between
    health = [status for _, status in ticks(home, names.SENSOR_HEALTH_SENSOR)]
    assert health and "FAILURE" not in health  # the alert sensor itself never failed
