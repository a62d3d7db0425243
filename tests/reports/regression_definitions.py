"""Stand-in evaluation outputs for the report tests, with the evaluation contract's keys,
columns and metadata, so the tests control the verdicts.

Per task (``clearlake.names``): ``candidate_comparison`` (blocking check
``no_significant_regression``: keys containing 'bad' regress for subgroup WN and fail it)
and ``candidate_predictions`` (regression: residuals in the task's unit; binary:
probabilities of the positive class). Stored by the real lake IO manager.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from clearlake.names import (
    REGRESSION_CHECK,
    candidate_partitions_name,
    comparison_key,
    evaluation_job,
    predictions_key,
)
from clearlake.orchestration.partitions import candidate_partitions

BASELINE = "delay_model@0000000"
METRICS = {"arrival_delay": ("mae", "rmse"), "late_arrival": ("roc_auc", "log_loss")}
KINDS = {"arrival_delay": ("carrier", "origin"), "late_arrival": ("dest", "sched_hour")}
GROUPS = {
    "carrier": ("AA", "B6", "DL", "WN"),
    "origin": ("EWR", "JFK", "LGA"),
    "dest": ("ATL", "ORD"),
    "sched_hour": ("[6, 9)", "[9, 12)"),
}


def comparison_frame(task: str, candidate: str) -> pd.DataFrame:
    """Deterministic: keys containing 'bad' regress (WN worst), others improve."""
    bad = "bad" in candidate
    rows = []
    for metric in METRICS[task]:
        groups = [("overall", "all")] + [(k, g) for k in KINDS[task] for g in GROUPS[k]]
        for i, (kind, name) in enumerate(groups):
            delta = (2.5 if name == "WN" else 0.5 + i / 10) * (1 if bad else -1)
            verdict = ("regressed" if bad else "improved") if kind != "overall" else "improved"
            if bad and kind == "overall":
                verdict = "no significant change"
            rows.append(
                {
                    "metric": metric,
                    "subgroup_kind": kind,
                    "subgroup": name,
                    "candidate_value": 10.0 + delta,
                    "baseline_value": 10.0,
                    "delta": delta,
                    "ci_low": delta - 0.3,
                    "ci_high": delta + 0.3,
                    "verdict": verdict,
                    "n_rows": 400,
                    "se": 0.15,
                    "seed_sd": 0.0,
                    "mde": 0.42,
                    "min_effect": 0.1,
                    "p_adjusted": 0.0004 if verdict != "no significant change" else 0.5,
                }
            )
    return pd.DataFrame(rows)


def predictions_frame(task: str, rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"row_id": [f"r{i}" for i in range(rows)]})
    for kind in KINDS[task]:
        frame[kind] = rng.choice(GROUPS[kind], size=rows)
    if task == "late_arrival":
        probability = rng.uniform(0.02, 0.98, size=rows)
        frame["actual"] = (rng.uniform(size=rows) < probability).astype(float)
        frame["prediction"] = probability
    else:
        frame["actual"] = rng.normal(5, 30, size=rows)
        frame["prediction"] = frame["actual"] + rng.normal(0, 10, size=rows)
    return frame


def evaluation_assets(task: str) -> list[dg.AssetsDefinition]:
    partitions = candidate_partitions(candidate_partitions_name(task))
    key = comparison_key(task)

    @dg.asset(key=predictions_key(task), partitions_def=partitions, group_name="evaluation")
    def predictions() -> pd.DataFrame:
        return predictions_frame(task)

    @dg.asset(
        key=key,
        partitions_def=partitions,
        group_name="evaluation",
        deps=[predictions_key(task)],
        check_specs=[dg.AssetCheckSpec(REGRESSION_CHECK, asset=key, blocking=True)],
    )
    def comparison(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
        frame = comparison_frame(task, context.partition_key)
        regressed = frame[frame["verdict"] == "regressed"]
        yield dg.Output(
            frame,
            metadata={
                "candidate": context.partition_key,
                "baseline": BASELINE,
                "overall_verdict": "improved" if regressed.empty else "no significant change",
                "regressions": ", ".join(
                    f"{m} for {k}={s}"
                    for m, k, s in regressed[["metric", "subgroup_kind", "subgroup"]].to_numpy()
                    if s == "WN"
                )
                or "none",
            },
        )
        yield dg.AssetCheckResult(check_name=REGRESSION_CHECK, passed=regressed.empty)

    return [predictions, comparison]


def evaluation_job_def(task: str) -> Any:
    """Predictions → comparison → the task's candidate reports, as the evaluation job does."""
    return dg.define_asset_job(
        evaluation_job(task),
        selection=dg.AssetSelection.tag("partitioned_by", "candidate")
        & dg.AssetSelection.tag("task", task)
        | dg.AssetSelection.assets(predictions_key(task), comparison_key(task)),
        partitions_def=candidate_partitions(candidate_partitions_name(task)),
        executor_def=dg.in_process_executor,
    )
