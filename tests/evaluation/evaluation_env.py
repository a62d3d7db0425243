"""Helpers of the evaluation tests: configuration, repositories, domain definitions."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml
from flights_example.demo_repos import SampleCommit, add_commit

from assets.evaluation.automation import candidate_evaluation_job, commit_sensor
from assets.evaluation.candidates import candidate_assets
from assets.evaluation.leaderboard import leaderboard_asset
from assets.evaluation.suites import suite_assets
from assets.features.flight_features import flight_features_asset
from clearlake.demo import loop
from clearlake.evaluation.config import ClearlakeConfig
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import LAKE_TABLES
from clearlake.resources import resources_for
from clearlake.settings import PROJECT_ROOT, Settings

SUITES = {
    "train": {"start": "2013-01-01", "end": "2013-01-14", "role": "train"},
    "holdout": {"start": "2013-01-15", "end": "2013-02-14", "role": "test"},
    "holdout_2013_01": {"start": "2013-01-15", "end": "2013-01-31", "role": "slice"},
    "holdout_2013_02": {"start": "2013-02-01", "end": "2013-02-14", "role": "slice"},
}
BROKEN = "broken-models"
HANG_TIMEOUT = 4.0

DOCS_ONLY = SampleCommit(
    "Document the model", {"README.md": "# flight-delays\n\nNow documented.\n"}
)
HANGING = "hanging-model"
SUBMITTED = "submitted-model"
HANG_COMMIT = SampleCommit(
    "Hang in fit",
    {
        "model.py": "import time\n\nclass Model:\n"
        "    def fit(self, train):\n        time.sleep(600)\n"
        "    def predict(self, frame):\n        return []\n"
    },
)
BROKEN_COMMITS = [
    SampleCommit(
        "Crash in fit",
        {
            "model.py": "class Model:\n    def fit(self, train):\n"
            "        raise ValueError('boom: no column named delay')\n"
            "    def predict(self, frame):\n        return []\n"
        },
    ),
    SampleCommit(
        "NaN predictions",
        {
            "model.py": "class Model:\n    def fit(self, train):\n"
            "        pass\n    def predict(self, frame):\n"
            "        return [float('nan')] * len(frame)\n"
        },
    ),
    SampleCommit(
        "Too few predictions",
        {
            "model.py": "class Model:\n    def fit(self, train):\n"
            "        pass\n    def predict(self, frame):\n        return [1.0, 2.0]\n"
        },
    ),
    SampleCommit(
        "Text predictions",
        {
            "model.py": "class Model:\n    def fit(self, train):\n"
            "        pass\n    def predict(self, frame):\n"
            "        return ['late'] * len(frame)\n"
        },
    ),
    SampleCommit(
        "Working again",
        {
            "model.py": "class Model:\n    def fit(self, train):\n"
            "        self.value = float(train['arr_delay'].median())\n"
            "    def predict(self, frame):\n        return [self.value] * len(frame)\n"
        },
    ),
]


def link_lake(source: LakeStore, root: Path) -> LakeStore:
    root.mkdir(parents=True, exist_ok=True)
    for table in LAKE_TABLES:
        os.symlink(Path(source.root) / table, root / table)
    return LakeStore(str(root))


def write_config(path: Path, repos: dict[str, Path], **evaluation: object) -> Path:
    raw = {
        "suites": SUITES,
        "evaluation": {"candidate_timeout_seconds": 120, "baseline_wait_seconds": 5, **evaluation},
        "repositories": [
            {
                "name": "flight-delays",
                "location": str(repos["flight-delays"]),
                "entrypoint": "delay_model:DelayModel",
            },
            {
                "name": BROKEN,
                "location": str(repos[BROKEN]),
                "entrypoint": "model:Model",
            },
            {
                "name": SUBMITTED,
                "location": str(repos[SUBMITTED]),
                "entrypoint": "delay_model:DelayModel",
            },
            {
                "name": HANGING,
                "location": str(repos[HANGING]),
                "entrypoint": "model:Model",
                "timeout_seconds": HANG_TIMEOUT,
            },
        ],
        # The project's own resource profiles, for experiments.
        "profiles": yaml.safe_load((PROJECT_ROOT / "assets" / "clearlake.yaml").read_text())[
            "profiles"
        ],
    }
    path.write_text(yaml.safe_dump(raw))
    return path


def domain_definitions(config: ClearlakeConfig, settings: Settings) -> dg.Definitions:
    """Features and evaluation only (the lake comes linked from the shared fixture)."""
    job = candidate_evaluation_job(in_process=True)  # as locally
    return dg.Definitions(
        assets=[
            flight_features_asset(),
            *suite_assets(config),
            *candidate_assets(config),
            leaderboard_asset(config),
        ],
        jobs=[job],
        sensors=[commit_sensor(config, job)],
        resources=resources_for(settings),
    )


@dataclass
class Environment:
    home: Path
    settings: Settings
    config: ClearlakeConfig
    store: LakeStore
    instance: dg.DagsterInstance
    definitions: dg.Definitions
    repos: dict[str, Path]
    shas: dict[str, list[str]]
    variables: dict[str, str]
    """The environment variables that select it (set only while a test uses it)."""


@contextlib.contextmanager
def variables_set(variables: dict[str, str]) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        yield


def commit_all(env: Environment, name: str, commits: list[SampleCommit]) -> list[str]:
    made = [
        add_commit(env.repos[name], c, timestamp=1_714_557_600 + 3600 * (len(env.shas[name]) + i))
        for i, c in enumerate(commits)
    ]
    env.shas[name] += made
    return made


@dataclass
class Evaluated:
    env: Environment
    outcomes: dict[str, loop.Evaluated]

    def key(self, repo: str, index: int) -> str:
        return f"{repo}@{self.env.shas[repo][index][:7]}"
