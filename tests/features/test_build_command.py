"""``clearlake build`` as a user runs it (in-process): days arriving, built once each."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from live_project import add_day, create_source, day, write_project
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.cli.runs import materialize
from clearlake.evaluation.errors import SuiteNotMaterialisedError
from clearlake.evaluation.suites import load_suite
from clearlake.lake.store import LakeStore
from clearlake.orchestration.lineage import latest
from clearlake.project.load import load_project

pytestmark = pytest.mark.slow  # the command as a user runs it: a sequence of ~15 real runs


@pytest.fixture
def live_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_db: str) -> Path:
    create_source(postgres_db)
    write_project(tmp_path / "project", with_task=True, rolling=True)
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    for name, value in {
        "CLEARLAKE_CONFIG": str(tmp_path / "project" / "clearlake.yaml"),
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_SOURCE_URL": postgres_db,
        "CLEARLAKE_LAKE_URL": (home / "lake").as_uri(),
        "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    return home


def build(*args: str) -> str:
    result = CliRunner().invoke(app, ["build", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def runs(home: Path) -> int:
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return len(instance.get_runs())


def test_build_fills_what_is_missing_and_then_finds_nothing(
    live_home: Path, postgres_db: str
) -> None:
    for n in range(6):
        add_day(postgres_db, day(n))
    project = load_project(live_home.parent / "project")
    lake = LakeStore((live_home / "lake").as_uri())
    task = project.task("returns")
    with pytest.raises(
        SuiteNotMaterialisedError,
        match=r"Build it with `clearlake build --task returns` \(it builds the lake days",
    ):
        load_suite(
            lake,
            task_name="returns",
            task=task,
            dataset=project.feature(task.dataset),
            suite_name="train",
        )
    first = build()
    assert "[1/5] building lake/orders 2024-03-01..2024-03-06" in first
    assert "[2/5] building lake/zones (snapshot)" in first
    assert "[3/5] building features/order_features 2024-03-01..2024-03-06" in first
    assert "[4/5] building evaluation/returns/suites/recent [2024-03-07] (window " in first
    assert "(window 2024-03-04..2024-03-06)" in first
    assert "[5/5] building evaluation/returns/suites/train (missing)" in first
    assert "not yet: evaluation/returns/suites/holdout waits for order_features through" in first
    assert "built 5 step(s) (15 partition(s))" in first
    assert lake.list_partitions("features/order_features") == [str(day(n)) for n in range(6)]
    assert runs(live_home) == 5

    again = build()
    assert "nothing to build" in again
    assert runs(live_home) == 5

    # Two new days in production: only they, and the suite whose window they complete.
    add_day(postgres_db, day(6))
    add_day(postgres_db, day(7))
    add_day(postgres_db, day(8))
    partial = build("--through", str(day(7)))
    assert "[1/4] building lake/orders 2024-03-07..2024-03-08" in partial
    assert "[2/4] building features/order_features 2024-03-07..2024-03-08" in partial
    assert "[4/4] building evaluation/returns/suites/recent [2024-03-09]" in partial
    assert "[3/4] building evaluation/returns/suites/holdout (missing)" in partial
    assert "suites/train" not in partial
    with dg.DagsterInstance.from_config(str(live_home / "dagster")) as instance:
        record = latest(instance, names.suite_key("returns", "holdout"))
    assert record is not None and record.code_version is not None
    rest = build()
    assert "[1/3] building lake/orders 2024-03-09" in rest
    assert "[3/3] building evaluation/returns/suites/recent [2024-03-10]" in rest
    assert "holdout" not in rest
    assert "nothing to build" in build()
    current = load_suite(
        lake,
        task_name="returns",
        task=task,
        dataset=project.feature(task.dataset),
        suite_name="recent",
    )
    assert sorted({str(d) for d in current.column("order_day").to_pylist()}) == [
        str(day(n)) for n in (6, 7, 8)
    ]

    # Stale pinned suites: a day of the window rebuilt, or the suite's definition edited.
    result = materialize([names.feature_key("order_features")], partition_key=str(day(1)))
    assert result.success
    stale = build()
    assert f"[1/1] building evaluation/returns/suites/train (order_features {day(1)} was " in stale
    config = live_home.parent / "project" / "clearlake.yaml"
    config.write_text(config.read_text().replace("role: train}", "role: train, description: x}"))
    assert "[1/1] building evaluation/returns/suites/train (its definition changed)" in build()
    assert "nothing to build" in build()
    project = load_project(live_home.parent / "project")
    task = project.task("returns")
    train = load_suite(
        lake,
        task_name="returns",
        task=task,
        dataset=project.feature(task.dataset),
        suite_name="train",
    )
    assert train.num_rows == 5 * 5
