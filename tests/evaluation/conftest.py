"""A real evaluation environment: private lake, features, suites, git repositories, instance.

The ``evaluated`` session fixture runs the whole loop once, as the daemon would: real git
repositories in temporary folders, real sensor ticks (``build_sensor_context``), real
Dagster runs of ``candidate_evaluation`` whose candidates run as subprocesses (crashing,
hanging and malformed ones included). Tests then assert on what it recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from evaluation_env import (
    BROKEN,
    BROKEN_COMMITS,
    DOCS_ONLY,
    GATED,
    HANG_COMMIT,
    HANGING,
    SUBMITTED,
    Environment,
    Evaluated,
    commit_all,
    domain_definitions,
    link_lake,
    variables_set,
    write_config,
)
from flights_example.demo_repos import SAMPLE_COMMITS, init_repository

from clearlake.demo import loop
from clearlake.lake.store import LakeStore
from clearlake.project.load import load_project
from clearlake.settings import load_settings


@pytest.fixture(scope="session")
def environment(
    tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore, sample_db: str
) -> Iterator[Environment]:
    home = tmp_path_factory.mktemp("evaluation-home")
    (home / "dagster").mkdir()
    store = link_lake(sample_lake, home / "lake")
    names = ("flight-delays", BROKEN, HANGING, SUBMITTED, GATED)
    repos = {name: home / "repos" / name for name in names}
    config_path = write_config(home / "clearlake.yaml", repos)
    variables = {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_LAKE_URL": store.url,
        "CLEARLAKE_SOURCE_URL": sample_db,
        "CLEARLAKE_CONFIG": str(config_path),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    with variables_set(variables):
        settings = load_settings()
        project = load_project(config_path)
        instance = dg.DagsterInstance.get()
        definitions = domain_definitions(project, settings)
        loop.ensure_features_and_suites(definitions, instance, store, project, lambda _: None)
        shas: dict[str, list[str]] = {name: [] for name in repos}
        for path in repos.values():
            init_repository(path)
    # The variables are set again only around the tests that use this environment, so
    # they never leak into other test directories of the session.
    yield Environment(home, settings, project, store, instance, definitions, repos, shas, variables)
    instance.dispose()


@pytest.fixture(autouse=True)
def _environment_variables(request: pytest.FixtureRequest) -> Iterator[None]:
    if not {"environment", "evaluated"} & set(request.fixturenames):
        yield
        return
    env: Environment = request.getfixturevalue("environment")
    with variables_set(env.variables):
        yield


@pytest.fixture(scope="session")
def evaluated(environment: Environment) -> Evaluated:
    """Both repositories' histories evaluated by real sensor ticks and runs."""
    commit_all(
        environment,
        "flight-delays",
        [SAMPLE_COMMITS[0], SAMPLE_COMMITS[1], DOCS_ONLY, SAMPLE_COMMITS[2]],
    )
    commit_all(environment, BROKEN, BROKEN_COMMITS)
    commit_all(environment, HANGING, [HANG_COMMIT])
    with variables_set(environment.variables):
        done = loop.run_until_quiet(environment.definitions, environment.instance, lambda _: None)
        loop.refresh_leaderboards(
            environment.definitions, environment.instance, environment.project
        )
    return Evaluated(environment, {e.key: e for e in done})
