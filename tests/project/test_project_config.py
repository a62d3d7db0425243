"""Project configuration: every error a team can make names the file, the key and the fix."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from clearlake.errors import ConfigurationError
from clearlake.project import load_project
from clearlake.project.arrow_types import parse_type, type_name
from clearlake.project.load import anchored, parse_project
from clearlake.settings import DEFAULT_PROJECT

EXAMPLE = DEFAULT_PROJECT / "clearlake.yaml"


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return raw


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    """A copy of the example project with ``raw`` as its configuration."""
    (tmp_path / "features").mkdir(exist_ok=True)
    sql = DEFAULT_PROJECT / "features" / "departures.sql"
    (tmp_path / "features" / "departures.sql").write_text(sql.read_text())
    (tmp_path / "api_policy.yaml").write_text((DEFAULT_PROJECT / "api_policy.yaml").read_text())
    path = tmp_path / "clearlake.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def edited(example: dict[str, Any], edit: Any) -> dict[str, Any]:
    raw = copy.deepcopy(example)
    edit(raw)
    return raw


def test_the_example_is_valid_and_says_what_it_defines() -> None:
    project = load_project(DEFAULT_PROJECT)
    assert list(project.config.tasks) == ["arrival_delay", "late_arrival"]
    assert project.task("arrival_delay").target == "arr_delay"
    assert project.task("late_arrival").type == "binary"
    assert project.task_of("late-arrivals") == "late_arrival"
    assert project.feature_inputs("departures") == ["flights", "planes", "weather"]
    flights = project.source_schema("flights")
    assert flights.field("time_hour").type == pa.timestamp("us", tz="UTC")
    assert not flights.field("flight_date").nullable and flights.field("dep_time").nullable


CASES = [
    (
        "unknown top-level section",
        lambda raw: raw.update(evaluations={"target": "dep_delay"}),
        r"evaluations: unknown key",
    ),
    (
        "unknown key inside a task",
        lambda raw: raw["tasks"]["arrival_delay"].update(targt="arr_delay"),
        r"tasks\.arrival_delay\.targt: unknown key",
    ),
    (
        "target not in the dataset",
        lambda raw: raw["tasks"]["arrival_delay"].update(target="arr_delai"),
        r"tasks\.arrival_delay\.target: 'arr_delai' is not a column of feature table "
        r"flight_features \(columns of flight_features: flight_id, flight_date",
    ),
    (
        "row id not in the dataset",
        lambda raw: raw["tasks"]["late_arrival"].update(row_id="id"),
        r"tasks\.late_arrival\.row_id: 'id' is not a column of feature table departures",
    ),
    (
        "date column not in the dataset",
        lambda raw: raw["tasks"]["late_arrival"].update(date_column="day"),
        r"tasks\.late_arrival\.date_column: 'day' is not a column",
    ),
    (
        "subgroup column not in the dataset",
        lambda raw: raw["tasks"]["arrival_delay"]["subgroups"].append("airline"),
        r"tasks\.arrival_delay\.subgroups\[3\]\.column: 'airline' is not a column",
    ),
    (
        "dataset that is not a feature table",
        lambda raw: raw["tasks"]["arrival_delay"].update(dataset="flights"),
        r"tasks\.arrival_delay\.dataset: 'flights' is not a feature table "
        r"\(features: flight_features, departures\)",
    ),
    (
        "metric unknown for the task type",
        lambda raw: raw["tasks"]["late_arrival"]["metrics"].append("mae"),
        r"tasks\.late_arrival\.metrics\[3\]: 'mae' is not a built-in binary metric",
    ),
    (
        "custom metric without a direction",
        lambda raw: raw["tasks"]["arrival_delay"]["metrics"].append(
            {"name": "mine", "function": "team.metrics:mine"}
        ),
        r"custom metric 'mine' needs `direction: lower` or `direction: higher`",
    ),
    (
        "primary metric not among the metrics",
        lambda raw: raw["tasks"]["arrival_delay"].update(primary_metric="r2"),
        r"primary_metric 'r2' is not one of the metrics",
    ),
    (
        "multiclass without classes",
        lambda raw: raw["tasks"]["late_arrival"].update(type="multiclass", metrics=["log_loss"]),
        r"a multiclass task declares its `classes`",
    ),
    (
        "regression on a text column",
        lambda raw: raw["tasks"]["arrival_delay"].update(target="carrier"),
        r"a regression target must be numeric; carrier is string",
    ),
    (
        "bins on a text column",
        lambda raw: raw["tasks"]["arrival_delay"]["subgroups"].append(
            {"name": "origin_bins", "column": "origin", "bins": [1, 2]}
        ),
        r"subgroups\[3\]\.bins: origin is string: bins need numbers",
    ),
    (
        "unknown column type",
        lambda raw: raw["sources"]["flights"]["columns"].update(dep_time="integer64"),
        r"sources\.flights\.columns\.dep_time.*unknown column type 'integer64'",
    ),
    (
        "key column not declared",
        lambda raw: raw["sources"]["planes"].update(keys=["tail"]),
        r"sources\.planes.*key column\(s\) tail not in the declared schema",
    ),
    (
        "partition column that is not a date",
        lambda raw: raw["sources"]["flights"]["partition"].update(column="carrier"),
        r"partition column carrier is string: daily partitions need a date or timestamp",
    ),
    (
        "feature reading an undeclared table",
        lambda raw: raw["features"]["flight_features"].update(inputs=["flights", "runways"]),
        r"features\.flight_features\.inputs: reads runways, which is not a lake source",
    ),
    (
        "feature SQL file missing",
        lambda raw: raw["features"]["departures"].update(sql="features/missing.sql"),
        r"features\.departures\.sql: no SQL file at .*missing\.sql",
    ),
    (
        "repository on an unknown task",
        lambda raw: raw["repositories"][0].update(task="delays"),
        r"repositories\[0\]\.task: 'delays' is not a declared task "
        r"\(tasks: arrival_delay, late_arrival\)",
    ),
    (
        "repository without a task when there are two",
        lambda raw: raw["repositories"][0].pop("task"),
        r"repositories\[0\]\.task: repository 'flight-delays' must name its task",
    ),
    (
        "gate without a baseline neither allowed nor blocked",
        lambda raw: raw["repositories"][0].update(no_baseline="warn"),
        r"repositories\.0\.no_baseline: .*'allow' or 'block'",
    ),
    (
        "webhook notifier without a URL",
        lambda raw: raw["repositories"][0].update(notifiers=[{"kind": "webhook"}]),
        r"exactly one of `url` or `url_env`",
    ),
    (
        "notifier token given as a value instead of a variable name",
        lambda raw: raw["repositories"][0].update(
            notifiers=[{"kind": "github", "repository": "a/b", "token_env": "ghp_secret"}]
        ),
        r"token_env",
    ),
    (
        "unknown key in the seeds",
        lambda raw: raw["tasks"]["arrival_delay"]["seeds"].update(seed_runs=3),
        r"seeds\.seed_runs",
    ),
    (
        "suite window backwards",
        lambda raw: raw["tasks"]["late_arrival"]["suites"]["train"].update(end="2012-12-01"),
        r"start 2013-01-01 is after end 2012-12-01",
    ),
    (
        "suite both pinned and rolling",
        lambda raw: raw["tasks"]["late_arrival"]["suites"]["holdout"].update(rolling_days=28),
        r"tasks\.late_arrival\.suites\.holdout.*either pinned \(`start` and `end`\) or "
        r"rolling \(`rolling_days`",
    ),
    (
        "suite neither pinned nor rolling",
        lambda raw: raw["tasks"]["late_arrival"]["suites"].update(recent={"role": "test"}),
        r"tasks\.late_arrival\.suites\.recent.*exactly one of them",
    ),
    (
        "label delay on a pinned suite",
        lambda raw: raw["tasks"]["late_arrival"]["suites"]["holdout"].update(label_delay_days=1),
        r"suites\.holdout.*`label_delay_days` is for rolling suites",
    ),
    (
        "rolling train suite",
        lambda raw: raw["tasks"]["late_arrival"]["suites"].update(
            train={"rolling_days": 28, "role": "train"}
        ),
        r"tasks\.late_arrival.*the train suite 'train' is rolling",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_configuration_errors_name_the_key_and_the_fix(
    example: dict[str, Any], tmp_path: Path, edit: Any, message: str
) -> None:
    path = write(tmp_path, edited(example, edit))
    with pytest.raises(ConfigurationError, match=message) as raised:
        load_project(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "project: {name: a}\nproject: {name: b}\n",
            r"line 2, column 1: the key 'project' is given twice \(first on line 1\): keep one",
        ),
        (
            "project: {name: a}\nsources:\n  t:\n"
            "    partition: {column: d, first_day: 2026-08-32}\n",
            r"line 4, .*'2026-08-32' is not a valid date \(day is out of range for month\)",
        ),
        (
            "project: {name: a}\nsources:\n  t:\n    partition: {column: d, first_day: May 1st}\n"
            "    keys: [d]\n    columns: {d: date32}\n",
            r"sources\.t\.partition\.first_day: Input should be a valid date",
        ),
    ],
    ids=["duplicate key", "impossible date", "date in words"],
)
def test_yaml_mistakes_are_one_line_naming_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clearlake.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as raised:
        load_project(path)
    assert "function-after" not in str(raised.value)
    assert "literal" not in str(raised.value)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="must be a mapping with a `project:` section"):
        parse_project(["sources"], path=tmp_path / "clearlake.yaml")


def test_a_folder_without_a_configuration_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"is a folder without clearlake\.yaml"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    "text",
    ["int64", "float64", "string", "bool", "date32", "timestamp[us, tz=UTC]", "decimal128(12, 2)"],
)
def test_type_names_round_trip(text: str) -> None:
    assert type_name(parse_type(text)) == text


def test_config_check_prints_what_the_project_defines() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clearlake.cli.main", "config", "check", str(DEFAULT_PROJECT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("flights", "flight_features", "departures", "late_arrival", "late-arrivals"):
        assert name in done.stdout


def test_config_check_fails_with_one_line(example: dict[str, Any], tmp_path: Path) -> None:
    path = write(
        tmp_path, edited(example, lambda raw: raw["tasks"]["arrival_delay"].update(target="x"))
    )
    done = subprocess.run(
        [sys.executable, "-m", "clearlake.cli.main", "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "tasks.arrival_delay.target: 'x' is not a column" in done.stderr


def test_an_anchored_copy_loads_from_another_folder(tmp_path: Path) -> None:
    raw = yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text())
    raw["reports"].pop("templates")  # a default is anchored too
    moved = tmp_path / "elsewhere" / "clearlake.yaml"
    moved.parent.mkdir()
    moved.write_text(yaml.safe_dump(anchored(raw, DEFAULT_PROJECT), sort_keys=False))

    project = load_project(moved)
    original = load_project(DEFAULT_PROJECT)
    assert project.templates_dir == original.templates_dir == DEFAULT_PROJECT / "notebooks"
    assert project.api_policy == original.api_policy
    sql = {n: f.sql for n, f in project.config.features.items()}
    assert sql == {
        n: f.sql and str(original.resolve(f.sql)) for n, f in original.config.features.items()
    }
    assert project.config.project.python_path == [str(DEFAULT_PROJECT)]
    # An image's paths are kept as text, whatever this machine holds.
    assert anchored(raw, "/opt/p")["api"]["policy"] == "/opt/p/" + raw["api"]["policy"]
