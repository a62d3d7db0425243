"""The sample algorithm repository of the demo: a real git repository with a short history.

Three commits tell the story continuous evaluation is for:

1. a naive baseline (the training median of the arrival delay, whatever the flight);
2. a real model (gradient boosting on the departure delay, schedule, route and weather);
3. a well-meant change that quietly makes one subgroup worse (an offset for one carrier):
   overall it looks harmless, for that carrier it is a clear regression.

Author and commit dates are fixed, so the commits have the same shas on every machine
and a second demo run finds nothing new to evaluate.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearlake.errors import ClearlakeError

AUTHOR = ("Ada Scientist", "ada@clearlake.example")
FIRST_COMMIT_TIME = 1_714_557_600  # 2024-05-01T10:00:00Z


@dataclass(frozen=True)
class SampleCommit:
    message: str
    files: Mapping[str, str]
    deleted: Sequence[str] = field(default_factory=tuple)


README = """# flight-delays

Predicts the arrival delay (minutes) of a flight when it departs. Evaluated by Clearlake
on every commit: `delay_model:DelayModel` implements `fit(train)` / `predict(frame)`.
"""

NAIVE = '''"""Naive baseline: every flight arrives with the median delay seen in training."""

import numpy as np
import pandas as pd


class DelayModel:
    def __init__(self) -> None:
        self.median = 0.0

    def fit(self, train: pd.DataFrame) -> None:
        self.median = float(train["arr_delay"].median())

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.full(len(frame), self.median)
'''

BOOSTING = '''"""Gradient boosting on what is known at departure (absolute-error loss, as MAE)."""

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

NUMERIC = ["dep_delay", "sched_dep_hour", "day_of_week", "distance", "temp", "wind_speed",
           "precip", "visib"]
CATEGORICAL = ["carrier", "origin"]
CARRIER_OFFSETS: dict[str, float] = {}


class DelayModel:
    def __init__(self, max_iter: int = 60, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 15) -> None:
        self.model = HistGradientBoostingRegressor(
            loss="absolute_error", max_iter=max_iter, learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes, categorical_features=CATEGORICAL, random_state=0,
        )
        self.categories: dict[str, list[str]] = {}

    def _inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        inputs = frame[NUMERIC].astype(float).copy()
        inputs["dep_delay"] = inputs["dep_delay"].fillna(0.0)
        for column in CATEGORICAL:
            known = self.categories[column]
            values = frame[column].where(frame[column].isin(known))
            inputs[column] = pd.Categorical(values, categories=known)
        return inputs

    def fit(self, train: pd.DataFrame) -> None:
        self.categories = {c: sorted(train[c].dropna().unique()) for c in CATEGORICAL}
        self.model.fit(self._inputs(train), train["arr_delay"])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        predictions = self.model.predict(self._inputs(frame))
        offsets = frame["carrier"].map(CARRIER_OFFSETS).fillna(0.0).to_numpy()
        return predictions + offsets
'''

REGRESSING = BOOSTING.replace(
    "CARRIER_OFFSETS: dict[str, float] = {}",
    "# Southwest (WN) ran late all winter: nudge its arrivals later.\n"
    'CARRIER_OFFSETS: dict[str, float] = {"WN": 5.0}',
)

SAMPLE_COMMITS: tuple[SampleCommit, ...] = (
    SampleCommit(
        "Naive baseline: predict the training median delay",
        {"README.md": README, "delay_model.py": NAIVE},
    ),
    SampleCommit(
        "Gradient boosting on departure delay, schedule, route and weather",
        {"delay_model.py": BOOSTING},
    ),
    SampleCommit("Nudge Southwest (WN) arrivals later", {"delay_model.py": REGRESSING}),
)


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            f"user.name={AUTHOR[0]}",
            "-c",
            f"user.email={AUTHOR[1]}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise ClearlakeError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def init_repository(path: Path, *, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        _git(path, "init", "--quiet", f"--initial-branch={branch}")
    return path


def add_commit(
    path: Path, commit: SampleCommit, *, timestamp: int | None = None, branch: str | None = None
) -> str:
    """Write ``commit``'s files, commit them (at ``timestamp`` if given), return the sha."""
    if branch is not None:
        _git(path, "checkout", "--quiet", "-B", branch)
    for name, text in commit.files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for name in commit.deleted:
        (path / name).unlink(missing_ok=True)
    _git(path, "add", "--all")
    env = {}
    if timestamp is not None:
        env = {
            "GIT_AUTHOR_DATE": f"@{timestamp} +0000",
            "GIT_COMMITTER_DATE": f"@{timestamp} +0000",
        }
    _git(path, "commit", "--quiet", "--allow-empty", "-m", commit.message, env=env)
    return _git(path, "rev-parse", "HEAD")


def create_sample_repository(
    path: Path, commits: Sequence[SampleCommit] = SAMPLE_COMMITS
) -> list[str]:
    """Create (or complete) the sample repository; return the shas, oldest first.

    Commits already present (same messages, in order) are kept, so a second call changes
    nothing and the shas stay the same.
    """
    init_repository(path)
    existing = []
    if _git(path, "rev-list", "--all", "--max-count=1"):
        log = _git(path, "log", "--reverse", "--format=%H%x1f%s", "main")
        existing = [line.split("\x1f") for line in log.splitlines()]
    shas = []
    for index, commit in enumerate(commits):
        if index < len(existing) and existing[index][1] == commit.message:
            shas.append(existing[index][0])
            continue
        shas.append(add_commit(path, commit, timestamp=FIRST_COMMIT_TIME + index * 86_400))
    return shas
