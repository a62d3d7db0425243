"""The built-in metric names a project may use, per task type (checked without evaluation)."""

from __future__ import annotations

from clearlake.project.builtin_metrics import builtin_metric_problem
from clearlake.project.config import TaskConfig

SUITES = {
    "train": {"start": "2024-01-01", "end": "2024-01-31"},
    "holdout": {"start": "2024-02-01", "end": "2024-02-28"},
}


def task(kind: str, metrics: list[str]) -> TaskConfig:
    return TaskConfig.model_validate(
        {"dataset": "d", "target": "y", "type": kind, "suites": SUITES, "metrics": metrics}
    )


def test_builtin_names_per_task_type() -> None:
    assert builtin_metric_problem(task("binary", ["roc_auc"]), "roc_auc") is None
    problem = builtin_metric_problem(task("regression", ["mae"]), "roc_auc")
    assert problem == (
        "'roc_auc' is not a built-in regression metric (built-in: mae, rmse, bias, r2)"
    )
