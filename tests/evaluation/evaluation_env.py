"""Helpers of the evaluation tests: the example project adapted to the test lake, repositories,
the features and evaluation definitions, and the loop driven as the daemon would."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from assets.definitions import load_domain
from assets.evaluation.automation import commit_sensor, evaluation_jobs
from assets.evaluation.candidates import candidate_assets
from assets.evaluation.leaderboard import leaderboard_assets
from assets.evaluation.suites import suite_assets
from clearlake.demo import loop
from clearlake.demo.repos import SampleCommit, add_commit, init_repository
from clearlake.lake.store import LakeStore
from clearlake.names import suite_key
from clearlake.orchestration import runs
from clearlake.orchestration.environment import resources_for
from clearlake.project.load import Project, anchored, load_project
from clearlake.settings import DEFAULT_PROJECT, Settings, load_settings

TASK = "arrival_delay"
SUITES = {
    "train": {"start": "2013-01-01", "end": "2013-01-14", "role": "train"},
    "holdout": {"start": "2013-01-15", "end": "2013-02-14", "role": "test"},
    "holdout_2013_01": {"start": "2013-01-15", "end": "2013-01-31", "role": "slice"},
    "holdout_2013_02": {"start": "2013-02-01", "end": "2013-02-14", "role": "slice"},
}

BROKEN = "broken-models"
GATED = "gated-model"
"""A stochastic model that follows the seed contract (the gate's own tests)."""
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
    """A lake that shares the sample lake's tables (symlinks) and writes its own results."""
    root.mkdir(parents=True, exist_ok=True)
    for table in Path(source.root).iterdir():
        if table.name not in {"features", "evaluation"}:
            os.symlink(table, root / table.name)
    return LakeStore(str(root))


def example_config() -> dict[str, Any]:
    """The flights example's configuration with its relative paths made absolute."""
    return anchored(
        yaml.safe_load((DEFAULT_PROJECT / "clearlake.yaml").read_text()), DEFAULT_PROJECT
    )


def write_config(path: Path, repos: dict[str, Path], **task: object) -> Path:
    """The example project, its regression task on the test windows, test repositories."""
    raw = example_config()
    delays = raw["tasks"][TASK]
    delays.update(
        {"suites": SUITES, "candidate_timeout_seconds": 120, "baseline_wait_seconds": 5, **task}
    )
    raw["tasks"] = {TASK: delays}
    entry = {"task": TASK, "location": "", "entrypoint": "model:Model"}
    raw["repositories"] = [
        {**entry, "name": "flight-delays", "location": str(repos["flight-delays"]),
         "entrypoint": "delay_model:DelayModel"},
        {**entry, "name": BROKEN, "location": str(repos[BROKEN])},
        {**entry, "name": SUBMITTED, "location": str(repos[SUBMITTED]),
         "entrypoint": "delay_model:DelayModel"},
        {**entry, "name": HANGING, "location": str(repos[HANGING]),
         "timeout_seconds": HANG_TIMEOUT},
    ]  # fmt: skip
    if GATED in repos:
        raw["repositories"].append(
            {**entry, "name": GATED, "location": str(repos[GATED]), "no_baseline": "block"}
        )
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def evaluation_definitions(
    project: Project, settings: Settings, *, features: Sequence[dg.AssetsDefinition] = ()
) -> dg.Definitions:
    """The evaluation domain of ``project`` (+ ``features``), as the code location builds it."""
    jobs = evaluation_jobs(project, in_process=True)  # as locally
    return dg.Definitions(
        assets=[
            *features,
            *suite_assets(project),
            *candidate_assets(project),
            *leaderboard_assets(project),
        ],
        jobs=jobs,
        sensors=[commit_sensor(project, jobs)] if project.config.repositories else [],
        resources=resources_for(settings),
    )


def feature_assets() -> list[dg.AssetsDefinition]:
    """The features domain of the current project (CLEARLAKE_CONFIG)."""
    return [a for a in load_domain("features").assets or [] if isinstance(a, dg.AssetsDefinition)]


def domain_definitions(project: Project, settings: Settings) -> dg.Definitions:
    """Features and evaluation only (the lake comes linked from the shared fixture)."""
    return evaluation_definitions(project, settings, features=feature_assets())


@dataclass
class Environment:
    home: Path
    settings: Settings
    project: Project
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


STOCHASTIC = """import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

FEATURES = ["dep_delay", "sched_dep_hour", "distance"]
DRAWS = {draws}


class {cls}:
    def fit(self, train, seed=None):
        rng = np.random.RandomState(seed)
        rng.random_sample(DRAWS)  # a harmless refactor: the random stream moves on
        self.model = GradientBoostingRegressor(
            n_estimators=25, max_depth=3, subsample=0.5, random_state=rng
        )
        self.model.fit(self._x(train), train["arr_delay"])

    def _x(self, frame):
        return frame[FEATURES].astype(float).fillna(0.0).to_numpy()

    def predict(self, frame):
        return self.model.predict(self._x(frame)) + {offset}
"""


def stochastic(
    message: str, *, draws: int = 0, offset: float = 0.0, module: str = "model", cls: str = "Model"
) -> SampleCommit:
    """A commit of the seed-following stochastic model (``module:cls``)."""
    source = STOCHASTIC.format(draws=draws, offset=offset, cls=cls)
    return SampleCommit(message, {f"{module}.py": source})


# -- a small shop project: a binary task on generated orders ---------------------------

SHOP_FIRST = dt.date(2024, 3, 1)
SHOP_DAYS = 40
SHOP_ROWS_PER_DAY = 150
SHOP_TASK = "returns"
SHOP_REPO = "returns-model"
SHOP_PROJECT: dict[str, Any] = {
    "project": {"name": "shop"},
    "sources": {
        "orders": {
            "partition": {"column": "order_date", "first_day": SHOP_FIRST.isoformat()},
            "keys": ["order_id"],
            "columns": {"order_id": "string not null", "order_date": "date32 not null"},
        }
    },
    "features": {
        "returns": {
            "function": "shop_features:returns",
            "inputs": ["orders"],
            "row_id": "order_id",
            "date_column": "order_date",
            "columns": {
                "order_id": "string not null",
                "order_date": "date32 not null",
                "region": "string not null",
                "amount": "float64 not null",
                "returned": "bool",
            },
        }
    },
    "tasks": {
        SHOP_TASK: {
            "dataset": "returns",
            "target": "returned",
            "type": "binary",
            "suites": {
                "train": {"start": "2024-03-01", "end": "2024-03-20", "role": "train"},
                "holdout": {"start": "2024-03-21", "end": "2024-04-09", "role": "test"},
            },
            "metrics": ["roc_auc", "log_loss", "brier"],
            "primary_metric": "log_loss",
            "subgroups": ["region", {"name": "basket", "column": "amount", "bins": [50, 150]}],
            "min_subgroup_rows": 150,
            "baseline_wait_seconds": 5,
        }
    },
}
SHOP_BASE_RATE = SampleCommit(
    "Base rate",
    {
        "model.py": "import numpy as np\n\nclass Model:\n"
        "    def fit(self, train):\n        self.rate = float(train['returned'].mean())\n"
        "    def predict(self, frame):\n        return np.full(len(frame), self.rate)\n"
    },
)

SHOP_FEATURES = """
def returns(inputs, day):
    raise NotImplementedError("the tests write this feature table straight into the lake")
"""
"""The feature function the project declares (the whole code location imports it)."""


def write_shop_features(store: LakeStore) -> None:
    """Orders whose return probability grows with the amount and is high in region 'west'."""
    rng = np.random.default_rng(42)
    schema = pa.schema(
        [
            pa.field("order_id", pa.string(), nullable=False),
            pa.field("order_date", pa.date32(), nullable=False),
            pa.field("region", pa.string(), nullable=False),
            pa.field("amount", pa.float64(), nullable=False),
            pa.field("returned", pa.bool_()),
        ]
    )
    for i in range(SHOP_DAYS):
        day = SHOP_FIRST + dt.timedelta(days=i)
        region = rng.choice(["north", "south", "west"], SHOP_ROWS_PER_DAY)
        amount = rng.gamma(2.0, 50.0, SHOP_ROWS_PER_DAY)
        logit = -2.5 + amount / 80 + np.where(region == "west", 1.0, 0.0)
        returned = rng.random(SHOP_ROWS_PER_DAY) < 1 / (1 + np.exp(-logit))
        table = pa.table(
            {
                "order_id": [f"{day:%Y%m%d}-{n:04d}" for n in range(SHOP_ROWS_PER_DAY)],
                "order_date": [day] * SHOP_ROWS_PER_DAY,
                "region": region.tolist(),
                "amount": amount,
                "returned": returned.tolist(),
            },
            schema=schema,
        )
        path = store.partition_file("features/returns", f"date={day.isoformat()}")
        store.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        pq.write_table(table, path, filesystem=store.fs)


@dataclass
class Shop:
    home: Path
    project: Project
    store: LakeStore
    instance: dg.DagsterInstance
    definitions: dg.Definitions
    keys: list[str]
    """The candidate keys of the commits, in commit order."""
    outcomes: dict[str, loop.Evaluated]


@contextlib.contextmanager
def shop_environment(home: Path, commits: Sequence[SampleCommit], **task: object) -> Iterator[Shop]:
    """A project declared in ``home`` (features written straight into its private lake),
    its repository with ``commits``, evaluated by real sensor ticks and Dagster runs; the
    variables that select it stay set until the context ends. ``task`` overrides fields of
    the task."""
    repo = home / SHOP_REPO
    config = {**SHOP_PROJECT, "tasks": {SHOP_TASK: {**SHOP_PROJECT["tasks"][SHOP_TASK], **task}}}
    config["repositories"] = [
        {"name": SHOP_REPO, "task": SHOP_TASK, "location": str(repo), "entrypoint": "model:Model"}
    ]
    (home / "project").mkdir()
    path = home / "project" / "clearlake.yaml"
    path.write_text(yaml.safe_dump(config))
    (home / "project" / "shop_features.py").write_text(SHOP_FEATURES)
    store = LakeStore(str(home / "lake"))
    write_shop_features(store)
    init_repository(repo)
    shas = [add_commit(repo, c, timestamp=1_714_557_600 + 3600 * i) for i, c in enumerate(commits)]
    (home / "dagster").mkdir()
    variables = {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_LAKE_URL": store.url,
        "CLEARLAKE_CONFIG": str(path),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    with variables_set(variables):
        project = load_project(path)
        instance = dg.DagsterInstance.get()
        definitions = evaluation_definitions(project, load_settings())
        suites = [suite_key(SHOP_TASK, s) for s in ("train", "holdout")]
        made = runs.materialize(definitions, instance, suites)
        assert made.success, runs.failure_message(made)
        done = loop.run_until_quiet(definitions, instance, lambda _: None)
        loop.refresh_leaderboards(definitions, instance, project)
        keys = [f"{SHOP_REPO}@{s[:7]}" for s in shas]
        outcomes = {e.key: e for e in done}
        yield Shop(home, project, store, instance, definitions, keys, outcomes)
        instance.dispose()
