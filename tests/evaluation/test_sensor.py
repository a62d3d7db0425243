"""The commit sensor, evaluated with build_sensor_context on real repositories."""

import json
from pathlib import Path

import dagster as dg
import pytest
import yaml
from evaluation_env import TASK, evaluation_definitions, example_config
from flights_example.demo_repos import SampleCommit, add_commit, create_sample_repository

from clearlake.evaluation.watch import plan_tick
from clearlake.names import COMMIT_SENSOR, candidate_partitions_name, evaluation_job
from clearlake.project.load import Project, load_project
from clearlake.settings import load_settings

PARTITIONS = candidate_partitions_name(TASK)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "repo"
    return path, create_sample_repository(path)


def config_for(tmp_path: Path, repos: list[dict[str, object]]) -> Project:
    path = tmp_path / "clearlake.yaml"
    raw = example_config()
    raw["tasks"]["late_arrival"].pop("pipeline")  # these tests register single repositories
    path.write_text(yaml.safe_dump({**raw, "repositories": repos}))
    return load_project(path)


def entry(location: Path, **fields: object) -> dict[str, object]:
    return {
        "name": "flight-delays",
        "task": TASK,
        "location": str(location),
        "entrypoint": "delay_model:DelayModel",
        **fields,
    }


def tick(project: Project, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    definitions = evaluation_definitions(project, load_settings())
    sensor = definitions.resolve_sensor_def(COMMIT_SENSOR)
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=definitions) as ctx:
        result = sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def keys(result: dg.SensorResult) -> list[str | None]:
    return [r.partition_key for r in result.run_requests or []]


def test_each_commit_is_requested_once_in_order(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, shas = repo
    config = config_for(tmp_path, [entry(path)])
    instance = dg.DagsterInstance.ephemeral()
    first = tick(config, instance, None)
    expected = [f"flight-delays@{s[:7]}" for s in shas]
    assert keys(first) == expected
    assert [r.run_key for r in first.run_requests or []] == expected
    assert first.run_requests is not None and first.dynamic_partitions_requests is not None
    assert first.run_requests[0].tags["clearlake/commit"] == shas[0]
    assert {r.job_name for r in first.run_requests} == {evaluation_job(TASK)}
    assert list(first.dynamic_partitions_requests[0].partition_keys) == expected
    assert json.loads(first.cursor or "") == {"flight-delays:main": shas[-1]}
    assert sorted(instance.get_dynamic_partitions(PARTITIONS)) == sorted(expected)

    quiet = tick(config, instance, first.cursor)
    assert keys(quiet) == [] and quiet.skip_reason is not None
    assert not quiet.dynamic_partitions_requests

    newer = add_commit(path, SampleCommit("Tune", {"notes.txt": "1"}))
    after = tick(config, instance, quiet.cursor)
    assert keys(after) == [f"flight-delays@{newer[:7]}"]
    assert json.loads(after.cursor or "")["flight-delays:main"] == newer


def test_restart_never_skips_a_commit(repo: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, shas = repo
    config = config_for(tmp_path, [entry(path)])
    saved_cursor = json.dumps({"flight-delays:main": shas[0]})  # the daemon stopped here
    pushed = [add_commit(path, SampleCommit(f"c{i}", {"n.txt": str(i)})) for i in range(3)]
    settings = load_settings()
    plan = plan_tick(
        config, settings, json.loads(saved_cursor), is_known=lambda *_: True, max_per_tick=3
    )
    assert [r.commit for r in plan.requests] == [*shas[1:], pushed[0]]
    plan2 = plan_tick(config, settings, plan.cursor, is_known=lambda *_: True, max_per_tick=3)
    assert [r.commit for r in plan2.requests] == pushed[1:]


def test_initial_history_limits_the_first_look(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, shas = repo
    config = config_for(tmp_path, [entry(path, initial_history=1)])
    plan = plan_tick(config, load_settings(), {}, is_known=lambda *_: True)
    assert [r.commit for r in plan.requests] == [shas[-1]]


def test_unknown_baseline_is_requested_first(repo: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, shas = repo
    add_commit(path, SampleCommit("Experiment", {"x.txt": "1"}), branch="feature")
    config = config_for(
        tmp_path,
        [
            entry(
                path,
                branches=["feature"],
                initial_history=1,
                baseline={"policy": "branch", "branch": "main"},
            )
        ],
    )
    plan = plan_tick(config, load_settings(), {}, is_known=lambda *_: False)
    assert [r.reason for r in plan.requests] == [
        f"baseline of {plan.requests[1].commit[:7]}",
        "new commit on feature",
    ]
    assert plan.requests[0].commit == shas[-1]  # the head of main


def test_unreadable_repository_is_reported_not_fatal(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, shas = repo
    config = config_for(
        tmp_path,
        [
            {"name": "gone", "task": TASK, "location": str(tmp_path / "gone"), "entrypoint": "m:C"},
            entry(path, branches=["main", "release"]),
        ],
    )
    plan = plan_tick(config, load_settings(), {}, is_known=lambda *_: True)
    assert len(plan.requests) == len(shas)
    assert any("is not a git repository" in note for note in plan.skipped)
    assert any("branch 'release' does not exist" in note for note in plan.skipped)


def test_each_task_has_its_job_and_one_sensor_submits_to_it(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """Two tasks: each job holds exactly its task's candidate assets; one sensor serves both,
    each commit going to its repository's task (partitions and job)."""
    path, shas = repo
    late = tmp_path / "late"
    late_shas = create_sample_repository(late)
    project = config_for(
        tmp_path,
        [entry(path), {**entry(late), "name": "late-arrivals", "task": "late_arrival"}],
    )
    definitions = evaluation_definitions(project, load_settings())
    for task in ("arrival_delay", "late_arrival"):
        job = definitions.resolve_job_def(evaluation_job(task))
        selected = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
        assert selected == {
            f"evaluation/{task}/candidate_predictions",
            f"evaluation/{task}/candidate_scores",
            f"evaluation/{task}/candidate_comparison",
        }
    instance = dg.DagsterInstance.ephemeral()
    result = tick(project, instance, None)
    jobs = {r.partition_key: r.job_name for r in result.run_requests or []}
    assert jobs[f"late-arrivals@{late_shas[0][:7]}"] == evaluation_job("late_arrival")
    assert jobs[f"flight-delays@{shas[0][:7]}"] == evaluation_job("arrival_delay")
    assert instance.get_dynamic_partitions(candidate_partitions_name("late_arrival")) == [
        f"late-arrivals@{s[:7]}" for s in late_shas
    ]
