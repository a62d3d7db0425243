"""A small real history for lineage (fixtures re-exported by conftest.py): the lake
replicated through Dagster, features, suites, two commits evaluated, then the held-out
suite redefined and one candidate evaluated again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml
from flights_example.demo_repos import SAMPLE_COMMITS, create_sample_repository

from assets.evaluation.automation import candidate_evaluation_job, commit_sensor
from assets.evaluation.candidates import candidate_assets
from assets.evaluation.suites import suite_assets
from assets.features.flight_features import flight_features_asset
from assets.lake.replication import replication_asset
from clearlake.demo import loop
from clearlake.evaluation.config import ClearlakeConfig, load_config
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LAKE_TABLES
from clearlake.resources import resources_for
from clearlake.settings import load_settings

WINDOW = (dt.date(2013, 1, 1), dt.date(2013, 1, 16))


def config_file(path: Path, repo: Path, holdout_end: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "suites": {
                    "train": {"start": "2013-01-01", "end": "2013-01-08", "role": "train"},
                    "holdout": {"start": "2013-01-09", "end": holdout_end, "role": "test"},
                },
                "evaluation": {"baseline_wait_seconds": 1, "bootstrap": {"samples": 60}},
                "repositories": [
                    {
                        "name": "flight-delays",
                        "location": str(repo),
                        "entrypoint": "delay_model:DelayModel",
                    }
                ],
            }
        )
    )
    return path


def definitions(config: ClearlakeConfig) -> dg.Definitions:
    job = candidate_evaluation_job()
    return dg.Definitions(
        assets=[
            *(replication_asset(t) for t in LAKE_TABLES.values()),
            flight_features_asset(),
            *suite_assets(config),
            *candidate_assets(config),
        ],
        jobs=[job],
        sensors=[commit_sensor(config, job)],
        resources=resources_for(load_settings()),
    )


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
        config = load_config(first)
        defs = definitions(config)
        loop.ensure_lake(defs, instance, store, WINDOW, lambda _: None)
        loop.ensure_features_and_suites(defs, instance, store, config, lambda _: None)
        runs: dict[str, list[str]] = {}
        for done in loop.run_until_quiet(defs, instance, lambda _: None):
            assert done.success, done.error
            runs.setdefault(done.key, []).append(done.run_id)

        # The held-out suite is redefined (one day shorter) and the real model re-evaluated:
        # same candidate, same code, different data.
        second = config_file(home / "clearlake-2.yaml", repo, holdout_end="2013-01-15")
        patch.setenv("CLEARLAKE_CONFIG", str(second))
        config = load_config(second)
        defs = definitions(config)
        result = loop.materialise(
            defs, instance, [dg.AssetKey(["evaluation", "suites", "holdout"])]
        )
        assert result.success
        key = f"flight-delays@{shas[1][:7]}"
        rerun = defs.resolve_job_def("candidate_evaluation").execute_in_process(
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
