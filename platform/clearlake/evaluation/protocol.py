"""The algorithm contract: what a candidate repository's entrypoint class must provide.

A repository registers ``entrypoint: module:Class``. Clearlake constructs
``Class(**parameters)`` (no arguments when the candidate has no parameters), calls
``fit(train)`` once on the training suite and ``predict(frame)`` once on the held-out
suite, in a separate process, at exactly the candidate's commit.

``train`` holds every column of :data:`clearlake.features.flight_features.FLIGHT_FEATURES_SCHEMA`
(target ``arr_delay`` included, never null). ``frame`` holds the same columns without the
target. ``predict`` returns one finite number per row, in row order (a list, a NumPy array
or a pandas Series).

>>> class MeanDelay:
...     def __init__(self) -> None:
...         self.mean = 0.0
...     def fit(self, train):
...         self.mean = float(train["arr_delay"].mean())
...     def predict(self, frame):
...         return [self.mean] * len(frame)
>>> isinstance(MeanDelay(), Algorithm)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

Predictions = Sequence[float] | np.ndarray[Any, Any] | pd.Series
TARGET = "arr_delay"


@runtime_checkable
class Algorithm(Protocol):
    """Fit on a training frame, predict on a frame (see the module docstring)."""

    def fit(self, train: pd.DataFrame) -> object: ...

    def predict(self, frame: pd.DataFrame) -> Predictions: ...
