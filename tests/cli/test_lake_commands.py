"""The real ``clearlake`` executable, as a user runs it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from clearlake.errors import PartitionRangeError
from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import get_table
from clearlake.project.load import load_project

CLI = [sys.executable, "-c", "from clearlake.cli.main import main; main()"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CLI + args, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def env(tmp_path: Path, sample_db: str) -> dict[str, str]:
    home = tmp_path / "home"
    source = tmp_path / "production.sqlite"
    shutil.copy(sample_db.removeprefix("sqlite:///"), source)
    return {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": f"sqlite:///{source}",
        "DAGSTER_HOME": str(home / "dagster"),
    }


def test_help_explains_itself(env: dict[str, str]) -> None:
    result = run(["--help"], env)
    assert result.returncode == 0
    for command in ("lake", "sample-db", "drops", "ui"):
        assert command in result.stdout
    assert "continuous-evaluation platform" in result.stdout


def test_replicate_then_read_and_sql(env: dict[str, str]) -> None:
    result = run(["lake", "replicate", "flights", "planes", "--end", "2013-01-05"], env)
    assert result.returncode == 0, result.stderr
    assert "replicated flights (2013-01-01..2013-01-05), planes" in result.stdout
    store = LakeStore(str(Path(env["CLEARLAKE_HOME"]) / "lake"))
    assert store.list_partitions("flights")[-1] == "2013-01-05"
    tables = run(["lake", "tables"], env)
    assert "flights" in tables.stdout and "5" in tables.stdout
    sql = run(["lake", "sql", "select count(*) as n from flights"], env)
    assert "4334" in sql.stdout  # 842 + 943 + 914 + 915 + 720 flights


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lake", "replicate", "flightz"], "Unknown lake table 'flightz'"),
        (["lake", "replicate", "--start", "2013-02-30"], "Malformed start date '2013-02-30'"),
        (["lake", "replicate", "--start", "2013-03-01", "--end", "2013-02-01"], "after end date"),
        (["lake", "read", "flights", "--columns", "nope"], "Unknown column(s) 'nope'"),
        (["drops", "status"], "does not exist: run `clearlake drops init`"),
        (
            ["lake", "replicate", "--start", "0001-01-01", "--end", "9999-12-31"],
            "flights has daily partitions from 2013-01-01 to 2013-12-31",
        ),
        (["sample-db"], "Missing command"),
        (["lake", "replicate", "--no-such-option"], "No such option"),
        (["no-such-command"], "No such command"),
        (["lake", "sql", ""], "No SQL given"),
        (["lake", "read", "flights", "--limit", "-5"], "Invalid value for '--limit'"),
        (["api", "serve", "--port", "99999"], "Invalid value for '--port'"),
    ],
)
def test_bad_input_is_one_clear_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = run(args, env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLEARLAKE_CONFIG", "/nonexistent/clearlake.yaml", "does not exist"),
        ("CLEARLAKE_LAKE_URL", "not a url", "is not a lake location"),
    ],
)
def test_invalid_settings_fail_lake_tables(
    env: dict[str, str], variable: str, value: str, message: str
) -> None:
    result = run(["lake", "tables"], {**env, variable: value})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_source_names_it_and_writes_nothing(env: dict[str, str]) -> None:
    env = {**env, "CLEARLAKE_SOURCE_URL": "postgresql://nobody@127.0.0.1:1/prod"}
    result = run(["lake", "replicate", "planes"], env)
    assert result.returncode == 2
    assert (
        "Cannot read the source database at postgresql://nobody@127.0.0.1:1/prod" in result.stderr
    )
    assert not (Path(env["CLEARLAKE_HOME"]) / "lake" / "planes").exists()


def test_out_of_range_replication_is_refused_before_anything_runs(env: dict[str, str]) -> None:
    result = run(
        ["lake", "replicate", "flights", "--start", "2012-12-01", "--end", "2012-12-31"], env
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "flights has daily partitions from 2013-01-01 to 2013-12-31: 2012-12-01..2012-12-31 is "
        "outside them" in result.stderr
    )
    assert not (Path(env["CLEARLAKE_HOME"]) / "lake" / "flights").exists()  # nothing written
    runs = Path(env["DAGSTER_HOME"]) / "history" / "runs"
    assert not runs.exists() or list(runs.glob("*.db")) == []  # and no run was started


def test_replicate_refuses_days_outside_the_table_and_writes_nothing(
    tmp_path: Path, sample_db: str
) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    flights = get_table("flights")
    december = [dt.date(2012, 12, 1) + dt.timedelta(days=i) for i in range(31)]
    with pytest.raises(PartitionRangeError, match=r"choose days within 2013-01-01\.\.2013-12-31"):
        replicate(SourceDatabase(sample_db), store, flights, december)
    assert store.list_partitions("flights") == []


def test_drops_init_creates_folders(env: dict[str, str]) -> None:
    assert run(["drops", "init"], env).returncode == 0
    status = run(["drops", "status"], env)
    assert status.returncode == 0
    assert "delay_annotations" in status.stdout


def test_infer_schema_writes_a_declaration_that_loads(
    env: dict[str, str], postgres_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, customer TEXT NOT NULL, "
            "ordered_at TIMESTAMPTZ NOT NULL, quantity INTEGER, price DOUBLE PRECISION, "
            "shipped DATE, returned BOOLEAN NOT NULL)"
        )
        conn.execute(
            "INSERT INTO orders VALUES (1, 'ada', '2024-03-01 10:00+00', 2, 9.5, NULL, false)"
        )
    env = {**env, "CLEARLAKE_SOURCE_URL": postgres_db}
    declared = tmp_path / "orders.yaml"
    result = run(
        ["lake", "infer-schema", "orders", "--partition-column", "ordered_at", "--output",
         str(declared)],
        env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = declared.read_text()
    assert "keys: [order_id]  # the primary key" in text
    assert "partition: {column: ordered_at, first_day: 2024-03-01}" in text
    project = tmp_path / "project"
    project.mkdir()
    (project / "clearlake.yaml").write_text("project: {name: shop}\n" + text)
    source = load_project(project).source("orders")
    assert {n: (c.type, c.nullable) for n, c in source.columns.items()} == {
        "order_id": ("int64", False),
        "customer": ("string", False),
        "ordered_at": ("timestamp[us, tz=UTC]", False),
        "quantity": ("int32", True),
        "price": ("float64", True),
        "shipped": ("date32", True),
        "returned": ("bool", False),
    }
    query = run(
        ["lake", "infer-schema", "big_orders", "--query",
         "SELECT order_id, price FROM orders WHERE price > 5"],
        env,
    )  # fmt: skip
    assert query.returncode == 0, query.stderr
    assert "query: |\n      SELECT order_id, price FROM orders WHERE price > 5" in query.stdout
    assert "keys: []  # TODO: no primary key found" in query.stdout
    assert "partition: snapshot" in query.stdout
    missing = run(["lake", "infer-schema", "nowhere"], env)
    assert missing.returncode == 2 and "nowhere" in missing.stderr


@pytest.mark.parametrize(
    ("args", "extra_env", "message"),
    [
        (
            ["lake", "replicate", "planes"],
            {"CLEARLAKE_HOME": "/proc/clearlake", "DAGSTER_HOME": "/proc/clearlake/dagster"},
            "No such file or directory: /proc/clearlake. Check CLEARLAKE_HOME",
        ),
        (
            ["lake", "tables"],
            {
                "CLEARLAKE_LAKE_URL": "s3://clearlake-no-such-bucket-4242/lake",
                "AWS_ACCESS_KEY_ID": "none",
                "AWS_SECRET_ACCESS_KEY": "none",
                "AWS_EC2_METADATA_DISABLED": "true",
            },
            "bucket 'clearlake-no-such-bucket-4242'",
        ),
        (
            ["experiment", "run", "--repo", "flight-delays", "--ref", "main", "--gpu", "-1"],
            {},
            "--gpu -1: a number of GPUs must be >= 0",
        ),
        (
            ["lake", "read", "planes"],
            {},
            "Lake table 'planes' has no partitions yet: replicate it first",
        ),
        (
            ["config", "check"],
            {"CLEARLAKE_CONFIG": "/"},
            "/ is a folder without clearlake.yaml: point CLEARLAKE_CONFIG at a project's",
        ),
    ],
)
def test_hostile_input_is_one_clear_line(
    env: dict[str, str], args: list[str], extra_env: dict[str, str], message: str
) -> None:
    result = run(args, {**env, **extra_env})
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_config_may_name_a_project_folder(env: dict[str, str]) -> None:
    example = Path(__file__).parents[2] / "examples" / "flights"
    result = run(["config", "check"], {**env, "CLEARLAKE_CONFIG": str(example)})
    assert result.returncode == 0, result.stderr
    assert "flights" in result.stdout


def test_check_policy_of_a_binary_file_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    binary = tmp_path / "policy.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    result = run(["api", "check-policy", str(binary)], env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: {binary}: not a text file (not UTF-8): a policy is a YAML file" in result.stderr


def test_serve_on_a_taken_port_fails_before_issuing_tokens(env: dict[str, str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(["api", "serve", "--port", str(port)], env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"Port {port} on 127.0.0.1 is already in use: stop the service" in result.stderr
    assert "clk_" not in result.stdout + result.stderr  # no token shown, and none issued
    assert not (Path(env["CLEARLAKE_HOME"]) / "api" / "tokens.yaml").exists()


def test_a_sample_released_day_by_day_reaches_the_lake_no_further(
    env: dict[str, str], tmp_path: Path
) -> None:
    """build --through, replicate (an --end past the source clamped), advance, lake days."""
    url = f"sqlite:///{tmp_path / 'released.sqlite'}"
    env = {**env, "CLEARLAKE_SOURCE_URL": url}
    built = run(["sample-db", "build", "--through", "2013-01-03"], env)
    assert built.returncode == 0, built.stderr
    assert "flights      2,699 rows" in built.stdout  # 842 + 943 + 914
    assert "daily tables end on 2013-01-03" in built.stdout

    clamped = run(["lake", "replicate", "flights", "--end", "2013-01-10"], env)
    assert clamped.returncode == 0, clamped.stderr
    assert (
        "note: flights: --end 2013-01-10 is after the source's newest day 2013-01-03: "
        "replicating up to 2013-01-03"
    ) in clamped.stdout
    store = LakeStore(str(Path(env["CLEARLAKE_HOME"]) / "lake"))
    assert store.list_partitions("flights") == ["2013-01-01", "2013-01-02", "2013-01-03"]
    assert "replicated flights (2013-01-01..2013-01-03)" in clamped.stdout

    advanced = run(["sample-db", "advance", "--days", "2"], env)
    assert advanced.returncode == 0, advanced.stderr
    assert "flights   2013-01-01..2013-01-05 (5 days)" in advanced.stdout
    assert "weather   2013-01-01..2013-01-05 (5 days)" in advanced.stdout

    days = run(["lake", "days", "flights", "--last", "4"], env)
    assert days.returncode == 0, days.stderr
    notes = days.stderr.splitlines()  # piped: stdout holds the rows alone, tab-separated
    assert "flights: source's newest day: 2013-01-05; lake's newest day: 2013-01-03" in notes[0]
    assert "the lake is behind the source: 2 day(s) not replicated" in days.stderr
    lines = days.stdout.splitlines()
    assert lines[0] == "day\tstatus\trows\tsource newest then"
    assert "2013-01-03\treplicated\t914\t2013-01-03" in lines
    assert "2013-01-05\tnot replicated yet\t\t" in lines
    assert "2013-01-01" not in days.stdout  # --last 4: 01-02..01-05

    caught_up = run(["lake", "replicate", "flights"], env)  # no dates: up to the source
    assert caught_up.returncode == 0, caught_up.stderr
    assert store.list_partitions("flights")[-1] == "2013-01-05"
    assert "not replicated yet" not in run(["lake", "days", "flights"], env).stdout


def test_sample_db_advances_a_postgresql_source(env: dict[str, str], postgres_db: str) -> None:
    built = run(["sample-db", "build", "--through", "2013-01-02", "--url", postgres_db], env)
    assert built.returncode == 0, built.stderr
    advanced = run(["sample-db", "advance", "--url", postgres_db], env)
    assert advanced.returncode == 0, advanced.stderr
    assert "flights   2013-01-01..2013-01-03 (3 days)" in advanced.stdout
    with psycopg.connect(postgres_db) as conn:
        row = conn.execute("SELECT count(*), max(flight_date) FROM flights").fetchone()
    assert row == (842 + 943 + 914, dt.date(2013, 1, 3))
