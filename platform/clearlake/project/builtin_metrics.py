"""The names of the built-in metrics per task type: what a project may name without a
``function``.

The project checks a task's metrics against these names without importing the metrics
themselves (:mod:`clearlake.evaluation.metrics`, one layer above, implements each name and
a test holds the two registries equal), so the project package imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping

from clearlake.project.config import TaskConfig, TaskType

BUILTIN_METRICS: Mapping[TaskType, tuple[str, ...]] = {
    "regression": ("mae", "rmse", "bias", "r2"),
    "binary": ("roc_auc", "log_loss", "brier", "accuracy", "precision", "recall", "f1"),
    "multiclass": ("accuracy", "macro_f1", "log_loss"),
}


def builtin_metric_problem(task: TaskConfig, name: str) -> str | None:
    """Why ``name`` is not a built-in metric for ``task`` (``None`` when it is)."""
    names = BUILTIN_METRICS[task.type]
    if name in names:
        return None
    return f"{name!r} is not a built-in {task.type} metric (built-in: {', '.join(names)})"
