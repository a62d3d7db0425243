"""The algorithm contract: what a candidate repository's entrypoint class must provide.

A repository registers ``entrypoint: module:Class`` and a task. Clearlake constructs
``Class(**parameters)`` (no arguments when the candidate has no parameters), calls
``fit(train)`` once on the task's training suite and ``predict(frame)`` once on its
held-out suite, in a separate process, at exactly the candidate's commit.

``train`` holds the task dataset's declared columns minus the task's ``exclude_columns``
(the target included, never null); ``frame`` holds the same columns without the target.
What ``predict`` returns depends on the task's type — in row order, one row per input row:

* ``regression``: one finite number per row (a list, a NumPy array or a pandas Series);
* ``binary``: the probability of the positive class, in [0, 1], per row (not a label:
  scores need probabilities; the task's ``threshold`` turns them into labels);
* ``multiclass``: a rows x classes DataFrame or 2-D array of probabilities (rows sum to
  1), one column per declared class — a DataFrame whose columns are the class names is
  reordered to the declared order; an array must already be in it.

Anything else (wrong length or shape, NaN, text, probabilities outside [0, 1]) fails that
candidate only, with a message naming what was expected.

**Seed.** Training randomness must come from the platform's seed: when ``fit`` takes a
``seed`` parameter it is called as ``fit(train, seed=<int>)`` (the task's ``seeds.seed``
for an evaluation, other seeds for the baseline's seed runs); Python's ``random``, NumPy's
global generator and ``PYTHONHASHSEED`` are seeded with it in every case. Pass it on
(``random_state=seed``). An algorithm whose ``fit`` takes no seed keeps working, but if its
runs come out identical under different seeds the platform cannot tell "deterministic"
from "fixes its own seed": its verdicts say that its training randomness was not measured,
naming the repository. A stochastic model that hard-codes ``random_state`` makes every
seed-only change look like a real one to the gate.

**Pipelines.** A task may declare ``pipeline:`` stages: transform repositories feeding a
model repository (the last stage, the contract above). A transform stage's class is
constructed as ``Class()``; an optional ``fit(train[, seed])`` receives the previous stage's
training frame WITH the target, then ``transform(frame) -> DataFrame`` is called on the
training frame and on the held-out frame, both WITHOUT the target, in a separate process at
exactly the stage's commit (:class:`TransformStage`). Its output must hold the task's
row-id column and exactly the columns declared in the stage's ``output.columns``, with
their declared types; a missing, extra or retyped column fails the candidate with
``stage <repo>@<sha7>: output column <col> …``. The next stage (or the model) receives that
output (for training, the target joined back by row id); actuals and subgroup columns
always come from the task's suite, joined by row id, never from a stage. Rows a stage
drops are not predicted.

>>> class MeanTarget:
...     def __init__(self, target: str = "y") -> None:
...         self.target, self.mean = target, 0.0
...     def fit(self, train, seed=None):
...         self.mean = float(train[self.target].mean())
...     def predict(self, frame):
...         return [self.mean] * len(frame)
>>> isinstance(MeanTarget(), Algorithm)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

Predictions = Sequence[float] | np.ndarray[Any, Any] | pd.Series | pd.DataFrame


@runtime_checkable
class Algorithm(Protocol):
    """Fit on a training frame, predict on a frame (see the module docstring)."""

    def fit(self, train: pd.DataFrame) -> object:
        """May also take ``seed: int`` (keyword), which the platform then passes."""
        ...

    def predict(self, frame: pd.DataFrame) -> Predictions: ...


@runtime_checkable
class TransformStage(Protocol):
    """A pipeline's transform stage (see the module docstring): ``fit`` is optional."""

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame: ...
