"""A small real history for lineage (fixtures re-exported by conftest.py): the lake
replicated through Dagster, features, suites, two commits evaluated, then the held-out
suite redefined and one candidate evaluated again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml
from flights_example.demo_repos import SAMPLE_COMMITS, create_sample_repository

from clearlake import names
from clearlake.demo import loop
from clearlake.lake.store import LakeStore
from clearlake.orchestration.code_location import load_definitions
from clearlake.project import Project, load_project
from clearlake.project.load import anchored
from clearlake.settings import DEFAULT_PROJECT

TASK = "arrival_delay"


def config_file(path: Path, repo: Path, holdout_end: str) -> Path:
    """The example project with one task on a short window, at ``path``."""
    raw = anchored(
        yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text()), DEFAULT_PROJECT
    )
    task = raw["tasks"][TASK]
    task["suites"] = {
        "train": {"start": "2013-01-01", "end": "2013-01-08", "role": "train"},
        "holdout": {"start": "2013-01-09", "end": holdout_end, "role": "test"},
    }
    task["baseline_wait_seconds"] = 1
    task["verdict"] = {"bootstrap": {"samples": 60}}
    raw["tasks"] = {TASK: task}
    raw["repositories"] = [
        {"name": "flight-delays", "location": str(repo), "entrypoint": "delay_model:DelayModel"}
    ]
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def definitions() -> dg.Definitions:
    loaded = load_definitions()
    assert isinstance(loaded, dg.Definitions)
    return loaded


@dataclass
class History:
    instance: dg.DagsterInstance
    shas: list[str]
    runs: dict[str, list[str]]
    """Run ids per candidate key, oldest first."""
    variables: dict[str, str]

    def key(self, index: int) -> str:
        return f"flight-delays@{self.shas[index][:7]}"


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory, sample_db: str) -> Iterator[History]:
    home = tmp_path_factory.mktemp("lineage-home")
    (home / "dagster").mkdir()
    repo = home / "repos" / "flight-delays"
    shas = create_sample_repository(repo, SAMPLE_COMMITS[:2])
    first = config_file(home / "clearlake.yaml", repo, holdout_end="2013-01-16")
    variables = {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_LAKE_URL": str(home / "lake"),
        "CLEARLAKE_SOURCE_URL": sample_db,
        "CLEARLAKE_CONFIG": str(first),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        instance = dg.DagsterInstance.get()
        store = LakeStore(str(home / "lake"))
        project: Project = load_project(first)
        definitions_ = definitions()
        loop.ensure_lake(definitions_, instance, store, project, lambda _: None)
        loop.ensure_features_and_suites(definitions_, instance, store, project, lambda _: None)
        runs: dict[str, list[str]] = {}
        for done in loop.run_until_quiet(definitions_, instance, lambda _: None):
            assert done.success, done.error
            runs.setdefault(done.key, []).append(done.run_id)

        # The held-out suite is redefined (one day shorter) and the real model re-evaluated:
        # same candidate, same code, different data.
        second = config_file(home / "clearlake-2.yaml", repo, holdout_end="2013-01-15")
        patch.setenv("CLEARLAKE_CONFIG", str(second))
        definitions_ = definitions()
        result = loop.materialise(definitions_, instance, [names.suite_key(TASK, "holdout")])
        assert result.success
        key = f"flight-delays@{shas[1][:7]}"
        rerun = definitions_.resolve_job_def(names.evaluation_job(TASK)).execute_in_process(
            partition_key=key, instance=instance, run_config=loop.QUIET
        )
        assert rerun.success
        runs[key].append(rerun.run_id)
    variables["CLEARLAKE_CONFIG"] = str(second)
    # Set again only around the tests that use this history (no leak into other folders).
    yield History(instance, shas, runs, variables)
    instance.dispose()


@pytest.fixture(autouse=True)
def _history_variables(request: pytest.FixtureRequest) -> Iterator[None]:
    if "history" not in request.fixturenames:
        yield
        return
    history: History = request.getfixturevalue("history")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in history.variables.items():
            patch.setenv(name, value)
        yield
