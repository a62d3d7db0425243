"""Pipelines of repositories in the project file: each mistake is one line naming the stage."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearlake.errors import ConfigurationError
from clearlake.evaluation.entrypoints import required_methods
from clearlake.project.load import parse_project
from clearlake.settings import DEFAULT_PROJECT

FEATURES = {
    "repository": "late-features",
    "requires": ["dep_delay", "distance"],
    "output": {
        "columns": {"flight_id": "string not null", "dep_delay": "float64", "speed": "float64"}
    },
}
MODEL = {"repository": "late-arrivals", "requires": ["dep_delay", "speed"]}


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text())
    return raw


def with_pipeline(example: dict[str, Any], *stages: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(example)
    raw["tasks"]["late_arrival"]["pipeline"] = [copy.deepcopy(s) for s in stages]
    raw["repositories"] = [r for r in raw["repositories"] if r["name"] != "late-features"]
    raw["repositories"].append(
        {
            "name": "late-features",
            "location": "{home}/repos/late-features",
            "entrypoint": "features:LateFeatures",
        }
    )
    return raw


def parse(raw: dict[str, Any], tmp_path: Path) -> Any:
    (tmp_path / "features").mkdir(exist_ok=True)
    sql = DEFAULT_PROJECT / "features" / "departures.sql"
    (tmp_path / "features" / "departures.sql").write_text(sql.read_text())
    (tmp_path / "api_policy.yaml").write_text((DEFAULT_PROJECT / "api_policy.yaml").read_text())
    raw = copy.deepcopy(raw)
    raw["project"]["python_path"] = [str(DEFAULT_PROJECT)]
    return parse_project(raw, path=tmp_path / "clearlake.yaml")


def test_a_pipeline_task_names_its_stages_and_their_task(
    example: dict[str, Any], tmp_path: Path
) -> None:
    project = parse(with_pipeline(example, FEATURES, MODEL), tmp_path)
    task = project.task("late_arrival")
    assert task.model_stage is not None and task.model_stage.repository == "late-arrivals"
    assert [s.repository for s in task.transform_stages] == ["late-features"]
    assert task.pipeline[0].reference.policy == "branch"
    assert project.task_of("late-features") == "late_arrival"
    assert project.task_of("late-arrivals") == "late_arrival"
    assert project.pipelines_of("late-features") == ["late_arrival"]
    assert [r.name for r in project.repositories_of("late_arrival")] == [
        "late-features",
        "late-arrivals",
    ]
    assert [r.name for r in project.repositories_of("arrival_delay")] == ["flight-delays"]
    # a task without a pipeline dumps (and hashes) as before pipelines existed
    assert "pipeline" not in project.task("arrival_delay").model_dump(mode="json")
    assert "pipeline" in task.model_dump(mode="json")


def _stage(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **changes}


CASES = [
    (
        "unknown repository",
        (_stage(FEATURES, repository="late-featurez"), MODEL),
        r"tasks\.late_arrival\.pipeline\[0\]\.repository: stage 'late-featurez' is not a "
        r"registered repository",
    ),
    (
        "a repository twice (a cycle)",
        (FEATURES, _stage(FEATURES, requires=[]), MODEL),
        r"pipeline\[1\]\.repository: stage 'late-features' appears twice in the pipeline",
    ),
    (
        "the model stage not last",
        (MODEL, FEATURES),
        r"pipeline\[0\]\.output: stage 'late-arrivals' is not the last stage but declares no "
        r"output",
    ),
    (
        "a requirement the previous stage does not output",
        (FEATURES, _stage(MODEL, requires=["dep_delay", "distance"])),
        r"pipeline\[1\]\.requires: stage 'late-arrivals' requires distance, which the output of "
        r"stage 'late-features' lack",
    ),
    (
        "a requirement the dataset lacks",
        (_stage(FEATURES, requires=["late", "wingspan"]), MODEL),
        r"pipeline\[0\]\.requires: stage 'late-features' requires late, wingspan, which the "
        r"dataset departures's candidate columns lack",
    ),
    (
        "an output without the row id",
        (_stage(FEATURES, output={"columns": {"speed": "float64"}}), _stage(MODEL, requires=[])),
        r"pipeline\[0\]\.output\.columns: stage 'late-features': the output lacks the task's "
        r"row id column 'flight_id'",
    ),
    (
        "a champion reference without its commit",
        (_stage(FEATURES, reference={"policy": "champion"}), MODEL),
        r"reference policy 'champion' needs `commit: <sha>`",
    ),
]


@pytest.mark.parametrize(("stages", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pipeline_mistakes_are_one_line_naming_the_stage(
    example: dict[str, Any], tmp_path: Path, stages: tuple[dict[str, Any], ...], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        parse(with_pipeline(example, *stages), tmp_path)
    assert "\n" not in str(raised.value)


def test_a_stage_registered_to_another_task_is_refused(
    example: dict[str, Any], tmp_path: Path
) -> None:
    raw = with_pipeline(example, FEATURES, MODEL)
    raw["repositories"][-1]["task"] = "arrival_delay"
    with pytest.raises(ConfigurationError, match=r"stage 'late-features' is registered to task"):
        parse(raw, tmp_path)
    raw = with_pipeline(example, FEATURES, _stage(MODEL, repository="flight-delays", requires=[]))
    with pytest.raises(
        ConfigurationError,
        match=r"repositories\[1\]\.task: repository "
        r"'late-arrivals' is registered to task late_arrival, whose candidates",
    ):
        raw["repositories"][0]["task"] = "late_arrival"
        parse(raw, tmp_path)


def test_a_pipeline_task_cannot_be_monitored_yet(example: dict[str, Any], tmp_path: Path) -> None:
    """Watching the model stage alone would skip its transform stages: refused, one line."""
    raw = with_pipeline(example, FEATURES, MODEL)
    raw["tasks"]["late_arrival"]["monitor"] = copy.deepcopy(
        raw["tasks"]["arrival_delay"]["monitor"]
    )
    with pytest.raises(
        ConfigurationError, match=r"tasks\.late_arrival\.monitor: task late_arrival has a pipeline"
    ) as raised:
        parse(raw, tmp_path)
    assert "\n" not in str(raised.value)


def test_config_check_asks_a_transform_stage_for_transform(
    example: dict[str, Any], tmp_path: Path
) -> None:
    project = parse(with_pipeline(example, FEATURES, MODEL), tmp_path)
    assert required_methods(project, "late-features") == ["transform"]
    assert required_methods(project, "late-arrivals") == ["fit", "predict"]
    assert required_methods(project, "flight-delays") == ["fit", "predict"]
