"""Metrics and the bootstrap behind every confidence interval.

Every metric is ``finish(mean(component(actual, prediction)))`` over rows: MAE is the mean
absolute error, RMSE the square root of the mean squared error, bias the absolute mean
error. That shape lets one set of resampled row indices serve every metric, and lets a
comparison resample the *same* rows for candidate and baseline (a paired bootstrap).

Resampling is seeded from the configured seed and the subgroup's identity only, so the
same inputs always give the same numbers, whatever else is computed alongside.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from clearlake.project.config import TaskConfig

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
CHUNK = 25
"""Bootstrap samples drawn at once (bounds memory at CHUNK x rows indices)."""


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    component: Callable[[FloatArray, FloatArray], FloatArray]
    finish: Callable[[FloatArray], FloatArray]
    lower_is_better: bool = True

    def value(self, actual: FloatArray, prediction: FloatArray) -> float:
        return float(self.finish(np.atleast_1d(self.component(actual, prediction).mean()))[0])


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("mae", "mean absolute error (minutes)", lambda a, p: np.abs(p - a), lambda m: m),
        Metric("rmse", "root mean squared error (minutes)", lambda a, p: (p - a) ** 2, np.sqrt),
        Metric("bias", "absolute mean error (minutes)", lambda a, p: p - a, np.abs),
    )
}


def builtin_metric_problem(task: TaskConfig, name: str) -> str | None:
    """Why ``name`` is not a built-in metric for ``task`` (``None`` when it is)."""
    # Placeholder registry until binary/multiclass metrics land (names only).
    names = {
        "regression": list(METRICS),
        "binary": ["roc_auc", "log_loss", "brier", "accuracy", "precision", "recall", "f1"],
        "multiclass": ["accuracy", "macro_f1", "log_loss"],
    }[task.type]
    if name in names:
        return None
    return f"{name!r} is not a built-in {task.type} metric (built-in: {', '.join(names)})"


def subgroup_seed(seed: int, kind: str, subgroup: str) -> np.random.SeedSequence:
    """A seed for one subgroup, stable across processes (no Python ``hash``)."""
    return np.random.SeedSequence([seed, zlib.crc32(kind.encode()), zlib.crc32(subgroup.encode())])


def resamples(
    rows: int, samples: int, seed: np.random.SeedSequence
) -> Iterator[np.ndarray[Any, Any]]:
    """Chunks of bootstrap row indices, ``(chunk, rows)`` each, ``samples`` rows in total."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < samples:
        size = min(CHUNK, samples - done)
        yield rng.integers(0, rows, size=(size, rows))
        done += size


def bootstrap_values(
    components: list[FloatArray],
    finish: list[Callable[[FloatArray], FloatArray]],
    *,
    samples: int,
    seed: np.random.SeedSequence,
) -> list[FloatArray]:
    """Bootstrap distribution of ``finish[i](mean(components[i]))`` for each i, same rows."""
    rows = len(components[0])
    out: list[list[FloatArray]] = [[] for _ in components]
    for index in resamples(rows, samples, seed):
        for i, (component, fin) in enumerate(zip(components, finish, strict=True)):
            out[i].append(fin(component[index].mean(axis=1)))
    return [np.concatenate(chunks) for chunks in out]
