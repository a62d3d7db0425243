"""The flights example's demo repositories: real git repositories with a short history.

``flight-delays`` (task ``arrival_delay``): three commits tell the story continuous
evaluation is for:

1. a naive baseline (the training median of the arrival delay, whatever the flight);
2. a real model (gradient boosting on the departure delay, schedule, route and weather);
3. a well-meant change that quietly makes one subgroup worse (an offset for one carrier):
   overall it hides in the seed-to-seed noise (inconclusive), for that carrier it is a
   clear regression.

``late-features`` → ``late-arrivals`` (task ``late_arrival``, a two-stage pipeline owned by
two scientists): the feature stage cleans the departures into the model's inputs; the
model stage is a base rate, then a logistic regression. The feature stage's second commit
is a tidy-up that caps departure delays at 30 minutes: its output keeps the declared
schema, every run succeeds, the AUC barely moves, and the model downstream, which never
changed, now gives badly calibrated probabilities (log loss +7%). The gate blames the
stage that changed, ``late-features``, not the model.

Author and commit dates are fixed, so the commits have the same shas on every machine
and a second demo run finds nothing new to evaluate (``clearlake.yaml`` pins the feature
stage's reference to :data:`LATE_FEATURES_CHAMPION`, its first commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from clearlake.demo.repos import SampleCommit, add_commit, create_repository, init_repository

__all__ = [
    "LATE_COMMITS",
    "LATE_FEATURES_CHAMPION",
    "LATE_FEATURES_COMMITS",
    "SAMPLE_COMMITS",
    "SampleCommit",
    "add_commit",
    "create_demo_repositories",
    "create_sample_repository",
    "init_repository",
]


README = """# flight-delays

Predicts the arrival delay (minutes) of a flight when it departs. Evaluated by Clearlake
on every commit: `delay_model:DelayModel` implements `fit(train, seed)` / `predict(frame)`.
"""

NAIVE = '''"""Naive baseline: every flight arrives with the median delay seen in training."""

import numpy as np
import pandas as pd


class DelayModel:
    def __init__(self) -> None:
        self.median = 0.0

    def fit(self, train: pd.DataFrame, seed: int | None = None) -> None:
        self.median = float(train["arr_delay"].median())

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.full(len(frame), self.median)
'''

BOOSTING = '''"""Gradient boosting on what is known at departure (absolute-error loss, as MAE).

Each split looks at a random 80% of the features (``max_features``), drawn from the
platform's seed: two seeds give two slightly different models, which is what the gate's
seed runs and its A/A calibration measure.
"""

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
        self.params = dict(
            loss="absolute_error", max_iter=max_iter, learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes, categorical_features=CATEGORICAL, max_features=0.8,
        )
        self.model = HistGradientBoostingRegressor(**self.params)
        self.categories: dict[str, list[str]] = {}

    def _inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        inputs = frame[NUMERIC].astype(float).copy()
        inputs["dep_delay"] = inputs["dep_delay"].fillna(0.0)
        for column in CATEGORICAL:
            known = self.categories[column]
            values = frame[column].where(frame[column].isin(known))
            inputs[column] = pd.Categorical(values, categories=known)
        return inputs

    def fit(self, train: pd.DataFrame, seed: int | None = None) -> None:
        self.categories = {c: sorted(train[c].dropna().unique()) for c in CATEGORICAL}
        self.model = HistGradientBoostingRegressor(**self.params, random_state=seed)
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


def create_sample_repository(
    path: Path, commits: Sequence[SampleCommit] = SAMPLE_COMMITS
) -> list[str]:
    """The flight-delays repository (or complete it); the shas, oldest first."""
    return create_repository(path, commits)


LATE_README = """# late-arrivals

Predicts whether a flight arrives more than 15 minutes late, when it departs: the
probability of the positive class (`late`) for each row. Evaluated by Clearlake on every
commit: `late_model:LateModel` implements `fit(train, seed)` / `predict(frame)`.
"""

BASE_RATE = '''"""Base rate: every flight is late with the probability seen in training."""

import numpy as np


class LateModel:
    def __init__(self) -> None:
        self.rate = 0.5

    def fit(self, train, seed=None):
        self.rate = float(train["late"].mean())

    def predict(self, frame):
        return np.full(len(frame), self.rate)
'''

LOGISTIC = '''"""Logistic regression on the departure delay, the schedule and the distance.

The lbfgs solver is deterministic: the seed is taken (and passed on) but changes nothing,
so the gate measures zero seed spread instead of warning that the seed is ignored.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

COLUMNS = ["dep_delay", "sched_dep_hour", "distance"]


class LateModel:
    def __init__(self) -> None:
        self.model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))

    def _inputs(self, frame):
        return frame[COLUMNS].astype(float).fillna(0.0).to_numpy()

    def fit(self, train, seed=None):
        self.model.set_params(logisticregression__random_state=seed)
        self.model.fit(self._inputs(train), train["late"].astype(int))

    def predict(self, frame):
        return self.model.predict_proba(self._inputs(frame))[:, 1]
'''

LATE_COMMITS: tuple[SampleCommit, ...] = (
    SampleCommit(
        "Base rate: the training share of late arrivals",
        {"README.md": LATE_README, "late_model.py": BASE_RATE},
    ),
    SampleCommit(
        "Logistic regression on departure delay, schedule and distance",
        {"late_model.py": LOGISTIC},
    ),
)


LATE_FEATURES_README = """# late-features

The feature stage of the `late_arrival` pipeline: cleans the departures into the inputs of
the late-arrivals model. `features:LateFeatures` implements `fit(train, seed)` /
`transform(frame)`; its output columns are declared in the project's configuration
(`tasks.late_arrival.pipeline`), and Clearlake checks every commit's output against them.
"""

FEATURES = '''"""Departure features: the delay, the scheduled hour and the distance, gaps filled.

A departure delay is missing for a handful of flights (a diverted or re-timed departure);
it is filled with the training median, learnt in ``fit``, so train and test see the
same value.
"""

import pandas as pd


class LateFeatures:
    def __init__(self) -> None:
        self.fill = {"dep_delay": 0.0}

    def fit(self, train, seed=None):
        self.fill = {"dep_delay": float(train["dep_delay"].median())}

    def _delay(self, frame):
        return frame["dep_delay"].astype(float).fillna(self.fill["dep_delay"])

    def transform(self, frame):
        return pd.DataFrame(
            {
                "flight_id": frame["flight_id"],
                "dep_delay": self._delay(frame),
                "sched_dep_hour": frame["sched_dep_hour"].astype("int64"),
                "distance": frame["distance"].astype(float),
            }
        )
'''

CAPPED = FEATURES.replace(
    """    def _delay(self, frame):
        return frame["dep_delay"].astype(float).fillna(self.fill["dep_delay"])
""",
    """    def _delay(self, frame):
        # Tidy-up: a few hours-long delays dominated the column; cap them at half an hour.
        delay = frame["dep_delay"].astype(float).fillna(self.fill["dep_delay"])
        return delay.clip(-30.0, 30.0)
""",
)

LATE_FEATURES_COMMITS: tuple[SampleCommit, ...] = (
    SampleCommit(
        "Departure features: delay (gaps filled), scheduled hour, distance",
        {"README.md": LATE_FEATURES_README, "features.py": FEATURES},
    ),
    SampleCommit("Tidy up: cap departure delays at 30 minutes", {"features.py": CAPPED}),
)

LATE_FEATURES_CHAMPION = "18f5471328ba73c5e235ecd40a858274ec4353d8"
"""The feature stage's first commit: its reference (``policy: champion``) in the project's
configuration, the features every commit of the model stage is evaluated with."""


def create_demo_repositories(home: Path) -> None:
    """Every demo repository of the example, at the locations its configuration registers."""
    create_sample_repository(home / "repos" / "flight-delays")
    create_repository(home / "repos" / "late-features", LATE_FEATURES_COMMITS)
    create_repository(home / "repos" / "late-arrivals", LATE_COMMITS)
