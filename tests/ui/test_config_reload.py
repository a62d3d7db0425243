"""Configuration edits under a running UI: a real dagster-webserver, its code location
reloaded through the public GraphQL client when the project's files change."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from ui_harness import free_port, start, stop, wait_for

from clearlake.cli.main import app
from clearlake.orchestration.code_location import WORKSPACE
from clearlake.orchestration.config_reload import (
    RELOADED,
    ConfigWatcher,
    reload_location,
    watched_files,
)

CONFIG = """\
project:
  name: reload-shop
sources:
  orders:
    partition: {column: ordered_on, first_day: 2024-03-01, last_day: 2024-03-20}
    keys: [order_id]
    columns:
      order_id: string not null
      ordered_on: date32 not null
      amount: float64 not null
features:
  order_features:
    sql: features/order_features.sql
    row_id: order_id
    date_column: order_day
    columns:
      order_id: string not null
      order_day: date32 not null
      amount: float64 not null
"""
SQL = "select order_id, ordered_on as order_day, amount from orders where ordered_on = $day\n"
SECOND = """\
  large_orders:
    sql: features/order_features.sql
    row_id: order_id
    date_column: order_day
    columns:
      order_id: string not null
      order_day: date32 not null
      amount: float64 not null
"""
ASSETS = "{ assetNodes { assetKey { path } opVersion } }"


def assets(port: int) -> dict[str, str | None]:
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": ASSETS}, timeout=30)
    nodes = answer.json()["data"]["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n["opVersion"] for n in nodes}


def test_edits_are_reloaded_and_an_invalid_edit_keeps_the_previous_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "features").mkdir(parents=True)
    config = project / "clearlake.yaml"
    config.write_text(CONFIG)
    sql = project / "features" / "order_features.sql"
    sql.write_text(SQL)
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    for name, value in {
        "CLEARLAKE_CONFIG": str(config),
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}",
        "CLEARLAKE_LAKE_URL": (home / "lake").as_uri(),
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    assert watched_files(config) == [config.resolve(), sql.resolve()]
    port = free_port()
    log = tmp_path / "webserver.log"
    command = [sys.executable, "-m", "dagster_webserver", "-w", str(WORKSPACE)]
    server = start([*command, "-h", "127.0.0.1", "-p", str(port)], log)
    try:
        wait_for(f"http://127.0.0.1:{port}/server_info", server, log, timeout=60)
        before = assets(port)
        assert "features/order_features" in before and "features/large_orders" not in before
        watcher = ConfigWatcher(config, lambda: reload_location("127.0.0.1", port))
        assert watcher.check() is None

        config.write_text(CONFIG + SECOND)  # a new feature table
        assert watcher.check() == RELOADED
        assert "features/large_orders" in assets(port)

        sql.write_text(SQL.replace("amount from", "amount * 1.0 as amount from"))
        assert watcher.check() == RELOADED  # the SQL it names is watched too
        edited = assets(port)
        assert edited["features/order_features"] != before["features/order_features"]

        config.write_text(CONFIG + SECOND + "  typo: true\n")
        line = watcher.check()
        assert line is not None
        assert line.startswith("configuration error (the UI keeps the previous definitions): ")
        assert "features.typo" in line and "\n" not in line
        assert assets(port) == edited

        config.write_text(CONFIG)  # fixed by hand, then reloaded from another terminal
        result = CliRunner().invoke(app, ["config", "reload", "--port", str(port)])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == RELOADED
        assert "features/large_orders" not in assets(port)
    finally:
        stop(server)
