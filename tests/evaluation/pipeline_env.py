"""A two-stage pipeline project for the tests: generated orders written straight into a
private lake, a transform repository served over ``git daemon`` and a model repository on
disk, evaluated by real commit-sensor ticks and real in-process Dagster runs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from evaluation_env import (
    SHOP_FEATURES,
    SHOP_PROJECT,
    SHOP_TASK,
    evaluation_definitions,
    variables_set,
    write_shop_features,
)

from clearlake.demo import loop
from clearlake.demo.repos import SampleCommit, add_commit, init_repository
from clearlake.lake.store import LakeStore
from clearlake.names import COMMIT_SENSOR, suite_key
from clearlake.orchestration import runs
from clearlake.project.load import Project, load_project
from clearlake.settings import load_settings

FEATURES_REPO = "returns-features"
MODEL_REPO = "returns-model"
OUTPUT = {"order_id": "string not null", "amount_log": "float64", "west": "float64"}

FEATURES = """import numpy as np
import pandas as pd


class Features:
    def transform(self, frame):
        return pd.DataFrame(
            {{
                "order_id": frame["order_id"],
                "amount_log": {amount},
                "west": {west},
            }}
        )
"""


def features(message: str, *, amount: str = "np.log1p(frame['amount'].astype(float))",
             west: str = "(frame['region'] == 'west').astype(float)") -> SampleCommit:  # fmt: skip
    return SampleCommit(message, {"features.py": FEATURES.format(amount=amount, west=west)})


GOOD_FEATURES = features("Amount on a log scale, a west flag")
DEGRADED_FEATURES = features("Simplify the amount feature", amount="0.0 * frame['amount']")
"""Silently degrading: the model downstream loses the amount signal."""
FIXED_FEATURES = features("Amount back, clipped", amount="np.log1p(frame['amount'].clip(0, 900))")
SCHEMA_BREAKING = features(
    "West as a label", west="np.where(frame['region'] == 'west', 'yes', 'no')"
)

MODEL = """import numpy as np

STEPS = {steps}


class Model:
    def fit(self, train, seed=None):
        x, y = self._x(train), train["returned"].astype(float).to_numpy()
        w = np.zeros(x.shape[1])
        for _ in range(STEPS):  # Newton steps of a (lightly ridged) logistic regression
            p = 1 / (1 + np.exp(-x @ w))
            hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(len(w))
            w -= np.linalg.solve(hessian, x.T @ (p - y))
        self.w = w

    def _x(self, frame):
        columns = sorted(c for c in frame.columns if c not in ("order_id", "returned"))
        values = [frame[c].astype(float).fillna(0.0).to_numpy() for c in columns]
        return np.column_stack([np.ones(len(frame)), *values])

    def predict(self, frame):
        return 1 / (1 + np.exp(-self._x(frame) @ self.w))
"""


def model(message: str, steps: int) -> SampleCommit:
    return SampleCommit(message, {"model.py": MODEL.format(steps=steps)})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def git_daemon(base: Path) -> Iterator[str]:
    """``git daemon`` serving the repositories under ``base``: yields git://127.0.0.1:PORT."""
    port = free_port()
    process = subprocess.Popen(
        ["git", "daemon", f"--base-path={base}", "--export-all", "--reuseaddr",
         "--listen=127.0.0.1", f"--port={port}", str(base)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                ["git", "ls-remote", f"git://127.0.0.1:{port}/{FEATURES_REPO}"],
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                break
            assert process.poll() is None, "git daemon exited"
            assert time.monotonic() < deadline, probe.stderr.decode()
            time.sleep(0.1)
        yield f"git://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Pipeline:
    home: Path
    project: Project
    store: LakeStore
    instance: dg.DagsterInstance
    definitions: dg.Definitions
    repos: dict[str, Path]
    shas: dict[str, list[str]]
    requests: list[dg.RunRequest] = dataclasses.field(default_factory=list)
    cursor: str | None = None

    def commit(self, repo: str, commit: SampleCommit) -> str:
        count = sum(len(s) for s in self.shas.values())
        sha = add_commit(self.repos[repo], commit, timestamp=1_714_557_600 + 3600 * count)
        self.shas[repo].append(sha)
        return sha

    def key(self, features_sha: str, model_sha: str) -> str:
        return f"{FEATURES_REPO}@{features_sha[:7]}+{MODEL_REPO}@{model_sha[:7]}"

    def tick(self) -> list[dg.RunRequest]:
        """One sensor tick (partitions added), without running anything."""
        requests, cursor = loop.plan(self.definitions, self.instance, sensor_name=COMMIT_SENSOR)
        self.requests, self.cursor = requests, cursor
        return requests

    def run_ticked(self) -> dict[str, loop.Evaluated]:
        """Run the last tick's requests, then save its cursor (as the loop does)."""
        done = loop.evaluate(self.definitions, self.instance, self.requests, lambda _: None)
        loop.save_cursor(self.instance, COMMIT_SENSOR, self.cursor)
        return {e.key: e for e in done}

    def materialization(self, asset: dg.AssetKey, key: str) -> dg.AssetMaterialization:
        found = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[key]), limit=1
        ).records
        assert found and found[0].asset_materialization is not None, f"{asset} {key}"
        return found[0].asset_materialization

    def all_materializations(self, asset: dg.AssetKey) -> list[dg.AssetMaterialization]:
        found = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset), limit=1000
        ).records
        return [r.asset_materialization for r in found if r.asset_materialization is not None]


def pipeline_config(location: dict[str, str], **stage: Any) -> dict[str, Any]:
    task = {
        **SHOP_PROJECT["tasks"][SHOP_TASK],
        "seeds": {"runs": 1},
        "pipeline": [
            {
                "repository": FEATURES_REPO,
                "requires": ["amount", "region"],
                "output": {"columns": OUTPUT},
                **stage,
            },
            {"repository": MODEL_REPO, "requires": ["amount_log", "west"]},
        ],
    }
    return {
        **SHOP_PROJECT,
        "tasks": {SHOP_TASK: task},
        "repositories": [
            {"name": FEATURES_REPO, "location": location[FEATURES_REPO],
             "entrypoint": "features:Features", "initial_history": 1},
            {"name": MODEL_REPO, "location": location[MODEL_REPO],
             "entrypoint": "model:Model", "initial_history": 1},
        ],
    }  # fmt: skip


@contextlib.contextmanager
def pipeline_environment(home: Path) -> Iterator[Pipeline]:
    """The project in ``home`` with one commit in each stage (nothing evaluated yet); the
    transform repository is read over ``git daemon``; the variables selecting the project
    stay set until the context ends."""
    served = home / "served"
    repos = {FEATURES_REPO: served / FEATURES_REPO, MODEL_REPO: home / MODEL_REPO}
    for path in repos.values():
        init_repository(path)
    shas = {
        FEATURES_REPO: [add_commit(repos[FEATURES_REPO], GOOD_FEATURES, timestamp=1_714_557_600)],
        MODEL_REPO: [
            add_commit(repos[MODEL_REPO], model("Logistic regression", 8), timestamp=1_714_561_200)
        ],
    }
    (home / "project").mkdir()
    (home / "project" / "shop_features.py").write_text(SHOP_FEATURES)
    store = LakeStore(str(home / "lake"))
    write_shop_features(store)
    (home / "dagster").mkdir()
    with git_daemon(served) as url:
        path = home / "project" / "clearlake.yaml"
        location = {FEATURES_REPO: f"{url}/{FEATURES_REPO}", MODEL_REPO: str(repos[MODEL_REPO])}
        path.write_text(yaml.safe_dump(pipeline_config(location)))
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
            yield Pipeline(home, project, store, instance, definitions, repos, shas)
            instance.dispose()
